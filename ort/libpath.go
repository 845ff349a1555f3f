package ort

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// WantedLibrary is the ONNX Runtime library file the benchmark uses: the one
// inside the pinned onnxruntime wheel (reference/python/requirements.lock).
const WantedLibrary = "libonnxruntime.so.1.30.0"

// LibraryPath finds the ONNX Runtime shared library, in this order:
//
//  1. $MLBENCH_ORT_LIB, a path to the library file;
//  2. onnxruntime/capi/ of a .venv (the project's virtual environment) in
//     the current directory or one above it, or beside or above the
//     running executable (bin/mlbench → .venv);
//  3. onnxruntime/capi/ of the package as located by $MLBENCH_PYTHON or
//     python3 (without importing it).
//
// In a capi folder it prefers WantedLibrary, else the highest
// libonnxruntime.so.* there.
func LibraryPath() (string, error) {
	if p := os.Getenv("MLBENCH_ORT_LIB"); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return "", fmt.Errorf("MLBENCH_ORT_LIB=%s: not a file", p)
		}
		return p, nil
	}
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, ancestors(wd)...)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			roots = append(roots, ancestors(filepath.Dir(exe))...)
		}
	}
	for _, r := range roots {
		dirs, _ := filepath.Glob(filepath.Join(r, ".venv", "lib", "python3*", "site-packages", "onnxruntime", "capi"))
		for _, d := range dirs {
			if p := libIn(d); p != "" {
				return p, nil
			}
		}
	}
	py := os.Getenv("MLBENCH_PYTHON")
	if py == "" {
		py = "python3"
	}
	out, err := exec.Command(py, "-c",
		"import importlib.util as u; s = u.find_spec('onnxruntime'); print(s.submodule_search_locations[0] if s else '')").Output()
	if err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			if p := libIn(filepath.Join(d, "capi")); p != "" {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("ONNX Runtime library not found: set MLBENCH_ORT_LIB to %s, "+
		"or run ./build.sh so .venv has the onnxruntime wheel", WantedLibrary)
}

// ancestors returns dir and its parents up to the root, at most 6.
func ancestors(dir string) []string {
	var out []string
	for i := 0; i < 6; i++ {
		out = append(out, dir)
		up := filepath.Dir(dir)
		if up == dir {
			break
		}
		dir = up
	}
	return out
}

// libIn returns the ONNX Runtime library in a wheel's capi folder, or "".
func libIn(dir string) string {
	if p := filepath.Join(dir, WantedLibrary); isFile(p) {
		return p
	}
	m, _ := filepath.Glob(filepath.Join(dir, "libonnxruntime.so.*"))
	sort.Strings(m)
	for i := len(m) - 1; i >= 0; i-- {
		if isFile(m[i]) {
			return m[i]
		}
	}
	return ""
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// VersionFromPath returns the version in a library file name such as
// libonnxruntime.so.1.30.0 ("1.30.0"), or "".
func VersionFromPath(p string) string {
	b := filepath.Base(p)
	if i := strings.Index(b, ".so."); i >= 0 {
		return b[i+4:]
	}
	return ""
}
