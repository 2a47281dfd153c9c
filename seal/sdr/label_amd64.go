//go:build amd64 && !purego

//go:generate go run ./internal/genlabel label_amd64.s

package sdr

import "sealfleet/seal/internal/shani"

// haveLabelKernel is set when the CPU runs the SHA-NI label kernels.
var haveLabelKernel = shani.Available

//go:noescape
func labelSHANI14(job *labelJob)

//go:noescape
func labelSHANI6(job *labelJob)

//go:noescape
func blockZeroSHANI(job *labelJob)

//go:noescape
func shaChainSHANI(job *labelJob, n int)

// labelRowsKernel labels the job's nodes with the SHA-NI kernels (see labelJob for what the table must hold).
func labelRowsKernel(job *labelJob) {
	if job.lo >= job.hi {
		return
	}
	if job.degree == BaseDegree {
		labelSHANI6(job)
	} else {
		labelSHANI14(job)
	}
}

// blockZeroKernel writes the job's block-0 states (see writeStarts).
func blockZeroKernel(job *labelJob) { blockZeroSHANI(job) }

// shaChainKernel runs n chained label hashes with the kernels' instruction sequence (see ShaNsPerNode).
func shaChainKernel(buf *[NodeSize]byte, n int) {
	job := labelJob{cur: &buf[0], consts: labelTable, layer: 2}
	shaChainSHANI(&job, n)
}
