package calib

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mlbench/mlbench/bench"
)

// Bounds of each triad array's length: 16 Mi float64s (128 MiB) is far
// beyond any one core's caches; 32 Mi (256 MiB, 768 MiB for the three)
// bounds what a shared machine is asked for.
const (
	minTriadLen = 16 << 20
	maxTriadLen = 32 << 20
)

// TriadLen is the default array length: STREAM's rule, each array at
// least four times the last-level caches together (as sysfs lists them),
// within [minTriadLen, maxTriadLen]. A VM often lists its host's whole L3
// (300 MiB on a 2-core guest), which the cap keeps from asking for gigabytes;
// the three arrays then still exceed that cache twice over.
func TriadLen() int {
	return min(maxTriadLen, max(minTriadLen, 4*llcBytes("/sys/devices/system/cpu")/8))
}

// Triad measures memory bandwidth as STREAM's triad, a[i] = b[i] + s*c[i],
// over three float64 arrays of n elements split into one contiguous
// chunk per goroutine (threads of them, each touching its chunk first so
// its pages are local). It counts 24 bytes per element (two reads, one
// write; not the write-allocate read) and keeps the best of repeats.
func Triad(threads, n, repeats int) (bench.Measure, error) {
	if threads < 1 || n < threads || repeats < 1 {
		return bench.Measure{}, fmt.Errorf("calibrate: triad needs threads, repeats >= 1 and n >= threads; got %d, %d, %d", threads, repeats, n)
	}
	a, b, c := make([]float64, n), make([]float64, n), make([]float64, n)
	chunk := func(k int) (int, int) { return k * n / threads, (k + 1) * n / threads }
	parallel(threads, func(k int) {
		lo, hi := chunk(k)
		for i := lo; i < hi; i++ {
			a[i], b[i], c[i] = 0, 1, 2
		}
	})
	best := time.Duration(1<<63 - 1)
	for range repeats {
		t0 := time.Now()
		parallel(threads, func(k int) {
			lo, hi := chunk(k)
			triad(a[lo:hi], b[lo:hi], c[lo:hi], 3)
		})
		best = min(best, time.Since(t0))
	}
	if a[n-1] != 7 { // 1 + 3*2: the kernel really ran (and cannot be optimised away)
		return bench.Measure{}, fmt.Errorf("calibrate: triad computed %v, want 7", a[n-1])
	}
	return bench.Measure{
		Value:   float64(24*n) / best.Seconds(),
		Repeats: repeats,
		Kernel:  fmt.Sprintf("STREAM triad in Go, %d goroutines, 3 x %d MiB float64 arrays", threads, 8*n>>20),
	}, nil
}

func triad(a, b, c []float64, s float64) {
	b, c = b[:len(a)], c[:len(a)]
	for i := range a {
		a[i] = b[i] + s*c[i]
	}
}

// parallel runs f(0..n-1) in n goroutines and waits for them.
func parallel(n int, f func(k int)) {
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(k)
		}()
	}
	wg.Wait()
}

// llcBytes sums the sizes of the distinct last-level caches under sysfs
// cpu (each cache once, however many CPUs share it); 0 when unreadable.
func llcBytes(cpu string) int {
	caches, _ := filepath.Glob(filepath.Join(cpu, "cpu[0-9]*", "cache", "index[0-9]*"))
	type cache struct {
		level int
		cpus  string
	}
	sizes, top := map[cache]int{}, 0
	for _, d := range caches {
		lv, err1 := strconv.Atoi(readTrim(filepath.Join(d, "level")))
		sz, err2 := parseSize(readTrim(filepath.Join(d, "size")))
		if err1 != nil || err2 != nil || readTrim(filepath.Join(d, "type")) == "Instruction" {
			continue
		}
		sizes[cache{lv, readTrim(filepath.Join(d, "shared_cpu_list"))}] = sz
		top = max(top, lv)
	}
	total := 0
	for c, sz := range sizes {
		if c.level == top {
			total += sz
		}
	}
	return total
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// parseSize reads sysfs cache sizes: "32K", "2048K", "105M", or bytes.
func parseSize(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	v, err := strconv.Atoi(s)
	return v * mult, err
}
