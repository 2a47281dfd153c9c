//go:build !amd64 || purego

package sdr

// haveLabelKernel is false: the SHA-NI label kernels exist only for amd64.
const haveLabelKernel = false

// labelRowsKernel is never called where haveLabelKernel is false.
func labelRowsKernel(job *labelJob) {
	panic("sdr: SHA-NI label kernel unavailable")
}

// shaChainKernel is never called where haveLabelKernel is false.
func shaChainKernel(buf *[NodeSize]byte, n int) {
	panic("sdr: SHA-NI label kernel unavailable")
}

// blockZeroKernel is never called where haveLabelKernel is false.
func blockZeroKernel(job *labelJob) {
	panic("sdr: SHA-NI label kernel unavailable")
}
