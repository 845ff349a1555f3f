package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/report"
)

// FailureSuffix names a failure record: what the pipeline knows of a job
// that ended without results on its last attempt (main.nf writes one).
const FailureSuffix = ".failure.json"

// Failure is a failure record, <job name>.failure.json.
type Failure struct {
	Job     string `json:"job"`
	Task    string `json:"task"`
	Attempt int    `json:"attempt"`
	Exit    int    `json:"exit_status"`
	Host    string `json:"host"`
	At      string `json:"at"`
	Message string `json:"message"` // the last lines `mlbench run` printed on stderr
}

// MergeOptions says what Merge merges.
type MergeOptions struct {
	Out  string   // the merged results directory; replaced as a whole
	Dirs []string // results directories of `mlbench run`, one per job
	// Plan, when set, lists the jobs that should have results: each planned
	// (task, case, implementation) without a result, and not skipped as not
	// runnable on its node, becomes a failed result.
	Plan *Plan
	// Failures, when set, is a directory of failure records that say why a
	// job has no results.
	Failures string
	Command  []string
	Now      time.Time
}

// Merged is the run.json of a merged directory.
type Merged struct {
	Command  []string `json:"command"`
	MergedAt string   `json:"merged_at"`
	Size     string   `json:"size"`
	Threads  int      `json:"threads"`
	Device   string   `json:"device"`
	Reps     int      `json:"reps"`   // 0: the tasks' defaults
	Warmup   int      `json:"warmup"` // < 0: the tasks' defaults
	// Jobs is every result, each with the host that made it.
	Jobs    []MergedJob       `json:"jobs"`
	Skipped map[string]string `json:"skipped,omitempty"`
	// Parts are the run.json files of the merged directories, as they were.
	Parts []Part `json:"parts"`
}

// MergedJob is one result of a merged directory.
type MergedJob struct {
	Task    string          `json:"task"`
	Variant string          `json:"variant,omitempty"`
	Impl    string          `json:"impl"`
	Status  bench.Status    `json:"status"`
	Reason  string          `json:"reason,omitempty"`
	Host    *bench.HostInfo `json:"host,omitempty"`
	Part    int             `json:"part"` // index in Parts; -1 when no part made it
	File    string          `json:"file"`
}

// Part is one merged results directory.
type Part struct {
	Dir string          `json:"dir"`
	Run json.RawMessage `json:"run"`
}

// runSettings is what Merge reads of a part's run.json (written by `run`).
type runSettings struct {
	Size    string            `json:"size"`
	Threads int               `json:"threads"`
	Device  string            `json:"device"`
	Reps    int               `json:"reps"`
	Warmup  int               `json:"warmup"`
	Skipped map[string]string `json:"skipped"`
}

func (s runSettings) String() string {
	return fmt.Sprintf("--size %s --threads %d --device %s --reps %d --warmup %d", s.Size, s.Threads, s.Device, s.Reps, s.Warmup)
}

// Merge makes one results directory out of several: every result of every
// directory (a result present in two is an error), a failed result for each
// planned job that has none, and a run.json listing every job with its
// host. The directories must have been made with the same settings. Out is
// written beside itself and renamed into place, so it is never partial.
func Merge(o MergeOptions) (*Merged, []*bench.Result, error) {
	if len(o.Dirs) == 0 && o.Plan == nil {
		return nil, nil, errors.New("merge: no results directories")
	}
	m := &Merged{Command: o.Command, MergedAt: o.Now.UTC().Format(time.RFC3339), Warmup: -1}
	var results []*bench.Result
	from := map[string]string{} // result file -> directory
	var first string
	for i, dir := range o.Dirs {
		raw, set, err := readRun(dir)
		if err != nil {
			return nil, nil, err
		}
		if first == "" {
			first, m.Size, m.Threads, m.Device, m.Reps, m.Warmup = dir, set.Size, set.Threads, set.Device, set.Reps, set.Warmup
		} else if s := (runSettings{Size: m.Size, Threads: m.Threads, Device: m.Device, Reps: m.Reps, Warmup: m.Warmup}); s.String() != set.String() {
			return nil, nil, fmt.Errorf("merge: %s was run with %s, %s with %s", first, s, dir, set)
		}
		for k, v := range set.Skipped {
			if m.Skipped == nil {
				m.Skipped = map[string]string{}
			}
			m.Skipped[k] = v
		}
		where := dir // a pipeline stages each job's directory as a link
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			where = real
		}
		m.Parts = append(m.Parts, Part{Dir: where, Run: raw})
		rs, err := report.Load(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("merge: %v", err)
		}
		for _, r := range rs {
			f := bench.ResultFileName(r)
			if d, ok := from[f]; ok {
				return nil, nil, fmt.Errorf("merge: %s %s %s has a result in both %s and %s", r.Task, r.Variant, r.Impl, d, dir)
			}
			from[f] = dir
			results = append(results, r)
			m.Jobs = append(m.Jobs, MergedJob{Task: r.Task, Variant: r.Variant, Impl: r.Impl, Status: r.Status,
				Reason: r.Reason, Host: r.Host, Part: i, File: f})
		}
	}
	if o.Plan != nil {
		missing, err := missingResults(o, m, from)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range missing {
			results = append(results, r)
			m.Jobs = append(m.Jobs, MergedJob{Task: r.Task, Variant: r.Variant, Impl: r.Impl, Status: r.Status,
				Reason: r.Reason, Part: -1, File: bench.ResultFileName(r)})
		}
	}
	if len(results) == 0 {
		return nil, nil, errors.New("merge: no results and no planned jobs")
	}
	if err := writeDir(o.Out, m, results); err != nil {
		return nil, nil, err
	}
	// What the caller reports is what is on disk, in the report's order.
	results, err := report.Load(o.Out)
	if err != nil {
		return nil, nil, fmt.Errorf("merge: %v", err)
	}
	return m, results, nil
}

