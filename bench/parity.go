package bench

import (
	"fmt"
	"math"
)

// RuleKind says how a result is compared with the reference's.
type RuleKind string

const (
	// ProbeMaxRel: max over i of |x_i - r_i| / max(|r_i|, tiny) <= Limit.
	ProbeMaxRel RuleKind = "probe_max_rel"
	// ProbeMaxAbs: max over i of |x_i - r_i| <= Limit.
	ProbeMaxAbs RuleKind = "probe_max_abs"
	// ProbeAgree: the fraction of i with x_i == r_i is >= Limit.
	ProbeAgree RuleKind = "probe_agree"
	// MetricAbs: |x - r| <= Limit for a metric.
	MetricAbs RuleKind = "metric_abs"
	// MetricRel: |x - r| / |r| <= Limit for a metric.
	MetricRel RuleKind = "metric_rel"
	// ProbeSame: every x_i == r_i (generated ids). At the first difference
	// the reference's probe Margins (its top-2 logit margin per position)
	// decides what that means: below Tie it is a near tie that float
	// rounding may break either way, and the check says so (unverified,
	// never a silent pass or fail); otherwise the check fails.
	ProbeSame RuleKind = "probe_same"
)

// Rule is one parity check of a task.
type Rule struct {
	Kind  RuleKind
	Key   string  // probe or metric name
	Limit float64 // tolerance (or minimum agreement for ProbeAgree)
	// Index restricts a probe rule to these positions (nil: all).
	Index []int
	// OnlySize applies the rule only to runs of that size ("" always);
	// NotSize never to runs of that size.
	OnlySize, NotSize string
	// OnlyIfParam applies the rule only when the result's params have this
	// key set to true (e.g. "trained").
	OnlyIfParam string
	// Margins and Tie: see ProbeSame.
	Margins string
	Tie     float64
}

// relFloor keeps a relative difference finite when the reference is zero.
const relFloor = 1e-12

// Applies reports whether r is in force for a result of size with params.
func (r Rule) Applies(size string, params map[string]any) bool {
	if r.OnlySize != "" && r.OnlySize != size || r.NotSize != "" && r.NotSize == size {
		return false
	}
	if r.OnlyIfParam != "" {
		b, _ := params[r.OnlyIfParam].(bool)
		return b
	}
	return true
}

// Check compares got with ref under r.
func (r Rule) Check(got, ref *Result) ParityCheck {
	c := ParityCheck{Name: string(r.Kind) + ":" + r.Key, Limit: r.Limit}
	switch r.Kind {
	case MetricAbs, MetricRel:
		g, okg := got.Metrics[r.Key]
		w, okw := ref.Metrics[r.Key]
		if !okg || !okw {
			c.Detail = missing("metric", r.Key, okg, okw)
			if why, ok := got.NotApplicable[r.Key]; ok && !okg {
				c.Detail = fmt.Sprintf("metric %s not applicable in this result: %s", r.Key, why)
				c.Unverified = okw // a reference without it is the reference's failure
			}
			return c
		}
		d := math.Abs(g - w)
		if r.Kind == MetricRel {
			d /= math.Max(math.Abs(w), relFloor)
		}
		c.Value, c.OK, c.Measured = d, d <= r.Limit, true
		c.Detail = fmt.Sprintf("%s %.6g vs reference %.6g", r.Key, g, w)
		return c
	}
	g, okg := got.Probes[r.Key]
	w, okw := ref.Probes[r.Key]
	if !okg || !okw {
		c.Detail = missing("probe", r.Key, okg, okw)
		return c
	}
	if len(g) != len(w) {
		c.Detail = fmt.Sprintf("probe %s has %d values, reference has %d", r.Key, len(g), len(w))
		return c
	}
	idx := r.Index
	if idx == nil {
		idx = make([]int, len(g))
		for i := range idx {
			idx[i] = i
		}
	}
	for _, i := range idx {
		if i < 0 || i >= len(g) {
			c.Detail = fmt.Sprintf("probe %s has %d values, rule needs index %d", r.Key, len(g), i)
			return c
		}
	}
	if len(idx) == 0 {
		c.Detail = fmt.Sprintf("probe %s is empty", r.Key)
		return c
	}
	if r.Kind == ProbeSame {
		return r.checkSame(c, g, w, ref.Probes[r.Margins])
	}
	switch r.Kind {
	case ProbeAgree:
		same := 0
		for _, i := range idx {
			if g[i] == w[i] {
				same++
			}
		}
		c.Value, c.Measured = float64(same)/float64(len(idx)), true
		c.OK = c.Value >= r.Limit
		c.Detail = fmt.Sprintf("%d of %d agree", same, len(idx))
		if first := firstDiff(g, w, idx); first >= 0 {
			c.Detail += fmt.Sprintf("; first difference at [%d]: %.10g vs reference %.10g", first, g[first], w[first])
		}
	case ProbeMaxAbs, ProbeMaxRel:
		worst, at := 0.0, idx[0]
		for _, i := range idx {
			d := math.Abs(g[i] - w[i])
			if r.Kind == ProbeMaxRel {
				d /= math.Max(math.Abs(w[i]), relFloor)
			}
			if d > worst {
				worst, at = d, i
			}
		}
		c.Value, c.OK, c.Measured = worst, worst <= r.Limit, true
		c.Detail = fmt.Sprintf("worst at [%d]: %.9g vs reference %.9g", at, g[at], w[at])
	default:
		c.Detail = fmt.Sprintf("unknown rule kind %q", r.Kind)
	}
	return c
}

