//go:build !unix

package classical_test

func cpuSeconds() float64 { return 0 }
