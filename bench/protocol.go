package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/mlbench/mlbench/data"
	"github.com/mlbench/mlbench/internal/atomicfile"
)

// SchemaVersion is the version of the Spec and Result formats. Every
// implementation, in any language, writes it and every reader checks it.
const SchemaVersion = 1

// Spec is what the orchestrator hands one implementation: the task, the
// prepared input files, the parameters, the repetitions and the knobs. It is
// written as JSON to a file whose path is passed as `--spec PATH`.
type Spec struct {
	SchemaVersion int    `json:"schema_version"`
	Task          string `json:"task"`    // e.g. "classical/linreg"
	Variant       string `json:"variant"` // e.g. "n=100000"; "" when the task has one shape only
	Impl          string `json:"impl"`    // e.g. "go-gonum"
	Size          string `json:"size"`    // "quick" or "full"
	// Inputs maps a logical input name ("X", "y", "train_idx", "tokenizer"...)
	// to an absolute path of a prepared file.
	Inputs map[string]string `json:"inputs"`
	// Datasets describes the datasets the inputs come from; implementations
	// copy it into their result unchanged.
	Datasets []DatasetRef `json:"datasets"`
	// Params are the task's parameters (seed, k, epochs, lr, new_tokens...).
	// Numbers are JSON numbers; readers convert as needed.
	Params  map[string]any `json:"params"`
	Warmup  int            `json:"warmup"`
	Reps    int            `json:"reps"`
	Threads int            `json:"threads"`
	Device  string         `json:"device"` // "cpu" or "cuda"
	// ResultPath is where the implementation writes its Result (JSON).
	ResultPath string `json:"result_path"`
	// WorkDir is a scratch directory the implementation may use.
	WorkDir string `json:"work_dir"`
	// CheckpointDir outlives the process, unlike WorkDir. An implementation
	// that can go on with interrupted work keeps its state there, and when it
	// finds state left by an earlier process of the same job it goes on from
	// it (docs/PROTOCOL.md, "Checkpoints"). Implementations may ignore it.
	CheckpointDir string `json:"checkpoint_dir,omitempty"`
}

// DatasetRef is the dataset a result was made from (data.DatasetRef).
type DatasetRef = data.DatasetRef

