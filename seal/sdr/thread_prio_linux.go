package sdr

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// backgroundThread locks the calling goroutine to its OS thread and lowers that thread's priority: to
// SCHED_IDLE if idle is set (falling back to nice 19), else to nice 19. The labeler's helpers (the gatherer
// with idle, the layer writers without) call it first and return without unlocking, so the thread ends with
// them and never serves other goroutines. A SCHED_IDLE thread never preempts a normal one when it wakes, and a
// CPU running only such threads counts as idle when the kernel places woken threads; nice-19 threads still did
// (a 512MiB PC1 with both helpers at nice 19 lost its labeling thread's CPU 2,200–10,900 times; with the
// gatherer at SCHED_IDLE 1,450–1,950 times, and wall time came within 0.2–0.4 s per layer of its CPU time).
// Starved helpers are covered: the labeler fills a table itself when the gatherer does not start on it
// (gatherer.table), and the writer, at nice 19 rather than SCHED_IDLE, still gets a share on a saturated
// machine.
//
// Ending threads has one consequence outside this package: Linux sends a child's parent-death signal
// (SysProcAttr.Pdeathsig) when the thread that forked it exits, so a child that another part of the process
// started with one from a thread of Go's pool dies when a helper later ends on that thread
// (golang.org/issue/27505). sealfleet starts its own children without one; code embedding this package that
// sets Pdeathsig should fork from a goroutine locked to its thread for the child's life (as browsertest does
// for Chromium).
func backgroundThread(idle bool) {
	runtime.LockOSThread()
	if idle && unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}, 0) == nil {
		return
	}
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19) // lowering one's own priority is always allowed
}
