//go:build !libtorch

// Command embed needs package torch built with libtorch: see main.go.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "embed: built without the libtorch tag: go build -tags libtorch (see go doc github.com/mlbench/mlbench/torch)")
	os.Exit(1)
}
