//go:build linux

package sched

import "golang.org/x/sys/unix"

// threadCPUNanos returns the CPU time the calling OS thread has used (CLOCK_THREAD_CPUTIME_ID), or -1.
func threadCPUNanos() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return -1
	}
	return ts.Nano()
}
