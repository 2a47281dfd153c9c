package sdr

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time (user + system) the calling OS thread has used, or 0 if unavailable. Callers
// lock the goroutine to its thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
