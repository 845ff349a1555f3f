package bench

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Sizes a run can have (and SizeSweep, sweep.go).
const (
	SizeQuick = "quick"
	SizeFull  = "full"
)

// Launch says how an implementation is started: a Go worker in this binary,
// a Python script of reference/python, or a Rust binary of reference/rust.
type Launch struct {
	Kind    string // "go", "python" or "rust"
	Program string // script file name (python) or binary name (rust); "" for go
}

// ImplRef is one implementation of a task.
type ImplRef struct {
	ID     string
	Launch Launch
	// Null marks a null implementation (bench/null.go): it does no work,
	// so parity does not apply and it is never ranked or given a ratio.
	Null bool
}

// Language of the implementation, from its launcher.
func (i ImplRef) Language() string { return i.Launch.Kind }

// Case is one (task, variant) with its concrete inputs and parameters.
type Case struct {
	Variant string
	// Inputs maps an input name to a path relative to the prepared-data
	// directory ("data:" prefix) or to the models directory ("models:").
	Inputs   map[string]string
	Datasets []string // dataset names whose meta.json goes into the spec
	Params   map[string]any
}

// Defaults per size.
type Defaults struct {
	Warmup, Reps int
}

// Task is one benchmark task: its implementations, cases per size, parity
// rules and defaults. Tasks know file names and parameters, never frameworks.
type Task struct {
	ID        string
	Work      string
	Reference string // implementation id whose result the others must match
	Impls     []ImplRef
	Cases     func(size string) []Case
	Parity    []Rule
	Quick     Defaults
	Full      Defaults
	Sweep     Defaults // repetitions of the sweep cases (SizeSweep)
	// ModelMeta names a models-dir meta.json whose "trained" flag is copied
	// into the spec params (LLM tasks), "" if none.
	ModelMeta string
}

// Impl returns the implementation with the given id.
func (t *Task) Impl(id string) (ImplRef, bool) {
	for _, i := range t.Impls {
		if i.ID == id {
			return i, true
		}
	}
	return ImplRef{}, false
}

// Defaults for size.
func (t *Task) Defaults(size string) Defaults {
	switch size {
	case SizeFull:
		return t.Full
	case SizeSweep:
		return t.Sweep
	}
	return t.Quick
}

func py(id, script string) ImplRef { return ImplRef{ID: id, Launch: Launch{"python", script}} }
func rs(id, bin string) ImplRef    { return ImplRef{ID: id, Launch: Launch{"rust", bin}} }
func goImpl(id string) ImplRef     { return ImplRef{ID: id, Launch: Launch{"go", ""}} }

// goTorch is a Go implementation on libtorch. It runs in its own binary,
// bin/mlbench-torch, so that the other Go implementations and the
// orchestrator do not carry libtorch's resident memory (over 300 MiB once
// linked: it would inflate their peak RSS and, through exec, wait4's).
func goTorch(id string) ImplRef { return ImplRef{ID: id, Launch: Launch{"go", TorchWorker}} }

// TorchWorker is the binary, in the Rust/Go binaries folder, that runs the
// Go implementations on libtorch.
const TorchWorker = "mlbench-torch"

