// Package cli is the mlbench command line: it parses flags, calls the
// packages that do the work (data, bench, report, sysinfo) and prints. It
// holds no benchmark logic of its own.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// Exit codes.
const (
	ExitError  = 1 // bad input, missing data, anything that stopped the command
	ExitFailed = 3 // `run` finished, but some results failed
	// ExitInterrupted: `run` was stopped (SIGINT, SIGTERM) before its last
	// job ended; --resume goes on with it.
	ExitInterrupted = 130
)

// Main runs the CLI with args (args[0] is the program name) and returns the
// process exit code. Errors are printed as one line on stderr.
func Main(args []string, stdout, stderr io.Writer) int {
	app := New(stdout, stderr)
	if err := app.Run(interspersed(app, args)); err != nil {
		var ec cli.ExitCoder
		code := ExitError
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		if msg := strings.TrimSpace(err.Error()); msg != "" {
			fmt.Fprintln(stderr, "mlbench: "+oneLine(msg))
		}
		return code
	}
	return 0
}

// New builds the application; tests inject the writers.
func New(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "mlbench",
		Usage: "compare Go, Python and Rust ML stacks on the same work, data and machine",
		Description: "mlbench prepares the datasets, runs every implementation of each task under the same " +
			"rules (threads, inputs, repetitions), checks that they computed the same thing, and reports " +
			"medians with confidence intervals and ratios against the reference implementation.",
		Version:   Version(),
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Usage: "repository root (default: found from the current directory or the binary)", EnvVars: []string{"MLBENCH_ROOT"}},
		},
		Commands: []*cli.Command{
			envCommand(), dataCommand(), modelsCommand(), listCommand(), runCommand(), reportCommand(), compareCommand(), workerCommand(),
			planCommand(), mergeCommand(),
		},
		HideHelpCommand: true,
		// Errors are printed once, by Main.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%v (see --help)", err)
		},
	}
	refuseStrayArgs(app.Commands)
	return app
}

// refuseStrayArgs makes every command that takes no arguments (no
// ArgsUsage) refuse them, so that a mistyped flag value is never ignored.
func refuseStrayArgs(cmds []*cli.Command) {
	for _, c := range cmds {
		refuseStrayArgs(c.Subcommands)
		if c.Action == nil || c.ArgsUsage != "" {
			continue
		}
		before := c.Before
		c.Before = func(ctx *cli.Context) error {
			if ctx.Args().Present() {
				return fmt.Errorf("unexpected argument %q (see --help)", ctx.Args().First())
			}
			if before != nil {
				return before(ctx)
			}
			return nil
		}
	}
}

// paths of a checkout.
type paths struct {
	Root, Data, Models, Results, Python, RustBin string
}

func resolvePaths(c *cli.Context) (paths, error) {
	root := c.String("root")
	if root == "" {
		root = findRoot()
	}
	if root == "" {
		return paths{}, errors.New("cannot find the mlbench checkout: run from inside it or pass --root")
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return paths{}, err
	}
	p := paths{
		Root:    root,
		Data:    filepath.Join(root, "data", "processed"),
		Models:  filepath.Join(root, "data", "models"),
		Results: filepath.Join(root, "results"),
		Python:  filepath.Join(root, ".venv", "bin", "python"),
		RustBin: filepath.Join(root, "bin"),
	}
	if v := os.Getenv("MLBENCH_PYTHON"); v != "" {
		p.Python = v
	}
	if v := os.Getenv("MLBENCH_MODELS"); v != "" {
		p.Models = v // another models directory (the test fixtures' checkpoints)
	}
	return p, nil
}

// findRoot walks up from the working directory, then from the binary's
// folder, to the directory whose go.mod declares this module.
func findRoot() string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			starts = append(starts, filepath.Dir(exe))
		}
	}
	for _, d := range starts {
		for {
			b, err := os.ReadFile(filepath.Join(d, "go.mod"))
			if err == nil && strings.Contains(string(b), "module github.com/mlbench/mlbench\n") {
				return d
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return ""
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
