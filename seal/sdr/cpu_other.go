//go:build !linux

package sdr

import "time"

// threadCPU is not measured on this platform.
func threadCPU() time.Duration { return 0 }

// threadPreemptions is not measured on this platform.
func threadPreemptions() uint64 { return 0 }