func in(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// CIFAR-10 per-channel mean and standard deviation of the training set
// (the values torchvision's CIFAR-10 examples use).
var (
	cifarMean = []any{0.4914, 0.4822, 0.4465}
	cifarStd  = []any{0.2470, 0.2435, 0.2616}
)

// Tasks is the registry, in display order.
var Tasks = []*Task{
	{
		ID:        "classical/linreg",
		Work:      "OLS with intercept, fit + predict, California Housing",
		Reference: "python-sklearn",
		Impls: []ImplRef{py("python-sklearn", "classical.py"), rs("rust-linfa", "classical-linfa"),
			rs("rust-smartcore", "classical-smartcore"), goImpl("go-gonum")},
		Cases: func(size string) []Case {
			if size == SizeSweep {
				return nil // no sweep
			}
			reps := []int{1}
			if size == SizeFull {
				reps = []int{1, 10}
			}
			var cs []Case
			for _, r := range reps {
				cs = append(cs, Case{
					Variant:  fmt.Sprintf("replicate=%d", r),
					Inputs:   in("X", "data:california_housing/X.npy", "y", "data:california_housing/y.npy", "train_idx", "data:california_housing/train_idx.npy", "test_idx", "data:california_housing/test_idx.npy"),
					Datasets: []string{"california_housing"},
					Params:   map[string]any{"replicate": r},
				})
			}
			return cs
		},
		Parity: []Rule{
			{Kind: ProbeMaxRel, Key: "coef", Limit: 1e-6},
			{Kind: ProbeMaxRel, Key: "pred_first20", Limit: 1e-6},
		},
		Quick: Defaults{Warmup: 1, Reps: 7},
		Full:  Defaults{Warmup: 2, Reps: 15},
	},
	{
		ID:        "classical/svm",
		Work:      "linear SVC, C=1, one-vs-one, fit + predict, Digits",
		Reference: "python-sklearn",
		Impls: []ImplRef{py("python-sklearn", "classical.py"), rs("rust-linfa", "classical-linfa"),
			rs("rust-smartcore", "classical-smartcore"), goImpl("go-gonum")},
		Cases: func(size string) []Case {
			if size == SizeSweep {
				return nil // no sweep
			}
			return []Case{{
				Inputs:   in("X", "data:digits/X.npy", "y", "data:digits/y.npy", "train_idx", "data:digits/train_idx.npy", "test_idx", "data:digits/test_idx.npy"),
				Datasets: []string{"digits"},
				Params:   map[string]any{"C": 1.0, "tol": 1e-3, "kernel": "linear"},
			}}
		},
		Parity: []Rule{
			{Kind: ProbeAgree, Key: "test_pred", Limit: 0.99},
			{Kind: MetricAbs, Key: "accuracy", Limit: 0.01},
		},
		Quick: Defaults{Warmup: 1, Reps: 7},
		Full:  Defaults{Warmup: 2, Reps: 15},
	},
	{
		ID:        "classical/kmeans",
		Work:      "k-means, k=8, k-means++ init, seed 42, blobs",
		Reference: "python-sklearn",
		Impls: []ImplRef{py("python-sklearn", "classical.py"), rs("rust-linfa", "classical-linfa"),
			rs("rust-smartcore", "classical-smartcore"), goImpl("go-gonum")},
		Cases: func(size string) []Case {
			if size == SizeSweep {
				return nil // no sweep
			}
			ns := []int{10000}
			if size == SizeFull {
				ns = []int{1000, 10000, 100000, 1000000}
			}
			var cs []Case
			for _, n := range ns {
				dir := fmt.Sprintf("data:blobs/n%d/", n)
				cs = append(cs, Case{
					Variant:  fmt.Sprintf("n=%d", n),
					Inputs:   in("X", dir+"X.npy", "y", dir+"y.npy", "init", dir+"init.npy"),
					Datasets: []string{fmt.Sprintf("blobs/n%d", n)},
					Params:   map[string]any{"k": 8, "seed": 42, "max_iter": 300, "tol": 1e-4, "n_init": 1},
				})
			}
			return cs
		},
		// Parity: every implementation fits once more, untimed, from the
		// same stored k-means++ centres (init.npy); from the same start
		// Lloyd must reach the same inertia. The timed fits use each
		// library's own seeded k-means++, whose draws differ between
		// libraries and may end in another local optimum: their inertia
		// and ARI are reported as quality, not judged.
		Parity: []Rule{{Kind: MetricRel, Key: "inertia_shared_init", Limit: 0.01}},
		Quick:  Defaults{Warmup: 1, Reps: 7},
		Full:   Defaults{Warmup: 1, Reps: 7},
	},
	{
		ID:        "dl/cnn",
		Work:      "train the seed CNN, Adam lr 1e-3, batch 64, CIFAR-10",
		Reference: "python-pytorch",
		Impls: []ImplRef{py("python-pytorch", "cnn.py"), rs("rust-tch", "cnn-tch"), rs("rust-candle", "cnn-candle"),
			rs("rust-burn", "cnn-burn"), goTorch("go-libtorch")},
		Cases: func(size string) []Case {
			if size == SizeSweep {
				return cnnSweepCases()
			}
			epochs, order := 1, "data:cifar10/order_quick.npy"
			if size == SizeFull {
				epochs, order = 10, "data:cifar10/order_full.npy"
			}
			return []Case{{
				Inputs: in("train_x", "data:cifar10/train_x.npy", "train_y", "data:cifar10/train_y.npy",
					"test_x", "data:cifar10/test_x.npy", "test_y", "data:cifar10/test_y.npy",
					"order", order, "init", "data:cifar10/init.safetensors"),
				Datasets: []string{"cifar10"},
				Params: map[string]any{"epochs": epochs, "batch_size": 64, "lr": 1e-3,
					"mean": cifarMean, "std": cifarStd, "seed": 0},
			}}
		},
		Parity: []Rule{
			{Kind: ProbeMaxRel, Key: "loss_steps", Index: []int{0, 9}, Limit: 1e-3},
			{Kind: MetricAbs, Key: "test_accuracy", Limit: 0.02, OnlySize: SizeFull},
		},
		Quick: Defaults{Warmup: 0, Reps: 1},
		Full:  Defaults{Warmup: 0, Reps: 1},
		Sweep: Defaults{Warmup: 1, Reps: 3},
	},
	{
		ID:        "llm/bert-qa",
		Work:      "extractive QA, batch 1, max 384 tokens, stride 128, SQuAD 2.0 dev",
		Reference: "python-transformers",
		Impls: []ImplRef{py("python-transformers", "llm_transformers.py"), py("python-ort", "llm_ort.py"),
			rs("rust-ort", "llm-ort"), rs("rust-candle", "llm-candle"), rs("rust-tch", "llm-tch"),
			goImpl("go-ort"), goTorch("go-libtorch")},
		Cases: func(size string) []Case {
			if size == SizeSweep {
				return bertSweepCases()
			}
			limit := 200
			if size == SizeFull {
				limit = 0 // every question
			}
			return []Case{{
				Inputs: in("model_dir", "models:bert-qa", "tokenizer", "models:bert-qa/tokenizer.json",
					"squad", "data:squad_v2_dev/dev-v2.0.json"),
				Datasets: []string{"squad_v2_dev"},
				Params: map[string]any{"max_length": 384, "stride": 128, "n_best": 20,
					"max_answer_length": 30, "limit": limit},
			}}
		},
		Parity: []Rule{
			{Kind: ProbeMaxAbs, Key: "start_logits", Limit: 1e-3},
			{Kind: ProbeMaxAbs, Key: "end_logits", Limit: 1e-3},
			// Trained weights: the same answer text for every question
			// (the "answers" probe hashes it) and the same scores.
			{Kind: ProbeAgree, Key: "answers", Limit: 1.0, OnlyIfParam: "trained", NotSize: SizeSweep},
			{Kind: MetricAbs, Key: "em", Limit: 0.1, OnlyIfParam: "trained", NotSize: SizeSweep},
			{Kind: MetricAbs, Key: "f1", Limit: 0.1, OnlyIfParam: "trained", NotSize: SizeSweep},
		},
		Quick:     Defaults{Warmup: 0, Reps: 1},
		Full:      Defaults{Warmup: 0, Reps: 1},
		Sweep:     Defaults{Warmup: 1, Reps: 2},
		ModelMeta: "bert-qa/meta.json",
	},
	{
		ID:        "llm/gpt2",
		Work:      "greedy generation of 150 new tokens with a KV cache, prompts file",
		Reference: "python-transformers",
		Impls: []ImplRef{py("python-transformers", "llm_transformers.py"), py("python-ort", "llm_ort.py"),
			rs("rust-ort", "llm-ort"), rs("rust-candle", "llm-candle"), rs("rust-tch", "llm-tch"),
			goImpl("go-ort"), goTorch("go-libtorch")},
		Cases: func(size string) []Case {
			if size == SizeSweep {
				return gpt2SweepCases()
			}
			limit := 5
			if size == SizeFull {
				limit = 0 // every prompt
			}
			return []Case{{
				Inputs: in("model_dir", "models:gpt2", "tokenizer", "models:gpt2/tokenizer.json",
					"prompts", "data:prompts/prompts.json"),
				Datasets: []string{"prompts"},
				Params:   map[string]any{"new_tokens": 150, "limit": limit},
			}}
		},
		Parity: []Rule{
			{Kind: ProbeMaxAbs, Key: "gen_logits", Limit: 1e-3},
			{Kind: ProbeSame, Key: "tokens", OnlyIfParam: "trained", Margins: "token_margins", Tie: 1e-4, NotSize: SizeSweep},
		},
		Quick:     Defaults{Warmup: 0, Reps: 1},
		Full:      Defaults{Warmup: 0, Reps: 1},
		Sweep:     Defaults{Warmup: 1, Reps: 1},
		ModelMeta: "gpt2/meta.json",
	},
}

// LookupTask returns the task with id.
func LookupTask(id string) (*Task, error) {
	for _, t := range Tasks {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, fmt.Errorf("unknown task %q (known: %s)", id, strings.Join(TaskIDs(), ", "))
}

// TaskIDs lists the task ids.
func TaskIDs() []string {
	ids := make([]string, len(Tasks))
	for i, t := range Tasks {
		ids[i] = t.ID
	}
	return ids
}

// ImplIDs lists every implementation id of every task, sorted, unique.
func ImplIDs() []string {
	seen := map[string]bool{}
	for _, t := range Tasks {
		for _, i := range t.Impls {
			seen[i.ID] = true
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Selection is a task pattern and an implementation pattern, as given to
// `run`: each a glob or a comma-separated list of globs.
type Selection struct {
	Task, Impl string
}

// Pattern is a parsed selection pattern: a comma-separated list of globs.
// In a glob `*` matches any run of characters, `/` included (so the default
// "*" selects every task), `?` one character and `[...]` a class as in
// path.Match.
type Pattern struct {
	text  string
	globs []*regexp.Regexp
}

// ParsePattern parses s; an empty s means "*". An empty list element or a
// malformed class is an error.
func ParsePattern(s string) (Pattern, error) {
	s = or(strings.TrimSpace(s), "*")
	p := Pattern{text: s}
	for _, g := range strings.Split(s, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			return Pattern{}, fmt.Errorf("bad pattern %q: empty element in the list", s)
		}
		re, err := globRegexp(g)
		if err != nil {
			return Pattern{}, fmt.Errorf("bad pattern %q: %v", g, err)
		}
		p.globs = append(p.globs, re)
	}
	return p, nil
}

// Match reports whether id matches one of the pattern's globs.
func (p Pattern) Match(id string) bool {
	for _, re := range p.globs {
		if re.MatchString(id) {
			return true
		}
	}
	return false
}

func (p Pattern) String() string { return p.text }

// globRegexp translates one glob into an anchored regular expression.
func globRegexp(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(g[i+1:], ']')
			if j < 0 {
				return nil, errors.New("unterminated [")
			}
			class := g[i+1 : i+1+j]
			if class == "" || class == "^" {
				return nil, errors.New("empty [] class")
			}
			if class[0] == '!' {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		case '\\':
			if i+1 == len(g) {
				return nil, errors.New("trailing backslash")
			}
			i++
			b.WriteString(regexp.QuoteMeta(g[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// Select returns the (task, impls) pairs a selection names. A pattern that
// matches nothing is an error, so a typo never runs an empty suite.
func Select(tasks []*Task, sel Selection) ([]*Task, map[string][]ImplRef, error) {
	tp, err := ParsePattern(sel.Task)
	if err != nil {
		return nil, nil, err
	}
	ip, err := ParsePattern(sel.Impl)
	if err != nil {
		return nil, nil, err
	}
	var ts []*Task
	impls := map[string][]ImplRef{}
	for _, t := range tasks {
		if !tp.Match(t.ID) {
			continue
		}
		var is []ImplRef
		for _, i := range t.Impls {
			if ip.Match(i.ID) {
				is = append(is, i)
			}
		}
		if len(is) > 0 {
			ts = append(ts, t)
			impls[t.ID] = is
		}
	}
	if len(ts) == 0 {
		return nil, nil, fmt.Errorf("no task matches --task %q with --impl %q (tasks: %s; implementations: %s)",
			tp, ip, strings.Join(TaskIDs(), ", "), strings.Join(ImplIDs(), ", "))
	}
	return ts, impls, nil
}

// SelectVariants keeps the jobs whose case variant ("batch=8"; "" for a
// task's single case) matches pattern (ParsePattern; "*" keeps all). No job
// left is an error naming the variants there were.
func SelectVariants(jobs []Job, pattern string) ([]Job, error) {
	vp, err := ParsePattern(pattern)
	if err != nil {
		return nil, err
	}
	var out []Job
	var seen []string
	for _, j := range jobs {
		if vp.Match(j.Case.Variant) {
			out = append(out, j)
		}
		if j.Case.Variant != "" && !slices.Contains(seen, j.Case.Variant) {
			seen = append(seen, j.Case.Variant)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no case matches --variant %q (variants of the selection: %s)", vp, or(strings.Join(seen, ", "), "none"))
	}
	return out, nil
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
