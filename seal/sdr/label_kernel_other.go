//go:build !amd64 || purego

package sdr

// haveLabelKernel is false: the SHA-NI label kernels exist only for amd64.
const haveLabelKernel = false

// labelRangeKernel is never called where haveLabelKernel is false.
func labelRangeKernel(replicaID *[32]byte, layer int, pc *ParentsCache, cur, prev []byte, lo, hi uint64) {
	panic("sdr: SHA-NI label kernel unavailable")
}

// shaChainKernel is never called where haveLabelKernel is false.
func shaChainKernel(buf *[NodeSize]byte, n int) {
	panic("sdr: SHA-NI label kernel unavailable")
}
