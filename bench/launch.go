package bench

import (
	"fmt"
	"os"
	"path/filepath"
)

// Paths is the Launcher of a checkout: Python scripts of reference/python run
// with the project's virtual environment, Rust binaries come from the build
// folder, and Go implementations run as this very binary in worker mode.
type Paths struct {
	Root    string   // repository root (holds reference/python)
	Python  string   // interpreter of the project's venv
	RustBin string   // folder of the built binaries (Rust, and mlbench-torch)
	Self    []string // argv that starts a Go worker, e.g. {"/path/mlbench", "worker"}
	// GoLookup reports whether this binary has the Go implementation impl
	// of task (worker.Lookup); nil means none is registered.
	GoLookup func(task, impl string) error
}

// Command implements Launcher.
func (p Paths) Command(task string, impl ImplRef) ([]string, error) {
	switch impl.Launch.Kind {
	case "go":
		if impl.Launch.Program != "" {
			// Another binary of this module, built with other tags.
			bin := filepath.Join(p.RustBin, impl.Launch.Program)
			if !executable(bin) {
				return nil, fmt.Errorf("%s not built (run ./build.sh)", rel(p.Root, bin))
			}
			return []string{bin, "worker"}, nil
		}
		if p.GoLookup == nil {
			return nil, fmt.Errorf("no Go implementations in this binary")
		}
		if err := p.GoLookup(task, impl.ID); err != nil {
			return nil, err
		}
		return append([]string{}, p.Self...), nil
	case "python":
		script := filepath.Join(p.Root, "reference", "python", impl.Launch.Program)
		if _, err := os.Stat(script); err != nil {
			return nil, fmt.Errorf("not implemented yet: %s does not exist", rel(p.Root, script))
		}
		if !executable(p.Python) {
			return nil, fmt.Errorf("Python environment missing (%s): run ./build.sh", p.Python)
		}
		return []string{p.Python, script}, nil
	case "rust":
		bin := filepath.Join(p.RustBin, impl.Launch.Program)
		if !executable(bin) {
			return nil, fmt.Errorf("Rust binary %s not built (run ./build.sh), or not implemented yet", rel(p.Root, bin))
		}
		return []string{bin}, nil
	}
	return nil, fmt.Errorf("unknown launcher kind %q", impl.Launch.Kind)
}

func executable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}
