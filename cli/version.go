package cli

import (
	"runtime/debug"
	"strings"
)

// version and commit are set at link time by ./build.sh
// (`-ldflags "-X github.com/mlbench/mlbench/cli.commit=$(git describe --always --dirty)"`);
// without them the build info's module version and VCS stamp are used.
var version, commit string

// Version is what `mlbench --version` prints after the program name: the
// version, the commit the binary was built from ("-dirty" when the tree had
// changes) and the Go version.
func Version() string {
	v, c, goVersion := version, commit, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "" && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		if c == "" {
			c = vcsCommit(bi.Settings)
		}
	}
	parts := []string{or(v, "(devel)")}
	if c != "" {
		parts = append(parts, "commit "+c)
	}
	if goVersion != "" {
		parts = append(parts, goVersion)
	}
	return strings.Join(parts, ", ")
}

// vcsCommit is the short VCS revision that `go build` stamped, if any.
func vcsCommit(settings []debug.BuildSetting) string {
	var rev, dirty string
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev[:min(len(rev), 7)] + dirty
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
