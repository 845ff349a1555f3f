// Package report turns result files into comparison tables: one run (Write)
// or two runs side by side (WriteCompare), as markdown, JSON or CSV.
//
// It follows golang.org/x/perf's benchstat: medians with order-statistic
// confidence intervals, a ratio to the task's reference implementation with a
// bootstrap interval, a Mann-Whitney U test before any "faster" or "slower"
// ("~" when the difference is not significant), and the statistics' warnings
// (too few samples, noisy, too short) printed as data under each table. All
// statistics come from package stats.
//
// A failed result, or one whose parity check failed, is shown as FAILED with
// its reason: it is never ranked, never given a ratio, and its timings are not
// shown in the markdown table (a fast wrong answer is not fast).
package report
