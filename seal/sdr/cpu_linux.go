package sdr

import (
	"os"
	"strconv"
	"strings"
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

// threadPreemptions returns how many times the calling OS thread has been descheduled involuntarily (another
// thread took its CPU), or 0 if unavailable. Callers lock the goroutine to its thread.
func threadPreemptions() uint64 {
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "nonvoluntary_ctxt_switches:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}
