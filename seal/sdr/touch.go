//go:build amd64 || arm64

package sdr

// touchPage faults in the page at p, writable, without changing its data: an atomic read-modify-write that
// adds nothing (touch_amd64.s, touch_arm64.s; touch_other.go elsewhere).
//
// The gatherer touches pages of layer buffers that other goroutines write and read without synchronising with
// it: the labeler may overtake a starved gatherer and write the word being touched, and a gatherer stopped at
// the end of layer 1 (gatherer.stop does not wait for it: its thread has the idle scheduling class and may not
// run for seconds on a busy machine) may still be touching the head of the buffer that layer 2 is written into
// and its file written from. None of this can lose or change a byte: the touch is indivisible, so a concurrent
// store lands either before it (and is written back unchanged) or after it. The race detector, though, reports
// any atomic access concurrent with a plain one, and it reported this one when a straggling layer-1 gatherer
// touched a test's buffer as the test read it. So on amd64 and arm64 the touch is one assembly instruction
// (or exclusive pair), outside the detector's view, rather than a call to sync/atomic.
//
//go:noescape
func touchPage(p *byte)
