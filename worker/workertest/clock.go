// Package workertest holds in-memory fakes of sealfleet's real interfaces — a fast seal.Backend that writes small
// files, a sector index, a store over a temp dir, a WorkerReturn recorder and a manual clock — for the tests of
// the worker and manager packages. It is for tests only.
package workertest

import (
	"sync"
	"time"
)

// Clock is a manual clock: After channels fire only when Advance moves time past their deadline. Waiters lets a
// test wait, without sleeping, until code under test is blocked on After.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []timer
	waiting chan struct{} // receives one value per After call
}

type timer struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a clock at a fixed instant.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), waiting: make(chan struct{}, 1024)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives once the clock has been advanced by d.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, timer{at: c.now.Add(d), ch: ch})
	c.waiting <- struct{}{}
	return ch
}

// WaitAfter blocks until some goroutine has called After (once per call of WaitAfter), and returns the
// durations of the timers pending at that moment.
func (c *Clock) WaitAfter() []time.Duration {
	<-c.waiting
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, t := range c.timers {
		out = append(out, t.at.Sub(c.now))
	}
	return out
}

// Advance moves time forward by d and fires the timers that are due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.ch <- c.now
			continue
		}
		kept = append(kept, t)
	}
	c.timers = kept
}
