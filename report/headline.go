package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mlbench/mlbench/bench"
)

// headline is the implementation x task matrix at the top of the page: per
// task (its largest variant) the main phase's ratio to the reference.
type headline struct {
	Columns []headColumn
	Rows    []headRow
}

type headColumn struct{ Title, Sub, Anchor string }

type headRow struct {
	Impl  string
	Cells []headCell
}

type headCell struct {
	Text, Sub, Class, Tip string
}

func buildHeadline(secs []*section) *headline {
	// The last section of each task is its largest variant (sections come
	// sorted by task, then variant, numbers compared as numbers).
	var cols []*section
	for i, s := range secs {
		if i+1 == len(secs) || secs[i+1].Task != s.Task {
			cols = append(cols, s)
		}
	}
	h := &headline{}
	var impls []string
	for _, s := range cols {
		sub := s.Main + " vs " + or(s.Reference, "?")
		if s.Variant != "" {
			sub = s.Variant + ", " + sub
		}
		h.Columns = append(h.Columns, headColumn{Title: s.Task, Sub: sub, Anchor: slug(s.Task, s.Variant)})
		for _, w := range s.Rows {
			impls = appendNew(impls, w.R.Impl)
		}
	}
	slices.Sort(impls)
	for _, id := range impls {
		r := headRow{Impl: id}
		for _, s := range cols {
			r.Cells = append(r.Cells, headlineCell(s, id))
		}
		h.Rows = append(h.Rows, r)
	}
	return h
}

func headlineCell(s *section, impl string) headCell {
	var w *row
	for _, x := range s.Rows {
		if x.R.Impl == impl {
			w = x
		}
	}
	if w == nil {
		return headCell{Text: "-", Class: "none", Tip: "no result"}
	}
	mem := ""
	if b := peakRSS(w.R); b > 0 {
		mem = "peak " + fmtMiB(b)
	}
	switch {
	case w.Failed:
		return headCell{Text: "FAILED", Sub: w.Reason, Class: "failed", Tip: w.Reason}
	case w.IsRef:
		c := headCell{Text: "ref", Sub: mem, Class: "ref"}
		if m, ok := w.mainMedian(s.Main); ok {
			c.Text = "ref " + fmtDur(m)
		}
		return c
	}
	r, ok := w.Ratios[s.Main]
	if !ok {
		c := headCell{Text: "no ratio", Sub: mem, Tip: strings.Join(s.Notes, "; ")}
		if m, ok := w.mainMedian(s.Main); ok {
			c.Text = fmtDur(m)
		}
		return c
	}
	q := qualifier(w.VsRef[s.Main])
	c := headCell{Text: fmtRatio(r) + " " + q, Sub: mem, Class: cellClass(fmtRatio(r) + " " + q)}
	c.Tip = fmt.Sprintf("p=%.3g (Mann-Whitney U)", w.VsRef[s.Main].P)
	return c
}

// provenance says where the numbers come from.
type provenance struct {
	Hosts    []string
	Run      *RunInfo
	Impls    [][]string // impl, language, framework, threads, device, thread knobs
	Datasets [][]string // dataset, sha256, official, source, note
	Resumed  []string
}

func buildProvenance(results []*bench.Result, run *RunInfo) *provenance {
	p := &provenance{Run: run}
	seenImpl := map[string]bool{}
	seenData := map[string]bool{}
	for _, r := range results {
		if h := r.Host; h != nil {
			p.Hosts = appendNew(p.Hosts, fmt.Sprintf("%s (%d cores, %s GiB, %s)", h.CPU, h.Cores, fmtNum(h.MemGiB), h.OS)+hostBuild(h))
		}
		key := strings.Join([]string{r.Impl, r.LanguageVersion, r.FrameworkVersion, fmt.Sprint(r.Threads), r.Device, strings.Join(r.Env, " ")}, "\x00")
		if !seenImpl[key] {
			seenImpl[key] = true
			p.Impls = append(p.Impls, []string{r.Impl, join(r.Language, r.LanguageVersion), join(r.Framework, r.FrameworkVersion),
				fmt.Sprint(r.Threads), r.Device, strings.Join(r.Env, " ")})
		}
		for _, d := range r.Datasets {
			k := d.Name + "\x00" + d.SHA256 + "\x00" + fmt.Sprint(d.Official)
			if seenData[k] {
				continue
			}
			seenData[k] = true
			off := "official"
			if !d.Official {
				off = "NOT official (SUBSTITUTE)"
			}
			p.Datasets = append(p.Datasets, []string{d.Name, d.SHA256, off, d.Source, oneLine(d.Note)})
		}
		if r.ResumedFrom != "" {
			var parts []string
			for _, e := range r.EarlierParts {
				parts = append(parts, fmt.Sprintf("started %s, ran %.0f s, peak %s, ended: %s", e.StartedAt, e.WallSeconds, fmtMiB(e.PeakRSSBytes), oneLine(e.Reason)))
			}
			p.Resumed = append(p.Resumed, fmt.Sprintf("%s %s %s: %d processes; the last went on from %s; earlier: %s",
				r.Task, r.Variant, r.Impl, len(r.EarlierParts)+1, oneLine(r.ResumedFrom), strings.Join(parts, "; ")))
		}
	}
	slices.SortFunc(p.Impls, func(a, b []string) int { return slices.Compare(a, b) })
	slices.SortFunc(p.Datasets, func(a, b []string) int { return slices.Compare(a, b) })
	return p
}
