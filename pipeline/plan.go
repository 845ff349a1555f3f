// Package pipeline is the Go side of the Nextflow pipeline (main.nf) that
// fans the benchmark matrix out over machines: the plan of jobs it runs, made
// by the same selection logic as `mlbench run`, and the merge of the results
// directories those jobs write into one.
//
// One job of the plan is one task with its reference and the selected
// implementations, run as one `mlbench run` on one node: a ratio is honest
// only when the reference and the implementation ran on the same machine.
package pipeline

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/mlbench/mlbench/bench"
)

// PlanVersion is the version of the plan's JSON format, which main.nf reads.
const PlanVersion = 1

// Plan is the list of jobs the pipeline fans out for one selection.
type Plan struct {
	Version int    `json:"plan_version"`
	Task    string `json:"task"` // the selection, as given
	Impl    string `json:"impl"`
	Size    string `json:"size"`
	Jobs    []Job  `json:"jobs"`
}

// Job is one pipeline job: one task, every case of it for the size, its
// reference and the selected implementations, as one `mlbench run`.
type Job struct {
	// Name is unique in the plan and safe as a file name and a Nextflow tag.
	Name      string   `json:"name"`
	Task      string   `json:"task"`
	Reference string   `json:"reference"`
	Impls     []string `json:"impls"` // the reference first, as `run` runs them
	Variants  []string `json:"variants"`
	// Datasets are the names `mlbench data prepare --dataset` takes for
	// this job's inputs (a node that prepares its own data needs these).
	Datasets []string `json:"datasets"`
	// Args are the arguments of `mlbench run` that select exactly this job
	// (the pipeline adds the size, repetitions, threads, device and --out).
	Args []string `json:"run_args"`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// MakePlan expands a selection into pipeline jobs with bench.Select and
// bench.Plan, the functions `mlbench run` uses, so the pipeline runs what
// a local `mlbench run` of the same selection would. Each job's run
// arguments are checked to select exactly that job's implementations.
func MakePlan(tasks []*bench.Task, sel bench.Selection, size string) (*Plan, error) {
	if err := bench.CheckSize(size); err != nil {
		return nil, err
	}
	ts, impls, err := bench.Select(tasks, sel)
	if err != nil {
		return nil, err
	}
	p := &Plan{Version: PlanVersion, Task: sel.Task, Impl: sel.Impl, Size: size}
	for _, t := range ts {
		if len(t.Cases(size)) == 0 {
			continue // no case at this size (the sweep of a task without one)
		}
		j, err := planJob(tasks, t, impls[t.ID], sel, size)
		if err != nil {
			return nil, err
		}
		p.Jobs = append(p.Jobs, j)
	}
	return p, nil
}

func planJob(all []*bench.Task, t *bench.Task, impls []bench.ImplRef, sel bench.Selection, size string) (Job, error) {
	j := Job{Name: unsafeName.ReplaceAllString(strings.ReplaceAll(t.ID, "/", "_"), "_"),
		Task: t.ID, Reference: t.Reference}
	for _, bj := range bench.Plan([]*bench.Task{t}, map[string][]bench.ImplRef{t.ID: impls}, size) {
		if !slices.Contains(j.Impls, bj.Impl.ID) {
			j.Impls = append(j.Impls, bj.Impl.ID)
		}
		if !slices.Contains(j.Variants, bj.Case.Variant) {
			j.Variants = append(j.Variants, bj.Case.Variant)
		}
		for _, d := range bj.Case.Datasets {
			if !slices.Contains(j.Datasets, d) {
				j.Datasets = append(j.Datasets, d)
			}
		}
	}
	// The task id, which has no glob characters, and the selection's own
	// implementation pattern: implementations are matched one by one, so
	// this selects the same ones for this task as the whole selection did.
	j.Args = []string{"--task", t.ID, "--impl", sel.Impl}
	if sel.Impl == "" {
		j.Args[3] = "*"
	}
	got, gotImpls, err := bench.Select(all, bench.Selection{Task: t.ID, Impl: j.Args[3]})
	if err != nil || len(got) != 1 || got[0] != t || !sameIDs(gotImpls[t.ID], impls) {
		return Job{}, fmt.Errorf("plan: `run --task %s --impl %s` would not select the planned implementations of %s", t.ID, j.Args[3], t.ID)
	}
	return j, nil
}

func sameIDs(a, b []bench.ImplRef) bool {
	return slices.EqualFunc(a, b, func(x, y bench.ImplRef) bool { return x.ID == y.ID })
}

// WriteText prints the plan as a table, one job per line.
func (p *Plan) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tTASK\tIMPLEMENTATIONS\tCASES\tDATASETS")
	for _, j := range p.Jobs {
		cases := strings.Join(j.Variants, ", ")
		if cases == "" {
			cases = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.Name, j.Task, strings.Join(j.Impls, ", "), cases, strings.Join(j.Datasets, ", "))
	}
	return tw.Flush()
}