// Result is what one implementation writes for one spec. The fields down to
// Errors are written by the implementation; the ones after are added by the
// orchestrator (Run).
type Result struct {
	SchemaVersion    int            `json:"schema_version"`
	Task             string         `json:"task"`
	Variant          string         `json:"variant"`
	Impl             string         `json:"impl"`
	Language         string         `json:"language"`
	LanguageVersion  string         `json:"language_version"`
	Framework        string         `json:"framework"`
	FrameworkVersion string         `json:"framework_version"`
	Params           map[string]any `json:"params"` // the parameters actually used
	Datasets         []DatasetRef   `json:"datasets"`
	Threads          int            `json:"threads"`
	Device           string         `json:"device"`
	// Phases maps a phase name ("load", "fit", "predict", "train_epoch",
	// "tokenize", "model", "postprocess", "ttft", "per_token"...) to one
	// duration in seconds per timed repetition (or per request/token), read
	// from a monotonic clock. Warm-up repetitions are not included.
	Phases map[string][]float64 `json:"phases"`
	// Metrics are quality metrics (r2, rmse, accuracy, inertia, ari, em, f1,
	// test_accuracy, tokens_per_s...). A metric that cannot be computed
	// honestly is left out and named in NotApplicable instead.
	Metrics       map[string]float64 `json:"metrics"`
	NotApplicable map[string]string  `json:"not_applicable,omitempty"` // metric -> why
	// Series holds per-step values worth keeping (per-epoch loss...).
	Series map[string][]float64 `json:"series,omitempty"`
	// Probes are the small fixed outputs compared with the reference.
	Probes map[string][]float64 `json:"probes"`
	// PeakRSSBytes as measured by the implementation itself (0 if unknown).
	SelfPeakRSSBytes int64    `json:"self_peak_rss_bytes,omitempty"`
	Notes            []string `json:"notes,omitempty"`
	Errors           []string `json:"errors,omitempty"`
	// ResumedFrom is written by an implementation that went on from state
	// an earlier process left in Spec.CheckpointDir, and says from where
	// ("rep 1 of 1, epoch 4 of 10"). Empty when one process did all the work.
	ResumedFrom string `json:"resumed_from,omitempty"`

	// ---- filled by the orchestrator ----
	Status  Status   `json:"status"`
	Reason  string   `json:"reason,omitempty"`
	Command []string `json:"command,omitempty"`
	Env     []string `json:"env,omitempty"` // the thread knobs that were set
	// WallSeconds, CPUSeconds, StartedAt and Samples are those of the
	// process that wrote the result; EarlierParts has the others.
	WallSeconds float64 `json:"wall_seconds,omitempty"`
	// PeakRSSBytes is the larger of the sampled peak of the whole process
	// tree and the implementation's own peak (VmHWM), over every part.
	PeakRSSBytes int64 `json:"peak_rss_bytes,omitempty"`
	// EarlierParts are the processes of this job that ended without a
	// result (killed at the timeout, crashed) and left the checkpoint the
	// result went on from, oldest first. Empty when ResumedFrom is.
	EarlierParts []Part `json:"earlier_parts,omitempty"`
	// Wait4MaxRSSBytes is ru_maxrss from wait4: the largest process of the
	// tree, but on Linux it also counts the orchestrator's own resident set
	// at the time of exec, so it is only an upper bound.
	Wait4MaxRSSBytes int64    `json:"wait4_maxrss_bytes,omitempty"`
	CPUSeconds       float64  `json:"cpu_seconds,omitempty"` // user+sys from wait4
	Parity           *Parity  `json:"parity,omitempty"`
	Samples          []Sample `json:"samples,omitempty"`
	// PeakGPUMemBytes is the largest GPU memory of the job's processes
	// over the GPU samples (NVML, every part); 0 when no GPU was sampled or
	// the job used none. GPUSamples are those of the process that wrote the
	// result; GPUError says why GPU sampling stopped, if it did.
	PeakGPUMemBytes int64       `json:"peak_gpu_mem_bytes,omitempty"`
	GPUSamples      []GPUSample `json:"gpu_samples,omitempty"`
	GPUError        string      `json:"gpu_error,omitempty"`
	StartedAt       string      `json:"started_at,omitempty"`
	Stderr          string      `json:"stderr_tail,omitempty"`
	Reference       string      `json:"reference,omitempty"` // impl id the parity was judged against
	Size            string      `json:"size,omitempty"`
	Host            *HostInfo   `json:"host,omitempty"`
	// Machine is what the rest of the machine did while the job ran (see
	// Result.Disturbed).
	Machine *Machine `json:"machine,omitempty"`
	// Reps and Warmup are the repetitions the spec asked for; --resume
	// reuses only a result made with the same.
	Reps   int `json:"reps,omitempty"`
	Warmup int `json:"warmup,omitempty"`
	// Rounds is the number of processes (--order alternate or shuffle) the
	// result was merged from; 0 for one. WallSeconds and CPUSeconds are
	// their sums.
	Rounds int `json:"rounds,omitempty"`
}

