package sysinfo

import (
	"encoding/json"
	"os"

	"github.com/mlbench/mlbench/internal/gpu"
)

// GPUEnv is the GPU part of `mlbench env`.
type GPUEnv struct {
	Devices    []gpu.Device `json:"devices"`
	Driver     string       `json:"driver_version,omitempty"`
	CUDADriver string       `json:"cuda_driver_version,omitempty"` // newest CUDA the driver supports
	// CUDARuntime and CuDNN are the versions torch and onnxruntime-gpu load:
	// those of the nvidia-cuda-runtime and nvidia-cudnn-cu13 wheels in the
	// project's venv (libtorch for Go and Rust is the same wheel's).
	CUDARuntime string `json:"cuda_runtime,omitempty"`
	CuDNN       string `json:"cudnn,omitempty"`
	// CUDAToolkit is the system toolkit's version (/usr/local/cuda, as in
	// the CUDA image), which the benchmarks do not load but a build may.
	CUDAToolkit string `json:"cuda_toolkit,omitempty"`
	// NotSeen says why no GPU is listed (no driver, a build without cgo).
	NotSeen string `json:"not_seen,omitempty"`
}

// gpuNames names each GPU NVML sees, with the driver; nil without one.
func gpuNames() []string {
	m, err := gpu.Open()
	if err != nil {
		return nil
	}
	defer m.Close()
	in, err := m.Info()
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range in.Devices {
		out = append(out, d.Name+", driver "+in.Driver)
	}
	return out
}

// collectGPU asks NVML for the GPUs and the driver. pyPackages are the
// package versions envinfo.py reported (nil when Python is missing).
func collectGPU(pyPackages map[string]any) *GPUEnv {
	g := &GPUEnv{Devices: []gpu.Device{}}
	if m, err := gpu.Open(); err != nil {
		g.NotSeen = err.Error()
	} else {
		in, err := m.Info()
		m.Close()
		if err != nil {
			g.NotSeen = err.Error()
		} else {
			g.Devices, g.Driver, g.CUDADriver = in.Devices, in.Driver, in.CUDADriver
		}
	}
	g.CUDARuntime, _ = pyPackages["nvidia-cuda-runtime"].(string)
	g.CuDNN, _ = pyPackages["nvidia-cudnn-cu13"].(string)
	if b, err := os.ReadFile("/usr/local/cuda/version.json"); err == nil {
		var v struct {
			CUDA struct {
				Version string `json:"version"`
			} `json:"cuda"`
		}
		if json.Unmarshal(b, &v) == nil {
			g.CUDAToolkit = v.CUDA.Version
		}
	}
	return g
}
