package report

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The provenance says in what order the processes ran (run.json's order).
func TestHTMLShowsTheRunOrder(t *testing.T) {
	rs := load(t, "run1")
	for _, c := range []struct {
		run  RunInfo
		want string
	}{
		{RunInfo{Order: "shuffle", Rounds: 3, Seed: 42}, "order: shuffle, 3 rounds per job, seed 42</p>"},
		{RunInfo{Order: "alternate", Rounds: 2}, "order: alternate, 2 rounds per job</p>"},
		{RunInfo{Order: "sequential"}, "order: sequential</p>"},
	} {
		var b bytes.Buffer
		require.NoError(t, WriteHTML(&b, rs, Page{Run: &c.run}))
		assert.Contains(t, b.String(), c.want)
	}
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, rs, Page{Run: &RunInfo{}}))
	assert.NotContains(t, b.String(), `class="setup">order:`, "a run.json without an order (an older mlbench)")
}
