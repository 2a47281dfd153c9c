package sched

import (
	"context"
	"sync"

	"sealfleet/storiface"
)

// checkSessions asks every worker for its session (concurrently, each bounded by half the interval) and applies
// the outcome: an error disables the worker (its waiting tasks go back to the queue); a new session ID means the
// worker restarted (its info is read again and its waiting tasks are returned); a good answer re-enables a
// disabled worker. With wait it returns after every check has been applied (tests use this).
func (s *Scheduler) checkSessions(ctx context.Context, wait bool) {
	s.mu.Lock()
	type target struct {
		id storiface.WorkerID
		sw *shellWorker
	}
	var targets []target
	for id, sw := range s.workers {
		if !sw.checking && !s.closed {
			sw.checking = true
			targets = append(targets, target{id, sw})
		}
	}
	s.running.Add(len(targets))
	s.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(len(targets))
	for _, t := range targets {
		go func() {
			defer s.running.Done()
			defer wg.Done()
			s.checkSession(ctx, t.id, t.sw)
		}()
	}
	if wait {
		wg.Wait()
	}
}

func (s *Scheduler) checkSession(ctx context.Context, id storiface.WorkerID, sw *shellWorker) {
	sctx, cancel := context.WithTimeout(ctx, s.cfg.SessionInterval/2)
	ses, err := sw.w.Session(sctx)
	cancel()
	var restarted bool
	if err == nil && ses != sw.session {
		restarted = true
	}
	var info storiface.WorkerInfo
	var tasks map[storiface.TaskType]struct{}
	var paths []storiface.StoragePath
	if restarted {
		info, tasks, paths, err = describe(ctx, sw.w)
	}
	s.mu.Lock()
	defer s.poke()
	defer s.mu.Unlock()
	sw.checking = false
	h := s.core.Worker(id)
	if h == nil || s.workers[id] != sw {
		return // removed meanwhile
	}
	switch {
	case err != nil:
		if h.Enabled {
			s.log.Warn("worker session failed: disabling", "worker", id, "host", h.Info.Hostname, "err", err)
			_ = s.core.DisableWorker(id)
		}
	case restarted:
		s.log.Warn("worker restarted: new session", "worker", id, "old", sw.session, "new", ses)
		sw.session = ses
		_ = s.core.UpdateWorker(id, info, tasks, paths)
		_ = s.core.EnableWorker(id)
	case !h.Enabled:
		s.log.Info("worker session recovered: enabling", "worker", id)
		_ = s.core.EnableWorker(id)
	}
}
