package bench

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SampleEvery is how often the process tree's memory and CPU are read.
const SampleEvery = 100 * time.Millisecond

// procResult is what running one implementation process gave.
type procResult struct {
	ExitCode       int
	StartErr       error
	TimedOut       bool
	Stderr         []byte
	Wall           time.Duration
	PeakRSS        int64 // bytes, ru_maxrss from wait4 (includes the parent's RSS at exec on Linux)
	SampledPeakRSS int64 // bytes, max over samples of the whole tree's RSS
	CPUSeconds     float64
	Samples        []Sample
	Machine        *Machine    // the rest of the machine while it ran
	GPUSamples     []GPUSample // nil without a GPU monitor, or when the job used no GPU
	PeakGPUMem     int64       // bytes, max over GPU samples of the job's processes' GPU memory
	GPUErr         error       // the GPU monitor's first error (sampling stopped there)
}

// runProcess starts argv in its own process group, samples the group's RSS
// and CPU (and, with a GPU monitor, the group's GPU memory), and waits,
// killing the whole group at the timeout or when ctx ends. Stdout is discarded (libraries print there freely); the tail of
// stderr is kept.
//
// The process gets SIGKILL when the orchestrator dies (Pdeathsig), however it
// dies; onStart, when set, is called with its pid once it runs.
// gpu, when set, samples the job's GPU memory beside its RSS.
func runProcess(ctx context.Context, argv, env []string, dir string, timeout time.Duration, onStart func(pid int), gpu *gpuSampler) procResult {
	var pr procResult
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	stderr := &tailBuffer{max: 64 << 10}
	cmd.Stdout = nil
	cmd.Stderr = stderr
	// Pdeathsig fires when the thread that started the child ends, not the
	// process: keep this goroutine on its thread until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// A grandchild that escaped the group could hold stderr open: give up
	// on the pipe shortly after the process itself is gone.
	cmd.WaitDelay = 2 * time.Second

	watch := watchMachine()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pr.StartErr = err
		pr.ExitCode = -1
		return pr
	}
	pgid := cmd.Process.Pid
	if onStart != nil {
		onStart(pgid)
	}
	if gpu != nil {
		gpu.start = start
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pr.sample(pgid, start, gpu, done)
	}()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	var err error
	select {
	case err = <-waitErr:
	case <-ctx.Done():
		pr.TimedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		err = <-waitErr
	}
	// Children left behind by a process that exited are ended too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	close(done)
	wg.Wait()
	if gpu != nil {
		pr.GPUSamples, pr.PeakGPUMem, pr.GPUErr = gpu.out, gpu.peak, gpu.err
	}
	pr.Wall = time.Since(start)
	pr.Stderr = stderr.Bytes()
	pr.exited(cmd.ProcessState, err)
	treeCPU := pr.CPUSeconds
	if n := len(pr.Samples); n > 0 {
		treeCPU = max(treeCPU, pr.Samples[n-1].CPUSec)
	}
	pr.Machine = watch.end(treeCPU, pr.Wall.Seconds())
	return pr
}

var pageSize = int64(os.Getpagesize())

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat; it is
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// treeUsage sums the resident memory and CPU time of every process in the
// process group pgid (the implementation and anything it started), and
// returns their PIDs (none when the group is gone).
func treeUsage(pgid int) (rss int64, cpuSec float64, pids map[int]bool) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, nil
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may
		// hold spaces: state(3) ppid(4) pgrp(5) ... utime(14) stime(15) ... rss(24).
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 22 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g != pgid && pid != pgid {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		pages, _ := strconv.ParseInt(f[21], 10, 64)
		rss += pages * pageSize
		cpuSec += float64(ut+st) / clockTicks
		if pids == nil {
			pids = map[int]bool{}
		}
		pids[pid] = true
	}
	return rss, cpuSec, pids
}

// procStartTime is field 22 of /proc/PID/stat, the process's start time in
// clock ticks since boot: with the pid it names one process, even after the
// pid is reused.
func procStartTime(pid int) (int64, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, false
	}
	t, err := strconv.ParseInt(f[19], 10, 64)
	return t, err == nil
}

// RunningFile, in a results directory, names the implementation process a
// run has running, so that the next run into the directory can end it when
// the orchestrator was killed before it could (SIGKILL, the OOM killer).
const RunningFile = ".running.json"

type running struct {
	PID       int   `json:"pid"` // also its process group
	StartTime int64 `json:"start_time"`
	Parent    int   `json:"orchestrator_pid"`
}

// recordRunning writes dir's RunningFile for pid.
func recordRunning(dir string, pid int) {
	st, ok := procStartTime(pid)
	if !ok {
		return
	}
	_ = WriteJSONAtomic(filepath.Join(dir, RunningFile), running{PID: pid, StartTime: st, Parent: os.Getpid()})
}

// killSurvivor ends the process group named in dir's RunningFile when that
// process still runs (the same pid and start time: really ours, not a reused
// pid), waits for it to go, and removes the file. It is called with the
// directory's lock held, so the run that wrote the file is gone.
func killSurvivor(dir string) (killed bool) {
	path := filepath.Join(dir, RunningFile)
	var r running
	if err := readJSON(path, &r); err != nil {
		os.Remove(path)
		return false
	}
	if st, ok := procStartTime(r.PID); ok && st == r.StartTime && r.PID > 1 {
		_ = syscall.Kill(-r.PID, syscall.SIGKILL)
		_ = syscall.Kill(r.PID, syscall.SIGKILL)
		for i := 0; i < 100; i++ {
			if st, ok := procStartTime(r.PID); !ok || st != r.StartTime || zombie(r.PID) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		killed = true
	}
	os.Remove(path)
	return killed
}

// zombie says whether pid has exited and waits for its parent to reap it.
func zombie(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] == 'Z'
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf.Bytes())
}

// sample records the RSS and CPU time of the process group pgid (and its
// GPU use) every SampleEvery until done is closed.
func (pr *procResult) sample(pgid int, start time.Time, gpu *gpuSampler, done <-chan struct{}) {
	t := time.NewTicker(SampleEvery)
	defer t.Stop()
	for {
		rss, cpu, pids := treeUsage(pgid)
		if len(pids) > 0 {
			pr.Samples = append(pr.Samples, Sample{T: time.Since(start).Seconds(), RSS: rss, CPUSec: cpu})
			pr.SampledPeakRSS = max(pr.SampledPeakRSS, rss)
			gpu.sample(pids)
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// exited records how the process ended: exit code (128+signal when a
// signal ended it, -1 when there is no state and Wait failed), peak RSS and
// CPU time from wait4.
func (pr *procResult) exited(ps *os.ProcessState, waitErr error) {
	if ps == nil {
		if waitErr != nil {
			pr.ExitCode = -1
		}
		return
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		pr.PeakRSS = ru.Maxrss * 1024
		pr.CPUSeconds = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	pr.ExitCode = ps.ExitCode()
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		pr.ExitCode = 128 + int(ws.Signal())
		if !pr.TimedOut {
			pr.Stderr = append(pr.Stderr, []byte("\nkilled by signal "+ws.Signal().String())...)
		}
	}
}