// Part is one process of a job made in several: it ended without a result
// but left state in the job's checkpoint directory for the next to go on from.
type Part struct {
	StartedAt    string  `json:"started_at"`
	WallSeconds  float64 `json:"wall_seconds"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	// PeakGPUMemBytes: as Result's (0 when no GPU was sampled).
	PeakGPUMemBytes int64  `json:"peak_gpu_mem_bytes,omitempty"`
	Reason          string `json:"reason"` // why it ended without a result
}

// HostInfo is the little the result needs to say about the machine.
type HostInfo struct {
	// Name is the host name: two nodes of a cluster may have the same CPU,
	// cores and memory and still be two machines.
	Name   string  `json:"name,omitempty"`
	CPU    string  `json:"cpu"`
	Cores  int     `json:"cores"`
	MemGiB float64 `json:"mem_gib"`
	OS     string  `json:"os"`
	// GPUs are the NVIDIA GPUs NVML sees ("NVIDIA H100 80GB HBM3, driver
	// 580.95.05"); none without a GPU or driver.
	GPUs []string `json:"gpus,omitempty"`
	// ISA are the CPU's vector extensions that decide which kernels MKL,
	// oneDNN, OpenBLAS and ONNX Runtime pick (sse4_2, avx2, fma, avx512f,
	// amx_tile...), as /proc/cpuinfo names them; see sysinfo.ISA.
	ISA []string `json:"isa,omitempty"`
	// BLAS names the BLAS and oneDNN builds the frameworks run on (torch's,
	// which libtorch for Go and Rust shares, and NumPy's), one line each.
	BLAS []string `json:"blas,omitempty"`
	// Limits are the memory bandwidth and GEMM throughput measured at the
	// start of the run (mlbench run --calibrate); nil when not measured.
	Limits *Limits `json:"limits,omitempty"`
}

// Status of one result.
type Status string

const (
	StatusOK     Status = "ok"
	StatusFailed Status = "failed"
	// StatusUnverified: the implementation ran and passed every parity
	// check that could be made, but says (not_applicable) that it cannot
	// produce what another check needs, e.g. smartcore's KMeans cannot
	// start from given centres. Shown with its reason, never ranked or
	// given a ratio, and not a failure for the exit status.
	StatusUnverified Status = "unverified"
)

// Sample is one reading of the process tree's resident memory and CPU.
type Sample struct {
	T      float64 `json:"t"`       // seconds since start
	RSS    int64   `json:"rss"`     // bytes, whole process tree
	CPUSec float64 `json:"cpu_sec"` // cumulative user+sys of the tree
}

// Parity is the verdict of comparing a result with its task's reference.
type Parity struct {
	OK bool `json:"ok"`
	// Unverified: not OK only because of checks the implementation cannot
	// take (Unverified checks); every other check passed.
	Unverified bool          `json:"unverified,omitempty"`
	Checks     []ParityCheck `json:"checks"`
}

// ParityCheck is one comparison.
type ParityCheck struct {
	Name  string  `json:"name"`
	OK    bool    `json:"ok"`
	Value float64 `json:"value"` // the measured difference (or agreement)
	Limit float64 `json:"limit"`
	// Measured is false when nothing could be compared (a probe or metric
	// missing, shapes differing); Detail then says why.
	Measured bool `json:"measured,omitempty"`
	// Unverified: nothing was compared because the implementation says
	// the value cannot be produced by it (not_applicable).
	Unverified bool   `json:"unverified,omitempty"`
	Detail     string `json:"detail"`
}

// ReadSpec reads and validates a spec file.
func ReadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	var s Spec
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("spec %s: malformed JSON: %v", path, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("spec %s: %w", path, err)
	}
	return &s, nil
}

// Validate checks the fields every implementation relies on.
func (s *Spec) Validate() error {
	switch {
	case s.SchemaVersion != SchemaVersion:
		return fmt.Errorf("schema_version %d, want %d", s.SchemaVersion, SchemaVersion)
	case s.Task == "":
		return errors.New("task is empty")
	case s.Impl == "":
		return errors.New("impl is empty")
	case s.Reps < 1:
		return fmt.Errorf("reps %d < 1", s.Reps)
	case s.Warmup < 0:
		return fmt.Errorf("warmup %d < 0", s.Warmup)
	case s.Threads < 1:
		return fmt.Errorf("threads %d < 1", s.Threads)
	case s.Device != "cpu" && s.Device != "cuda":
		return fmt.Errorf("device %q: want cpu or cuda", s.Device)
	case s.ResultPath == "":
		return errors.New("result_path is empty")
	}
	return nil
}

// DecodeResult parses and validates a result written by an implementation.
func DecodeResult(b []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("invalid result JSON: %v", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// MaxPhaseSeconds bounds one timed phase: a year. No run lasts that long, and
// with the bound the statistics of phases (sums, ratios) cannot overflow.
const MaxPhaseSeconds = 365 * 24 * 3600

// Validate checks a result as written by an implementation: the schema
// version, the identity fields, and that every timing and metric is a finite
// number (NaN or Inf anywhere makes the result invalid) and every timing is
// within [0, MaxPhaseSeconds].
func (r *Result) Validate() error {
	if r.SchemaVersion != SchemaVersion {
		return fmt.Errorf("invalid result: schema_version %d, want %d", r.SchemaVersion, SchemaVersion)
	}
	for name, v := range map[string]string{"task": r.Task, "impl": r.Impl, "language": r.Language, "framework": r.Framework} {
		if v == "" {
			return fmt.Errorf("invalid result: %s is empty", name)
		}
	}
	if len(r.Errors) == 0 && len(r.Phases) == 0 {
		return errors.New("invalid result: no phases timed")
	}
	for _, k := range sortedKeys(r.Phases) {
		for i, v := range r.Phases[k] {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > MaxPhaseSeconds {
				return fmt.Errorf("invalid result: phase %s[%d] = %v", k, i, v)
			}
		}
	}
	for _, k := range sortedKeys(r.Metrics) {
		if v := r.Metrics[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("invalid result: metric %s = %v", k, v)
		}
	}
	for _, k := range sortedKeys(r.Probes) {
		for i, v := range r.Probes[k] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("invalid result: probe %s[%d] = %v", k, i, v)
			}
		}
	}
	return nil
}

// WriteJSONAtomic writes v as indented JSON to path atomically
// (atomicfile.WriteJSON): a reader never sees a partial file and a crash
// leaves no file at all.
func WriteJSONAtomic(path string, v any) error { return atomicfile.WriteJSON(path, v) }

// WriteFileAtomic writes b to path atomically (atomicfile.WriteFile).
func WriteFileAtomic(path string, b []byte) error { return atomicfile.WriteFile(path, b) }

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
