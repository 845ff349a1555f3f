// Package stats summarises benchmark timings without assuming normality:
// medians with order-statistic confidence intervals and the Mann-Whitney U
// test come from golang.org/x/perf/benchmath (what benchstat uses); the ratio
// of two medians gets a percentile-bootstrap interval with a fixed seed, so the
// same inputs always give the same report. Warnings are returned as data.
package stats
