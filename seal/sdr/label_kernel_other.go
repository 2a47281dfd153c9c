//go:build !amd64 || purego

package sdr

// haveLabelKernel is false: the SHA-NI label kernels exist only for amd64.
const haveLabelKernel = false

// labelRangeKernel is never called where haveLabelKernel is false.
func labelRangeKernel(prefix *[prefixLen]byte, pc *ParentsCache, cur, prev []byte, degree int, lo, hi uint64) {
	panic("sdr: SHA-NI label kernel unavailable")
}

// labelOne is never called where haveLabelKernel is false.
func labelOne(prefix *[prefixLen]byte, parents *[TotalParents]uint32, buf *byte) {
	panic("sdr: SHA-NI label kernel unavailable")
}
