package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/stats"
)

// progress draws "[####......] 3/12 label 0:42" on a terminal, redrawn every
// second while a job runs; on anything else it prints one line per job.
type progress struct {
	w     io.Writer
	tty   bool
	total int

	mu    sync.Mutex
	line  string
	since time.Time
	stop  chan struct{}
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) start(i int, label string) {
	p.clear()
	p.mu.Lock()
	defer p.mu.Unlock()
	const width = 20
	done := width * i / p.total
	p.line = fmt.Sprintf("[%s%s] %d/%d %s", strings.Repeat("#", done), strings.Repeat(".", width-done), i+1, p.total, label)
	p.since = time.Now()
	if !p.tty {
		fmt.Fprintf(p.w, "%s ...\n", p.line)
		return
	}
	p.stop = make(chan struct{})
	go p.redraw(p.stop)
}

func (p *progress) redraw(stop chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		p.mu.Lock()
		el := time.Since(p.since).Round(time.Second)
		fmt.Fprintf(p.w, "\r\033[K%s %s", p.line, el)
		p.mu.Unlock()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// clear ends the redraw of the current job and wipes its line.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// liveTable prints one line per result as it arrives: status, the median
// of each phase, and the main phase's ratio to the reference of its case.
type liveTable struct {
	w    io.Writer
	refs map[string]*bench.Result
	head bool
}

func newLiveTable(w io.Writer) *liveTable {
	return &liveTable{w: w, refs: map[string]*bench.Result{}}
}

func (l *liveTable) add(r *bench.Result) {
	if !l.head {
		fmt.Fprintf(l.w, "%-7s %-34s %-20s %s\n", "STATUS", "TASK", "IMPL", "MEDIANS (ratio of the main phase to the reference)")
		l.head = true
	}
	task := r.Task
	if r.Variant != "" {
		task += " " + r.Variant
	}
	key := r.Task + "\x00" + r.Variant
	null := bench.IsNull(r.Impl)
	if r.Reference == "" && r.Status == bench.StatusOK && !null {
		l.refs[key] = r
	}
	if r.Status != bench.StatusOK {
		st := "FAILED"
		if r.Status == bench.StatusUnverified {
			st = "UNVERIF" // fits the column; the reason says the rest
		}
		fmt.Fprintf(l.w, "%-7s %-34s %-20s %s\n", st, task, r.Impl, oneLine(r.Reason))
		return
	}
	main := bench.MainPhase(r.Phases)
	var cells []string
	for _, ph := range bench.SortedPhases(r.Phases) {
		if len(r.Phases[ph]) == 0 {
			continue
		}
		s := stats.Summarize(r.Phases[ph])
		cell := fmt.Sprintf("%s %s", ph, fmtSeconds(s.Median))
		if ref := l.refs[key]; ph == main && ref != nil && ref != r && !null && len(ref.Phases[ph]) > 0 {
			cell += fmt.Sprintf(" (%.2fx)", stats.MedianRatio(r.Phases[ph], ref.Phases[ph]).Ratio)
		}
		cells = append(cells, cell)
	}
	st := "ok"
	if null {
		st = "null" // a baseline: no parity, no ratio
		cells = append(cells, fmt.Sprintf("wall %s", fmtSeconds(r.WallSeconds)))
	}
	fmt.Fprintf(l.w, "%-7s %-34s %-20s %s\n", st, task, r.Impl, strings.Join(cells, "  "))
}

func fmtSeconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.3gs", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.3gms", s*1e3)
	case s >= 1e-6:
		return fmt.Sprintf("%.3gµs", s*1e6)
	}
	return fmt.Sprintf("%.3gns", s*1e9)
}
