package bench

import (
	"cmp"
	"slices"
	"strings"
)

// PhaseOrder is the display order of the phases the protocol names; other
// phases come after them, sorted by name.
var PhaseOrder = []string{"load", "fit", "predict", "train_epoch", "eval", "tokenize", "model", "postprocess", "ttft", "per_token"}

// MainPhases are, in order of preference, the phase a comparison ranks by:
// the work the task is about, never loading.
var MainPhases = []string{"fit", "train_epoch", "model", "per_token"}

// SortedPhases returns the phase names of m in display order.
func SortedPhases[V any](m map[string]V) []string {
	ps := make([]string, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	SortPhases(ps)
	return ps
}

// SortPhases sorts phase names in place into display order.
func SortPhases(ps []string) {
	idx := func(p string) int {
		if i := slices.Index(PhaseOrder, p); i >= 0 {
			return i
		}
		return len(PhaseOrder)
	}
	slices.SortFunc(ps, func(a, b string) int {
		if c := cmp.Compare(idx(a), idx(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}

// MainPhase is the phase a result with these phases is ranked by: the first
// of MainPhases present, else the first in display order.
func MainPhase[V any](m map[string]V) string {
	for _, p := range MainPhases {
		if _, ok := m[p]; ok {
			return p
		}
	}
	if ps := SortedPhases(m); len(ps) > 0 {
		return ps[0]
	}
	return ""
}
