//go:build !linux

package sched

// threadCPUNanos is not available on this platform.
func threadCPUNanos() int64 { return -1 }
