//go:build !unix

package classical

func cpuSeconds() float64 { return 0 }
