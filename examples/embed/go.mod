module github.com/mlbench/mlbench/examples/embed

go 1.26.8

require github.com/mlbench/mlbench v0.0.0

replace github.com/mlbench/mlbench => ../..
