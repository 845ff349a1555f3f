// Package impls registers the Go implementations of the benchmark tasks
// with bench/worker. Importing it for its side effects (as cmd/mlbench
// does) makes them available to `mlbench worker`.
package impls
