//go:build !amd64 || purego

package sdr

// haveGatherKernel is false: the gatherer copies with Go code.
const haveGatherKernel = false

// gatherRowsAsm is never called where haveGatherKernel is false.
func gatherRowsAsm(job *gatherJob) { panic("sdr: gather kernel unavailable") }
