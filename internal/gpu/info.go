package gpu

// Info is what NVML says of the machine's GPUs.
type Info struct {
	Driver string `json:"driver_version,omitempty"`
	// CUDADriver is the newest CUDA version the driver supports ("13.0").
	CUDADriver string   `json:"cuda_driver_version,omitempty"`
	Devices    []Device `json:"devices"`
}

// Device is one GPU.
type Device struct {
	Index       int    `json:"index"`
	Name        string `json:"name"`
	MemoryBytes int64  `json:"memory_bytes,omitempty"`
}
