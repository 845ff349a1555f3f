package sysinfo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// isaFlags are the /proc/cpuinfo flags that decide which kernels the
// libraries dispatch to, in the order ISA lists them.
var isaFlags = []string{
	"sse4_2", "avx", "avx2", "fma", "f16c",
	"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16",
	"avx_vnni", "amx_tile", "amx_int8", "amx_bf16", "amx_fp16",
	// arm64 (Features line): NEON, SVE, the BF16 and int8 dot products.
	"asimd", "sve", "sve2", "bf16", "i8mm",
}

// ISA picks, from the CPU flags of /proc/cpuinfo, the vector extensions
// that matter to the kernels (isaFlags), in isaFlags' order.
func ISA(flags []string) []string {
	have := map[string]bool{}
	for _, f := range flags {
		have[f] = true
	}
	var out []string
	for _, f := range isaFlags {
		if have[f] {
			out = append(out, f)
		}
	}
	return out
}

// cpuFlags reads the first processor's flags ("flags" on x86, "Features"
// on arm64) from cpuinfo; nil when it cannot.
func cpuFlags(cpuinfo string) []string {
	f, err := os.Open(cpuinfo)
	if err != nil {
		return nil
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1<<20)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if k = strings.TrimSpace(k); ok && (k == "flags" || k == "Features") {
			return strings.Fields(v)
		}
	}
	return nil
}

// BLAS names the BLAS and oneDNN builds of the project's Python (NumPy's,
// and torch's, which libtorch for Go and Rust shares), one line each, as
// reference/python/envinfo.py --blas reports them. It imports torch: a
// few seconds, more on a busy machine, hence its own time limit.
func BLAS(root, python string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, filepath.Join(root, "reference", "python", "envinfo.py"), "--blas").Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
			lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
			msg += ": " + lines[len(lines)-1]
		}
		return nil, fmt.Errorf("%s envinfo.py --blas: %s", python, oneLine(msg))
	}
	var v struct {
		BLAS []string `json:"blas"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("envinfo.py --blas: %v", err)
	}
	return v.BLAS, nil
}
