package sdr

import (
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time (user + system) the calling OS thread has used, to the nanosecond, or 0 if
// unavailable. Callers lock the goroutine to its thread. It reads CLOCK_THREAD_CPUTIME_ID: getrusage leaves out
// what a running thread has used since the scheduler's last tick (up to 4 ms here), which made the CPU time of
// an 8MiB layer's kernel calls uncertain by a few per cent.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// threadUsage returns the calling OS thread's id, CPU time (user + system) and involuntary context switches
// (times another thread took its CPU), or zeros if unavailable. The goroutine is locked to its thread for the
// three system calls, so that all three describe one thread.
func threadUsage() (cpu time.Duration, preemptions uint64, tid int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0, 0, 0
	}
	return threadCPU(), uint64(ru.Nivcsw), syscall.Gettid()
}

// hostCPUTimes returns the machine's time stolen by the hypervisor (the steal column of /proc/stat, all CPUs)
// and its busy time (parseProcStat), or ok false if /proc/stat cannot be read.
func hostCPUTimes() (steal, busy time.Duration, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	return parseProcStat(data)
}
