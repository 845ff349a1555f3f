package bench

import "time"

// GPUMonitor reads the machine's GPUs for the sampler that runs beside the
// RSS sampler (internal/gpu implements it over NVML). Config.GPU nil means
// no GPU is sampled: a machine without a GPU or driver records nothing.
type GPUMonitor interface {
	// Read returns one reading of every GPU.
	Read() ([]GPUReading, error)
}

// GPUReading is one GPU at one moment.
type GPUReading struct {
	Index     int
	UsedBytes int64 // memory used on the device by every process (and the driver)
	// UtilPct is the percentage of the driver's last sample period in which
	// a kernel ran on the device (NVML's utilization.gpu); -1 when unknown.
	UtilPct int
	// ProcBytes is the memory each process (by PID, as the driver sees
	// PIDs) has on the device.
	ProcBytes map[int]int64
}

// GPUSample is what the result keeps of one GPU reading: the job's own
// memory on the GPUs and how busy the GPUs it used were.
type GPUSample struct {
	T float64 `json:"t"` // seconds since start
	// MemBytes is the GPU memory of the job's processes, summed over GPUs.
	MemBytes int64 `json:"mem_bytes"`
	// DeviceMemBytes is the memory used on those GPUs by every process
	// (on a cuda run where none of the job's processes was found: on all GPUs).
	DeviceMemBytes int64 `json:"device_mem_bytes"`
	// UtilPct is the highest utilisation of those GPUs; -1 when unknown.
	UtilPct int `json:"util_pct"`
}

// gpuSampler turns readings into samples for one process group.
type gpuSampler struct {
	mon    GPUMonitor
	always bool // keep device-level samples even when the job has no memory on a GPU (cuda runs)
	start  time.Time
	peak   int64
	out    []GPUSample
	err    error // the first read error; sampling stops there
}

// sample reads the GPUs once and keeps a sample when the job (the process
// IDs in pids) uses a GPU, or always on a cuda run.
func (g *gpuSampler) sample(pids map[int]bool) {
	if g == nil || g.mon == nil || g.err != nil {
		return
	}
	rs, err := g.mon.Read()
	if err != nil {
		g.err = err
		return
	}
	s := GPUSample{T: time.Since(g.start).Seconds(), UtilPct: -1}
	var allUsed int64
	allUtil := -1
	used := false
	for _, r := range rs {
		allUsed += r.UsedBytes
		allUtil = max(allUtil, r.UtilPct)
		var mine int64
		has := false
		for pid, b := range r.ProcBytes {
			if pids[pid] {
				mine, has = mine+b, true
			}
		}
		if !has {
			continue
		}
		used = true
		s.MemBytes += mine
		s.DeviceMemBytes += r.UsedBytes
		s.UtilPct = max(s.UtilPct, r.UtilPct)
	}
	if !used {
		if !g.always || len(rs) == 0 {
			return
		}
		s.DeviceMemBytes, s.UtilPct = allUsed, allUtil
	}
	g.peak = max(g.peak, s.MemBytes)
	g.out = append(g.out, s)
}