func readRun(dir string) (json.RawMessage, runSettings, error) {
	var s runSettings
	path := filepath.Join(dir, "run.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, s, fmt.Errorf("merge: %s is not the results directory of a finished `mlbench run` (%v)", dir, err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, s, fmt.Errorf("merge: %s: %v", path, err)
	}
	if s.Size == "" || s.Device == "" || s.Threads < 1 {
		return nil, s, fmt.Errorf("merge: %s has no size, device or threads: not a run.json of `mlbench run`", path)
	}
	return json.RawMessage(b), s, nil
}

// missingResults makes a failed result for every planned (task, case,
// implementation) that has no result and was not skipped as not runnable.
func missingResults(o MergeOptions, m *Merged, have map[string]string) ([]*bench.Result, error) {
	fails, err := readFailures(o.Failures)
	if err != nil {
		return nil, err
	}
	if o.Plan.Size != "" && m.Size != "" && o.Plan.Size != m.Size {
		return nil, fmt.Errorf("merge: the plan is for --size %s, the results for --size %s", o.Plan.Size, m.Size)
	}
	if m.Size == "" {
		m.Size = o.Plan.Size
	}
	var out []*bench.Result
	for _, j := range o.Plan.Jobs {
		t, err := bench.LookupTask(j.Task)
		if err != nil {
			return nil, fmt.Errorf("merge: plan job %s: %v", j.Name, err)
		}
		reason := "no result: pipeline job " + j.Name + " ended without results on every attempt " +
			"(killed, timed out or its node was lost; see the Nextflow log)"
		if f, ok := fails[j.Name]; ok {
			reason = fmt.Sprintf("no result: pipeline job %s failed on attempt %d on %s (exit status %d): %s",
				j.Name, f.Attempt, f.Host, f.Exit, f.Message)
		}
		for _, v := range j.Variants {
			for _, id := range j.Impls {
				r := &bench.Result{SchemaVersion: bench.SchemaVersion, Task: j.Task, Variant: v, Impl: id,
					Size: m.Size, Threads: m.Threads, Device: m.Device, Status: bench.StatusFailed, Reason: reason}
				if _, ok := have[bench.ResultFileName(r)]; ok {
					continue
				}
				if _, ok := m.Skipped[j.Task+" "+id]; ok {
					continue
				}
				if impl, ok := t.Impl(id); ok {
					r.Language = impl.Language()
				}
				if id != t.Reference {
					r.Reference = t.Reference
				}
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func readFailures(dir string) (map[string]Failure, error) {
	out := map[string]Failure{}
	if dir == "" {
		return out, nil
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil // no job failed
	}
	if err != nil {
		return nil, fmt.Errorf("merge: failure records: %v", err)
	}
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), FailureSuffix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("merge: %v", err)
		}
		var f Failure
		if err := json.Unmarshal(b, &f); err != nil || f.Job == "" {
			return nil, fmt.Errorf("merge: %s is not a failure record (%v)", path, err)
		}
		f.Message = strings.Join(strings.Fields(f.Message), " ")
		out[f.Job] = f
	}
	return out, nil
}

// writeDir writes the merged directory next to out, then puts it in out's
// place. An existing out is replaced only when it is a merged directory.
func writeDir(out string, m *Merged, results []*bench.Result) error {
	if out == "" {
		return errors.New("merge: no output directory")
	}
	out = filepath.Clean(out)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("merge: %v", err)
	}
	old := ""
	if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
		var prev Merged
		b, err := os.ReadFile(filepath.Join(out, "run.json"))
		if err != nil || json.Unmarshal(b, &prev) != nil || prev.MergedAt == "" {
			return fmt.Errorf("merge: %s is not empty and not a merged results directory: refusing to replace it", out)
		}
		old = out
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("merge: %v", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".merge-*")
	if err != nil {
		return fmt.Errorf("merge: %v", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("merge: %v", err)
	}
	for _, r := range results {
		if err := bench.WriteJSONAtomic(filepath.Join(tmp, bench.ResultFileName(r)), r); err != nil {
			return fmt.Errorf("merge: %v", err)
		}
	}
	if err := bench.WriteJSONAtomic(filepath.Join(tmp, "run.json"), m); err != nil {
		return fmt.Errorf("merge: %v", err)
	}
	if old == "" {
		os.Remove(out) // an empty directory
		if err := os.Rename(tmp, out); err != nil {
			return fmt.Errorf("merge: %v", err)
		}
		done = true
		return nil
	}
	trash := tmp + ".old"
	if err := os.Rename(old, trash); err != nil {
		return fmt.Errorf("merge: %v", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Rename(trash, old) // put the earlier merge back
		return fmt.Errorf("merge: %v", err)
	}
	done = true
	return os.RemoveAll(trash)
}
