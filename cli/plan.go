package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/pipeline"
	"github.com/mlbench/mlbench/report"
)

// plan and merge are the commands the Nextflow pipeline (main.nf) calls.

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "print the jobs a pipeline fans out for a selection: one per task, with its reference and implementations",
		Description: "Each job is one `mlbench run` on one node (its run_args select it), so every ratio compares " +
			"results made on the same machine. The selection works as in `run`.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "task", Value: "*", Usage: "task glob, as in `run`"},
			&cli.StringFlag{Name: "impl", Value: "*", Usage: "implementation glob, as in `run`"},
			&cli.StringFlag{Name: "size", Value: bench.SizeQuick, Usage: "quick, full or sweep"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return fmt.Errorf("unexpected argument %q (use --task and --impl)", c.Args().First())
			}
			f := c.String("format")
			if f != "text" && f != "json" {
				return fmt.Errorf("--format %q: want text or json", f)
			}
			p, err := pipeline.MakePlan(bench.Tasks, bench.Selection{Task: c.String("task"), Impl: c.String("impl")}, c.String("size"))
			if err != nil {
				return err
			}
			if f == "text" {
				return p.WriteText(c.App.Writer)
			}
			b, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(c.App.Writer, string(b))
			return err
		},
	}
}

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "merge the results directories of several runs (the pipeline's jobs) into one, and print its report",
		ArgsUsage: "OUT DIR...",
		Description: "OUT gets every result of every DIR and a run.json that lists each job with its host. With --plan, " +
			"a planned job without a result (its pipeline job failed on every attempt) is recorded as failed, with " +
			"the reason from --failures when there is one. The DIRs must share size, threads, device, reps and " +
			"warm-ups. The exit status is 0 when every result passed, 3 when some failed.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "plan", Usage: "the plan (`mlbench plan --format json`) the results were made for"},
			&cli.StringFlag{Name: "failures", Usage: "folder of the pipeline's failure records (*.failure.json)"},
			formatFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return fmt.Errorf("merge needs OUT and the results directories to merge")
			}
			f, err := report.ParseFormat(c.String("format"))
			if err != nil {
				return err
			}
			o := pipeline.MergeOptions{Out: c.Args().First(), Dirs: c.Args().Tail(), Failures: c.String("failures"),
				Command: os.Args, Now: time.Now()}
			if path := c.String("plan"); path != "" {
				b, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("--plan: %v", err)
				}
				o.Plan = &pipeline.Plan{}
				if err := json.Unmarshal(b, o.Plan); err != nil || o.Plan.Version != pipeline.PlanVersion {
					return fmt.Errorf("--plan %s: not a plan of this mlbench (plan_version %d, want %d; %v)", path, o.Plan.Version, pipeline.PlanVersion, err)
				}
			}
			_, results, err := pipeline.Merge(o)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "merged %d results into %s\n", len(results), o.Out)
			page, err := writeHTMLPage(o.Out, results, "")
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "HTML report: %s\n", page)
			if err := report.Write(c.App.Writer, results, f); err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				if r.Status == bench.StatusFailed { // unverified is not a failure
					failed++
				}
			}
			if failed > 0 {
				return cli.Exit(fmt.Sprintf("%d of %d results failed (see %s)", failed, len(results), o.Out), ExitFailed)
			}
			return nil
		},
	}
}
