//go:build !amd64

package sdr

// prefetchLabels is a no-op where no prefetch instruction is wired up.
func prefetchLabels(parents *[TotalParents]uint32, cur, prev *byte, degree int) {}
