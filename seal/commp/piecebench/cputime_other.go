//go:build !unix

package piecebench

import "time"

// cpuTime is not measured on this platform; CPU-time figures come out as zero.
func cpuTime() time.Duration { return 0 }
