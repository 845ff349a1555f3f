package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
)

// A merged run (mlbench merge) holds results of several nodes: each case
// whose results come from more than one host says so under its table,
// because its ratios then compare different machines.
func TestHostsDifferWithinACase(t *testing.T) {
	node := func(name string) *bench.HostInfo {
		return &bench.HostInfo{Name: name, CPU: "same cpu", Cores: 8, MemGiB: 32, OS: "same os"}
	}
	var rs []*bench.Result
	for _, r := range load(t, "run1") {
		switch {
		case r.Task == "classical/kmeans" && r.Variant == "n=1000":
			r.Host = node("node1")
			if r.Impl == "rust-linfa" {
				r.Host = node("node2")
			}
		case r.Task == "classical/svm":
			r.Host = node("node3")
		default:
			continue
		}
		rs = append(rs, r)
	}
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, Markdown))
	md := b.String()
	assert.Contains(t, md, "host: node1: same cpu (8 cores, 32.00 GiB, same os)")
	assert.Contains(t, md, "warning: results come from 3 different hosts")
	section := func(title string) string {
		i := strings.Index(md, "## "+title+"\n")
		require.GreaterOrEqual(t, i, 0, title)
		rest := md[i+3:]
		if j := strings.Index(rest, "\n## "); j >= 0 {
			return rest[:j]
		}
		return rest
	}
	assert.Contains(t, section("classical/kmeans n=1000"), "results differ in hosts (ratios compare different machines): node1: same cpu")
	assert.NotContains(t, section("classical/svm"), "results differ in hosts")
}
