// Package sysinfo describes the machine and the toolchains a benchmark ran
// with: CPU, cores, memory, OS, GPU, and the versions of Go, Python, Rust and
// of every framework that is installed.
package sysinfo

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/mlbench/mlbench/bench"
)

// Host reads the machine facts every result carries.
func Host() *bench.HostInfo {
	h := &bench.HostInfo{Cores: runtime.NumCPU(), OS: osName(), GPUs: gpuNames(), ISA: ISA(cpuFlags("/proc/cpuinfo"))}
	h.Name, _ = os.Hostname()
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				h.MemGiB = float64(int(kb/1024/1024*10+0.5)) / 10
			}
		}
	}
	return h
}

func osName() string {
	name := runtime.GOOS + "/" + runtime.GOARCH
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				name = strings.Trim(v, `"`) + " (" + name + ")"
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		name += ", kernel " + strings.TrimSpace(string(b))
	}
	return name
}

// Env is what `mlbench env` prints.
type Env struct {
	Host       *bench.HostInfo   `json:"host"`
	GPU        *GPUEnv           `json:"gpu"`
	Go         string            `json:"go"`
	GoModules  map[string]string `json:"go_modules"`
	Python     map[string]any    `json:"python,omitempty"`
	Rust       string            `json:"rust,omitempty"`
	RustCrates map[string]string `json:"rust_crates,omitempty"`
	Missing    map[string]string `json:"missing,omitempty"`
	Knobs      map[string]string `json:"thread_env,omitempty"`
}

// Collect gathers the environment. python is the project's interpreter,
// root the repository root (for reference/python/envinfo.py and the Rust
// workspace's Cargo.lock). Anything that cannot be read is named in Missing.
func Collect(root, python string) *Env {
	e := &Env{Host: Host(), Go: runtime.Version(), GoModules: map[string]string{}, Missing: map[string]string{}, Knobs: map[string]string{}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			for _, want := range []string{"gonum.org/v1/gonum", "golang.org/x/perf", "github.com/urfave/cli/v2",
				"github.com/yalue/onnxruntime_go", "github.com/daulet/tokenizers"} {
				if d.Path == want {
					e.GoModules[d.Path] = d.Version
				}
			}
		}
	}
	if out, err := run(python, filepath.Join(root, "reference", "python", "envinfo.py")); err == nil {
		var m map[string]any
		if json.Unmarshal([]byte(out), &m) == nil {
			e.Python = m
		}
		if e.Host.BLAS, err = BLAS(root, python); err != nil {
			e.Missing["blas"] = err.Error()
		}
	} else {
		e.Missing["python"] = python + ": " + oneLine(err.Error())
	}
	pkgs, _ := e.Python["packages"].(map[string]any)
	e.GPU = collectGPU(pkgs)
	if out, err := run("rustc", "--version"); err == nil {
		e.Rust = strings.TrimSpace(out)
	} else {
		e.Missing["rust"] = oneLine(err.Error())
	}
	e.RustCrates = cargoLockVersions(filepath.Join(root, "reference", "rust", "Cargo.lock"),
		"linfa", "linfa-linear", "linfa-svm", "linfa-clustering", "smartcore", "ndarray", "tch", "candle-core", "burn", "ort", "tokenizers")
	for _, k := range []string{"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOMAXPROCS", "CUDA_VISIBLE_DEVICES"} {
		if v, ok := os.LookupEnv(k); ok {
			e.Knobs[k] = v
		}
	}
	return e
}

func run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	return string(out), err
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cargoLockVersions returns the locked version of each named crate.
func cargoLockVersions(path string, names ...string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]string{}
	var name string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "name = "); ok {
			name = strings.Trim(v, `"`)
		} else if v, ok := strings.CutPrefix(l, "version = "); ok && want[name] {
			out[name] = strings.Trim(v, `"`)
		}
	}
	return out
}
