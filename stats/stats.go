package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"golang.org/x/perf/benchmath"
)

// Confidence is the level of every interval in this package.
const Confidence = 0.95

// Alpha is the significance level of Compare.
const Alpha = 0.05

// NoisyIQR is the relative spread (IQR / median) above which a sample is
// reported as noisy; pyperf warns at a similar level (stdev > 10% of mean).
const NoisyIQR = 0.10

// TooShort is the median duration (seconds) under which timer resolution and
// harness overhead make a phase unreliable to compare.
const TooShort = 1e-4

// Summary of one sample of durations (or any positive quantity).
type Summary struct {
	N        int      `json:"n"`
	Median   float64  `json:"median"`
	Lo       float64  `json:"ci_lo"` // 95% CI of the median; NaN-free: equals Median when N is too small
	Hi       float64  `json:"ci_hi"`
	HasCI    bool     `json:"has_ci"`
	Min      float64  `json:"min"`
	Max      float64  `json:"max"`
	Mean     float64  `json:"mean"`
	Q1       float64  `json:"q1"`
	Q3       float64  `json:"q3"`
	P90      float64  `json:"p90"`
	P99      float64  `json:"p99"`
	Warnings []string `json:"warnings,omitempty"`
}

// IQR is Q3 - Q1.
func (s Summary) IQR() float64 { return s.Q3 - s.Q1 }

// Summarize computes the summary of values. It panics on an empty sample
// (a programmer error: callers check for data first).
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		panic("stats: Summarize of empty sample")
	}
	v := slices.Clone(values)
	slices.Sort(v)
	bs := benchmath.AssumeNothing.Summary(benchmath.NewSample(v, &benchmath.DefaultThresholds), Confidence)
	s := Summary{
		N:      len(v),
		Median: Quantile(v, 0.5),
		Min:    v[0],
		Max:    v[len(v)-1],
		Mean:   mean(v),
		Q1:     Quantile(v, 0.25),
		Q3:     Quantile(v, 0.75),
		P90:    Quantile(v, 0.90),
		P99:    Quantile(v, 0.99),
	}
	s.Lo, s.Hi = s.Median, s.Median
	if len(bs.Warnings) == 0 && !math.IsInf(bs.Lo, 0) && !math.IsInf(bs.Hi, 0) {
		s.Lo, s.Hi, s.HasCI = bs.Lo, bs.Hi, true
	}
	for _, w := range bs.Warnings {
		s.Warnings = append(s.Warnings, w.Error())
	}
	if s.Median > 0 && s.IQR()/s.Median > NoisyIQR {
		s.Warnings = append(s.Warnings, fmt.Sprintf("noisy: IQR is %.0f%% of the median", 100*s.IQR()/s.Median))
	}
	if s.Median < TooShort {
		s.Warnings = append(s.Warnings, fmt.Sprintf("too short: median %.2g s is under %.0g s", s.Median, TooShort))
	}
	return s
}

// Quantile of sorted values with linear interpolation (R type 7, NumPy's
// default), so p50/p90/p99 agree with what Python reports.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	h := q * float64(len(sorted)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// Ratio of the median of num to the median of den, with a 95% percentile
// bootstrap interval (2000 resamples, fixed seed). HasCI is false when either
// sample has fewer than 3 values.
type Ratio struct {
	Ratio float64 `json:"ratio"`
	Lo    float64 `json:"ci_lo"`
	Hi    float64 `json:"ci_hi"`
	HasCI bool    `json:"has_ci"`
}

// MedianRatio computes Ratio(num / den).
func MedianRatio(num, den []float64) Ratio {
	mn, md := median(num), median(den)
	r := Ratio{Ratio: mn / md, Lo: mn / md, Hi: mn / md}
	if len(num) < 3 || len(den) < 3 {
		return r
	}
	const B = 2000
	rng := rand.New(rand.NewPCG(1, 2))
	rs := make([]float64, B)
	bn, bd := make([]float64, len(num)), make([]float64, len(den))
	for b := range rs {
		for i := range bn {
			bn[i] = num[rng.IntN(len(num))]
		}
		for i := range bd {
			bd[i] = den[rng.IntN(len(den))]
		}
		rs[b] = median(bn) / median(bd)
	}
	slices.Sort(rs)
	r.Lo, r.Hi, r.HasCI = Quantile(rs, 0.025), Quantile(rs, 0.975), true
	return r
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return Quantile(s, 0.5)
}

// Comparison of two samples with the Mann-Whitney U test.
type Comparison struct {
	OldMedian   float64  `json:"old_median"`
	NewMedian   float64  `json:"new_median"`
	Ratio       float64  `json:"ratio"` // new / old
	P           float64  `json:"p"`
	Significant bool     `json:"significant"`
	Warnings    []string `json:"warnings,omitempty"`
}

// Compare old and new. A difference is significant only when the U test's p
// is below Alpha and benchmath raised no warning (too few samples).
func Compare(old, new []float64) Comparison {
	o := benchmath.NewSample(slices.Sorted(slices.Values(old)), &benchmath.DefaultThresholds)
	n := benchmath.NewSample(slices.Sorted(slices.Values(new)), &benchmath.DefaultThresholds)
	c := benchmath.AssumeNothing.Compare(o, n)
	out := Comparison{OldMedian: median(old), NewMedian: median(new), P: c.P}
	out.Ratio = out.NewMedian / out.OldMedian
	for _, w := range c.Warnings {
		out.Warnings = append(out.Warnings, w.Error())
	}
	out.Significant = len(c.Warnings) == 0 && c.P < c.Alpha
	return out
}

// Delta formats a comparison like benchstat: "+12.3% (p=0.002)" or
// "~ (p=0.310)" when the difference is not significant.
func (c Comparison) Delta() string {
	if !c.Significant {
		return fmt.Sprintf("~ (p=%.3f)", c.P)
	}
	return fmt.Sprintf("%+.1f%% (p=%.3f)", 100*(c.Ratio-1), c.P)
}
