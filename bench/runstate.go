package bench

import (
	"fmt"
	"path/filepath"
)

// runState is what Run knows between steps: each job's finished rounds,
// which jobs are done, the reference results, and the results that wait
// for their case's reference before their parity can be judged (only
// when the reference is split into rounds that end after theirs).
type runState struct {
	cfg        Config
	jobs       []Job
	parts      [][]*Result
	done       []bool
	refPlanned map[string]bool
	refs       map[string]*Result // task+variant -> reference result
	pending    map[string][]*Result
	out        []*Result
	// stopped: the run was stopped during a job; a reference killed so
	// judges nothing.
	stopped bool
}

func newRunState(cfg Config, jobs []Job) *runState {
	st := &runState{cfg: cfg, jobs: jobs, parts: make([][]*Result, len(jobs)), done: make([]bool, len(jobs)),
		refPlanned: map[string]bool{}, refs: map[string]*Result{}, pending: map[string][]*Result{}}
	for _, j := range jobs {
		if j.Impl.ID == j.Task.Reference {
			st.refPlanned[caseKeyOf(j)] = true
		}
	}
	return st
}

func caseKeyOf(j Job) string { return j.Task.ID + "\x00" + j.Case.Variant }

// finish records the final result r of job i: a reference result makes the
// results waiting for it judged; another is judged now when it can be.
func (st *runState) finish(i int, r *Result) error {
	st.done[i] = true
	j := st.jobs[i]
	key := caseKeyOf(j)
	switch {
	case j.Impl.Null:
		markNull(r)
	case j.Impl.ID == j.Task.Reference:
		st.refs[key] = r
		if r.Status == StatusOK {
			r.Parity = &Parity{OK: true, Checks: []ParityCheck{{Name: "reference", OK: true, Detail: "this is the reference implementation"}}}
		}
		if err := st.store(r); err != nil {
			return err
		}
		if st.stopped && r.Status != StatusOK {
			return nil // interrupted() stores what waits for it
		}
		waiting := st.pending[key]
		delete(st.pending, key)
		for _, w := range waiting {
			judge(j.Task, st.cfg.Size, w, r)
			if err := st.store(w); err != nil {
				return err
			}
		}
		return nil
	case r.Status == StatusOK || r.Status == StatusUnverified:
		if _, ok := st.refs[key]; !ok && st.refPlanned[key] {
			st.pending[key] = append(st.pending[key], r)
			return nil
		}
		judge(j.Task, st.cfg.Size, r, st.refs[key])
	}
	return st.store(r)
}

// store writes r atomically into the run's directory and reports it.
func (st *runState) store(r *Result) error {
	if err := WriteJSONAtomic(filepath.Join(st.cfg.OutDir, ResultFileName(r)), r); err != nil {
		return fmt.Errorf("store result: %w", err)
	}
	st.out = append(st.out, r)
	if st.cfg.OnResult != nil {
		st.cfg.OnResult(r, len(st.out)-1, len(st.jobs))
	}
	return nil
}

// interrupted stores the results still waiting for a reference that the
// stopped run will not finish, as failed (a later --resume runs them
// again), and returns every result stored.
func (st *runState) interrupted() []*Result {
	for _, rs := range st.pending {
		for _, r := range rs {
			r.Status, r.Reason = StatusFailed, "interrupted: the run was stopped before the reference's last round, so parity could not be judged"
			_ = st.store(r)
		}
	}
	st.pending = map[string][]*Result{}
	return st.out
}

// judge sets r's parity against ref (nil: none) and its status from it. A
// reused result is judged again.
func judge(t *Task, size string, r, ref *Result) {
	r.Status, r.Reason = StatusOK, ""
	r.Reference = t.Reference
	r.Parity = JudgeParity(t, size, r, ref)
	switch {
	case r.Parity.Unverified:
		r.Status = StatusUnverified
		r.Reason = "parity not verifiable: " + firstFailure(r.Parity)
	case !r.Parity.OK:
		r.Status = StatusFailed
		r.Reason = "parity: " + firstFailure(r.Parity)
	}
}

// reusable is the stored result of j when cfg.Resume is set and that result
// passed with this run's size, threads, device, repetitions and warm-ups;
// nil otherwise (a result that does not record its repetitions is not
// reused: it cannot show that it was made like the rest of this run).
func reusable(cfg Config, j Job) *Result {
	if !cfg.Resume {
		return nil
	}
	var r Result
	if err := readJSON(filepath.Join(cfg.OutDir, jobFileName(j)), &r); err != nil {
		return nil
	}
	d := repetitions(cfg, j)
	if r.Status != StatusOK && r.Status != StatusUnverified || r.Task != j.Task.ID || r.Variant != j.Case.Variant || r.Impl != j.Impl.ID ||
		r.Size != cfg.Size || r.Threads != cfg.Threads || r.Device != cfg.Device ||
		r.Reps != d.Reps || r.Warmup != d.Warmup {
		return nil
	}
	r.Parity = nil
	return &r
}

func firstFailure(p *Parity) string {
	for _, c := range p.Checks {
		if !c.OK {
			if c.Measured {
				return fmt.Sprintf("%s = %.3g (limit %.3g): %s", c.Name, c.Value, c.Limit, c.Detail)
			}
			return fmt.Sprintf("%s: %s", c.Name, c.Detail)
		}
	}
	return "failed"
}
