package sdr

import (
	"sync"
	"sync/atomic"
)

// arena owns the memory mappings of a Label run — the layer buffers and the gatherers' tables — and unmaps them
// once the run and every gatherer goroutine have released it. A gatherer starved of CPU (it runs at the lowest
// priority) may still be filling a table when its layer ends; the labeler goes on without waiting for it
// (gatherer.stop), and this keeps what it reads and writes mapped until it is done.
type arena struct {
	refs  atomic.Int64
	mu    sync.Mutex
	frees []func()
}

// newArena returns an arena with one reference, its creator's.
func newArena() *arena {
	a := &arena{}
	a.refs.Store(1)
	return a
}

// add hands a mapping's free function to the arena.
func (a *arena) add(free func()) {
	a.mu.Lock()
	a.frees = append(a.frees, free)
	a.mu.Unlock()
}

// retain adds a reference.
func (a *arena) retain() { a.refs.Add(1) }

// release drops a reference; the last one unmaps everything, newest first.
func (a *arena) release() {
	if a.refs.Add(-1) != 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.frees) - 1; i >= 0; i-- {
		a.frees[i]()
	}
	a.frees = nil
}
