//go:build linux

package sched

import "syscall"

// threadCPUNanos returns the CPU time the calling OS thread has used (RUSAGE_THREAD), or -1.
func threadCPUNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
