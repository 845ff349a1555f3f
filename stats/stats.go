package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"golang.org/x/perf/benchmath"
	"gonum.org/v1/gonum/stat/distuv"
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
	n, d := newResampler(num, rng), newResampler(den, rng)
	for b := range rs {
		rs[b] = n.median() / d.median()
	}
	slices.Sort(rs)
	r.Lo, r.Hi, r.HasCI = Quantile(rs, 0.025), Quantile(rs, 0.975), true
	return r
}

// directMedianN is the sample size from which a resample's median is drawn
// from its order statistics instead of by resampling: 11,873 requests per
// implementation made the bootstrap take minutes.
const directMedianN = 500

// resampler draws the median of bootstrap resamples of one sample.
type resampler struct {
	v      []float64 // the sample as given (resampled directly when small)
	sorted []float64 // the sample sorted (large samples)
	buf    []float64
	rng    *rand.Rand
}

func newResampler(v []float64, rng *rand.Rand) *resampler {
	r := &resampler{v: v, rng: rng}
	if len(v) > directMedianN {
		r.sorted = slices.Sorted(slices.Values(v))
	} else {
		r.buf = make([]float64, len(v))
	}
	return r
}

// median of one resample (n draws with replacement), as Quantile(·, 0.5).
//
// A large sample is not resampled: the median needs only the resample's
// order statistics k and k+1 (1-based, k = floor((n-1)/2)+1). The draws are
// indices floor(n·U) into the sorted sample with U uniform on (0, 1), so the
// k-th smallest draw is floor(n·U(k)) with U(k) ~ Beta(k, n-k+1), the k-th
// order statistic of n uniforms; the next one, given U(k), is
// U(k) + (1-U(k))·Beta(1, n-k) (the least of the n-k uniforms above it).
// This is the same distribution as resampling (David & Nagaraja, Order
// Statistics, 3rd ed., sections 2.2 and 2.5), at O(1) instead of O(n log n).
func (r *resampler) median() float64 {
	if r.sorted == nil {
		for i := range r.buf {
			r.buf[i] = r.v[r.rng.IntN(len(r.v))]
		}
		return median(r.buf)
	}
	n := len(r.sorted)
	h := 0.5 * float64(n-1)
	k := int(h) + 1
	at := func(u float64) float64 { return r.sorted[min(int(float64(n)*u), n-1)] }
	u := distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1), Src: r.rng}.Rand()
	lo := at(u)
	frac := h - math.Floor(h)
	if frac == 0 {
		return lo
	}
	u2 := u + (1-u)*distuv.Beta{Alpha: 1, Beta: float64(n - k), Src: r.rng}.Rand()
	return lo + frac*(at(u2)-lo)
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
