// Command mlbench compares Go, Python and Rust ML stacks on the same work,
// data and machine. See the README and `mlbench --help`.
package main

import (
	"os"

	"github.com/mlbench/mlbench/cli"
	_ "github.com/mlbench/mlbench/internal/impls" // registers the Go implementations
)

func main() {
	os.Exit(cli.Main(os.Args, os.Stdout, os.Stderr))
}
