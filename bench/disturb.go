package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Machine is what the orchestrator saw of the rest of the machine while a
// job ran: CPU time spent by processes outside the job's process tree (and
// outside the orchestrator), and the load average before and after.
type Machine struct {
	// OtherCPUSeconds is the machine's busy CPU time (/proc/stat: all but
	// idle and iowait) during the job, minus the job's tree and the
	// orchestrator's own.
	OtherCPUSeconds float64 `json:"other_cpu_seconds"`
	// OtherCores is OtherCPUSeconds over the job's wall time: how many
	// cores other processes kept busy on average.
	OtherCores  float64 `json:"other_cores"`
	Load1Before float64 `json:"load1_before"`
	Load1After  float64 `json:"load1_after"`
	// Waited is set when the run waited for a quiet machine before the
	// job (Config.WaitQuiet): "quiet after 12s" or "not quiet after 60s".
	Waited string `json:"waited,omitempty"`
}

// DisturbedCores is the average number of cores other processes may keep
// busy before a result is flagged as disturbed. An idle machine's background
// (daemons, the shell) stays under 0.05 cores; one competing busy thread is
// 1.0 and, on the 2-core machine this was tuned on, made a 2 ms fit take
// 27.6 ms. A quarter of a core is far above the first and catches a
// competitor that runs only a quarter of the time.
const DisturbedCores = 0.25

// minJudgedWall is the shortest job whose disturbance is judged: /proc/stat
// counts in 10 ms ticks, so a shorter window is mostly rounding.
const minJudgedWall = 0.5

// Disturbed says whether other processes were busy enough while the result
// was made to distort its timings, and how busy.
func (r *Result) Disturbed() (bool, string) {
	m := r.Machine
	if m == nil || r.WallSeconds < minJudgedWall || m.OtherCores <= DisturbedCores {
		return false, ""
	}
	return true, fmt.Sprintf("other processes kept %.2f cores busy on average while it ran (load average %.2f before, %.2f after; flagged above %.2f)",
		m.OtherCores, m.Load1Before, m.Load1After, DisturbedCores)
}

// machineBusyTicks is the busy CPU time of the whole machine since boot,
// in clock ticks: the "cpu" line of /proc/stat minus idle and iowait (guest
// time is already inside user and nice).
func machineBusyTicks() (int64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	return parseBusyTicks(string(b))
}

func parseBusyTicks(stat string) (int64, bool) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var busy int64
	for i, s := range f[1:] {
		if i >= 8 { // guest and guest_nice are counted in user and nice
			break
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, true
}

// selfCPUSeconds is the orchestrator's own user+system time.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// load1 is the one-minute load average.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// machineWatch measures the machine around one job.
type machineWatch struct {
	busy  int64
	self  float64
	load  float64
	valid bool
}

func watchMachine() machineWatch {
	busy, ok := machineBusyTicks()
	return machineWatch{busy: busy, self: selfCPUSeconds(), load: load1(), valid: ok}
}

// end returns what other processes did since w, given the job's own CPU
// time and wall time; nil when /proc/stat cannot be read.
func (w machineWatch) end(treeCPU, wall float64) *Machine {
	busy, ok := machineBusyTicks()
	if !w.valid || !ok {
		return nil
	}
	other := float64(busy-w.busy)/clockTicks - treeCPU - (selfCPUSeconds() - w.self)
	other = max(other, 0) // tick rounding can make it slightly negative
	m := &Machine{OtherCPUSeconds: other, Load1Before: w.load, Load1After: load1()}
	if wall > 0 {
		m.OtherCores = other / wall
	}
	return m
}

// quietWindow is how long the machine is watched at a time while waiting
// for it to be quiet.
const quietWindow = time.Second

// waitQuiet waits, up to limit, until other processes keep at most
// DisturbedCores busy over a quietWindow, and says how it went.
func waitQuiet(ctx context.Context, limit time.Duration) string {
	start := time.Now()
	for {
		w := watchMachine()
		select {
		case <-ctx.Done():
			return "interrupted while waiting for a quiet machine"
		case <-time.After(quietWindow):
		}
		m := w.end(0, quietWindow.Seconds())
		waited := time.Since(start).Round(time.Second)
		if m == nil || m.OtherCores <= DisturbedCores {
			return fmt.Sprintf("quiet after %v", waited)
		}
		if time.Since(start) >= limit {
			return fmt.Sprintf("not quiet after %v (other processes kept %.2f cores busy)", waited, m.OtherCores)
		}
	}
}
