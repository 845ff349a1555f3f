//go:build unix

package classical_test

import "syscall"

// cpuSeconds returns the user+system CPU time of this process, so that
// benchmarks can report CPU per operation, which a loaded machine inflates
// less than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
