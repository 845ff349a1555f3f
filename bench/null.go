package bench

import "fmt"

// Null implementations measure what a language costs before any work: one
// per language (go-null, python-null, rust-null) for every task. Each reads
// the spec and every input with its language's protocol code (a regular
// file whole into memory, a directory listed; model weights are not loaded:
// that is the framework's work), times each of the task's phases around
// nothing, and writes a valid result without probes or metrics. Their wall
// time is the language's fixed cost per job (process start, the protocol
// code's imports, spec and result I/O, input reads); their phases the cost
// per repetition. They do no work, so parity does not apply: Run never
// judges them, and reports show them apart, never ranked or in a ratio.

// NullPhases are, per task, the phases a null implementation times: the
// task's own (docs/PROTOCOL.md). The orchestrator hands them over in the
// spec's "phases" parameter, so the null programs hold no task table.
var NullPhases = map[string][]string{
	"classical/linreg": {"load", "fit", "predict"},
	"classical/svm":    {"load", "fit", "predict"},
	"classical/kmeans": {"load", "fit", "predict"},
	"dl/cnn":           {"load", "train_epoch", "eval"},
	"llm/bert-qa":      {"load", "tokenize", "model", "postprocess"},
	"llm/gpt2":         {"load", "tokenize", "ttft", "per_token"},
}

// NullParam is the spec parameter that carries a null job's phases.
const NullParam = "phases"

// NullImpls are the null implementations, added to every task of
// NullPhases (see init).
var NullImpls = []ImplRef{
	{ID: "go-null", Launch: Launch{"go", ""}, Null: true},
	{ID: "python-null", Launch: Launch{"python", "null.py"}, Null: true},
	{ID: "rust-null", Launch: Launch{"rust", "null"}, Null: true},
}

// The null implementations are part of every task's list (last), so the
// default selection runs them: they take well under a second each, and a
// report without them could not say what a language costs by itself.
func init() {
	for _, t := range Tasks {
		if _, ok := NullPhases[t.ID]; ok {
			t.Impls = append(t.Impls, NullImpls...)
		}
	}
}

// IsNull says whether impl is a null implementation.
func IsNull(impl string) bool {
	for _, n := range NullImpls {
		if n.ID == impl {
			return true
		}
	}
	return false
}

// nullDetail is the one parity check of a null result.
const nullDetail = "null implementation: it does no work, so parity does not apply; a baseline of its language's fixed cost, never ranked"

// markNull states on a null implementation's result that parity does not
// apply; a failed one stays failed.
func markNull(r *Result) {
	r.Reference = ""
	if r.Status == StatusFailed {
		return
	}
	r.Status, r.Reason = StatusOK, ""
	if len(r.Probes) > 0 || len(r.Metrics) > 0 {
		r.Status, r.Reason = StatusFailed, fmt.Sprintf("a null implementation must not write probes or metrics (%d probes, %d metrics)", len(r.Probes), len(r.Metrics))
		return
	}
	r.Parity = &Parity{OK: true, Checks: []ParityCheck{{Name: "null", OK: true, Detail: nullDetail}}}
}
