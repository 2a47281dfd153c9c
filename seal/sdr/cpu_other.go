//go:build !linux

package sdr

import "time"

// threadCPU is not measured on this platform.
func threadCPU() time.Duration { return 0 }

// threadUsage is not measured on this platform.
func threadUsage() (cpu time.Duration, preemptions uint64, tid int) { return 0, 0, 0 }

// hostCPUTimes is not measured on this platform.
func hostCPUTimes() (steal, busy time.Duration, ok bool) { return 0, 0, false }
