//go:build amd64 && !purego

package sdr

// haveGatherKernel: the gatherer's copy loop is in assembly (gather_amd64.s), which prefetches the labels a few
// rows ahead; Go has no prefetch instruction. The stores of label addresses into the rows need no write
// barriers: every address points into a layer buffer or the table's copies, which their owners keep alive.
const haveGatherKernel = true

//go:noescape
func gatherRowsAsm(job *gatherJob)