func missing(what, key string, got, ref bool) string {
	switch {
	case !got && !ref:
		return fmt.Sprintf("%s %s missing from both results", what, key)
	case !got:
		return fmt.Sprintf("%s %s missing from this result", what, key)
	}
	return fmt.Sprintf("%s %s missing from the reference result", what, key)
}

// JudgeParity applies the task's rules to got against ref (the reference
// implementation's result for the same case). A nil ref gives a failed
// verdict that says the reference is missing.
func JudgeParity(t *Task, size string, got, ref *Result) *Parity {
	p := &Parity{OK: true}
	if ref == nil || ref.Status != StatusOK {
		p.OK = false
		p.Checks = append(p.Checks, ParityCheck{Name: "reference", Detail: "no valid result from the reference " + t.Reference + " to compare with"})
		return p
	}
	failed, unverified := false, false
	for _, r := range t.Parity {
		if !r.Applies(size, got.Params) {
			continue
		}
		c := r.Check(got, ref)
		p.Checks = append(p.Checks, c)
		p.OK = p.OK && c.OK
		unverified = unverified || c.Unverified
		failed = failed || !c.OK && !c.Unverified
	}
	p.Unverified = unverified && !failed
	return p
}

// firstDiff is the first of idx where g and w differ, or -1.
func firstDiff(g, w []float64, idx []int) int {
	for _, i := range idx {
		if g[i] != w[i] {
			return i
		}
	}
	return -1
}

// checkSame is ProbeSame over equal-length g and w, with the reference's
// margins (nil when it has none).
func (r Rule) checkSame(c ParityCheck, g, w, margins []float64) ParityCheck {
	c.Measured = true
	first := -1
	for i := range g {
		if g[i] != w[i] {
			first = i
			break
		}
	}
	if first < 0 {
		c.Value, c.OK = 1, true
		c.Detail = fmt.Sprintf("all %d identical", len(g))
		return c
	}
	c.Value = float64(first) / float64(len(g))
	c.Detail = fmt.Sprintf("first difference at [%d]: %.10g vs reference %.10g", first, g[first], w[first])
	switch {
	case first >= len(margins):
		c.Detail += fmt.Sprintf("; the reference has no %s probe there to tell a near tie from a real difference", r.Margins)
	case margins[first] < r.Tie:
		c.Unverified = true
		c.Detail += fmt.Sprintf("; the reference's top-2 logit margin there is %.3g < %g: a near tie that float rounding may "+
			"break either way, so the ids after it are not compared", margins[first], r.Tie)
	default:
		c.Detail += fmt.Sprintf("; the reference's top-2 logit margin there is %.3g (>= %g): not a near tie", margins[first], r.Tie)
	}
	return c
}
