package bench

// Limits are the machine's limits measured at the start of a run (mlbench
// run --calibrate, mlbench env --measure) with the run's threads: what the
// report divides each implementation's achieved rate by.
type Limits struct {
	Threads int `json:"threads"`
	// Bandwidth is memory bandwidth in bytes per second.
	Bandwidth Measure `json:"bandwidth"`
	// GEMM is fp32 matrix multiplication throughput in FLOP per second
	// (2 n^3 per n x n product).
	GEMM Measure `json:"gemm"`
	// MeasuredAt is when the measurement ended (RFC 3339, UTC).
	MeasuredAt string `json:"measured_at"`
}

// Measure is one measured limit: the best of Repeats tries, and how.
type Measure struct {
	Value   float64 `json:"value"`
	Repeats int     `json:"repeats"`
	// Kernel says what ran ("STREAM triad, Go, 2 goroutines, 3 x 256 MiB
	// float64", "torch 2.11.0 mm 2048x2048 fp32 (MKL)").
	Kernel string `json:"kernel"`
}
