// Package gpu reads NVIDIA GPUs through NVML (github.com/NVIDIA/go-nvml):
// the memory each process uses on each GPU and the GPUs' utilisation, for
// the orchestrator's sampler (bench.GPUMonitor), and the GPU model, driver
// and CUDA version for `mlbench env`.
//
// go-nvml loads libnvidia-ml.so.1 with dlopen at run time, so a binary
// built on a machine without a GPU runs on one with a GPU, and on a machine
// without the driver Open returns an error that says so (no panic, nothing
// sampled). It needs cgo; a build without cgo reports that instead.
package gpu
