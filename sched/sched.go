package sched

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"sealfleet/resources"
	"sealfleet/storiface"
)

// Config configures a Scheduler.
type Config struct {
	// Assigner is "utilization" (default) or "spread".
	Assigner string
	// StarvationAfter is how long a request may wait before it reserves capacity on its best worker
	// (default DefaultStarvationAfter; negative disables).
	StarvationAfter time.Duration
	// SessionInterval is how often each worker's session is checked (default 10 s).
	SessionInterval time.Duration
	// Windows per worker (default 2).
	Windows int
	// Seed for deterministic tie-breaks.
	Seed uint64
	// Table is the default resource table (default resources.DefaultTable()).
	Table resources.Table
	// Clock (default the wall clock).
	Clock Clock
	// Logger (default discards).
	Logger *slog.Logger
	// OnJob, if set, is told of every request queued, started and finished (see JobEvent), so that a caller can
	// keep an exact job history however short the tasks are. It is called synchronously, never under the
	// scheduler's lock, from the goroutine where the event happens: the caller of Schedule or RemoveRequest,
	// a task's goroutine, Close, and the loop for a request whose worker was removed before it started. It must
	// therefore be cheap and must not block (record the event, or hand it to a buffered channel); it may call
	// the Scheduler's read methods.
	OnJob func(JobEvent)
}

// DefaultStarvationAfter is the default starvation bound. It is short on purpose: a reservation only keeps
// smaller tasks from starting where they would delay the reserved one (conservative backfilling), and in the
// simulator a short bound is what keeps a PC2 from waiting behind a stream of PC1s while the C2 GPU idles
// (sim/scenarios/issue-example.json: ratio 1.013 with 2 minutes, 1.06 with 30, 1.20 without reservations).
const DefaultStarvationAfter = 2 * time.Minute

// DefaultSessionInterval is the default session heartbeat period, as the reference's HeartbeatInterval.
const DefaultSessionInterval = 10 * time.Second

// Scheduler is the shell around the decision core: it serialises events into the core, carries out the core's
// actions against real workers in goroutines, and checks worker sessions. All methods are safe for concurrent use.
type Scheduler struct {
	cfg   Config
	log   *slog.Logger
	clock Clock

	mu      sync.Mutex
	core    *Core
	workers map[storiface.WorkerID]*shellWorker
	closed  bool

	wake    chan struct{}
	closing chan struct{}
	running sync.WaitGroup // prepare/work goroutines and session checks
}

type shellWorker struct {
	w        Worker
	session  uuid.UUID
	checking bool
}

// job is what the shell keeps with each request.
type job struct {
	ctx     context.Context
	prepare PrepareAction
	work    WorkerAction
	ret     chan error // buffered 1: exactly one result per request
	run     *jobRun    // set when a worker starts the request; guarded by the core's ordering (see begin)
}

// New validates cfg and returns a scheduler; call Run to start it.
func New(cfg Config) (*Scheduler, error) {
	if cfg.StarvationAfter == 0 {
		cfg.StarvationAfter = DefaultStarvationAfter
	}
	if cfg.StarvationAfter < 0 {
		cfg.StarvationAfter = 0
	}
	if cfg.SessionInterval == 0 {
		cfg.SessionInterval = DefaultSessionInterval
	}
	if cfg.SessionInterval < 0 {
		return nil, fmt.Errorf("session interval %s: must be positive", cfg.SessionInterval)
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	core, err := NewCore(CoreConfig{Assigner: cfg.Assigner, Windows: cfg.Windows, StarvationAfter: cfg.StarvationAfter,
		Seed: cfg.Seed, Table: cfg.Table, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("scheduler config: %w", err)
	}
	return &Scheduler{cfg: cfg, log: cfg.Logger.With("component", "sched"), clock: cfg.Clock, core: core,
		workers: map[storiface.WorkerID]*shellWorker{}, wake: make(chan struct{}, 1), closing: make(chan struct{})}, nil
}

// poke asks the loop to step the core.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run is the shell loop: it steps the core when poked and checks sessions every SessionInterval, until ctx ends
// or Close is called.
func (s *Scheduler) Run(ctx context.Context) {
	ticker := s.clock.NewTicker(s.cfg.SessionInterval)
	defer ticker.Stop()
	s.step()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case <-s.wake:
			s.step()
		case <-ticker.C():
			s.checkSessions(ctx, false)
			s.step()
		}
	}
}

type dispatch struct {
	a    Action
	w    Worker
	info storiface.WorkerInfo // the worker's info when the action was decided
}

// step runs the core once and starts the goroutines for its actions.
func (s *Scheduler) step() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	acts := s.core.Step(s.clock.Now())
	ds := make([]dispatch, 0, len(acts))
	var gone []*Request
	for _, a := range acts {
		sw := s.workers[a.Worker]
		if sw == nil {
			// Removed after the decision (a prepared task finishing its prepare step on a removed worker): the
			// request fails with a worker-restart code so the caller reschedules it.
			if a.Kind == ActPrepare {
				_ = s.core.PrepareDone(a.Req.ID, ErrUnknownWorker)
			} else {
				_ = s.core.WorkDone(a.Req.ID)
			}
			gone = append(gone, a.Req)
			continue
		}
		d := dispatch{a: a, w: sw.w}
		if h := s.core.Worker(a.Worker); h != nil {
			d.info = h.Info
		}
		ds = append(ds, d)
		s.running.Add(1)
	}
	s.mu.Unlock()
	for _, r := range gone {
		s.finish(r, storiface.Errf(storiface.ErrTempWorkerRestart, "worker %s removed before %s of %s started",
			r.Worker(), r.Task.Short(), r.Sector))
	}
	for _, d := range ds {
		go s.execute(d)
	}
}

// execute runs one action against its worker and reports the outcome to the core.
func (s *Scheduler) execute(d dispatch) {
	defer s.running.Done()
	r := d.a.Req
	j := r.Payload.(*job)
	switch d.a.Kind {
	case ActPrepare:
		s.begin(d)
		err := j.prepare.Action(j.ctx, d.w)
		if err != nil {
			err = fmt.Errorf("preparing %s of %s on %s: %w", r.Task.Short(), r.Sector, d.a.Worker, err)
		}
		s.mu.Lock()
		if cerr := s.core.PrepareDone(r.ID, err); cerr != nil {
			s.log.Error("core rejected prepare-done", "request", r.ID, "err", cerr)
		}
		if err == nil && s.closed {
			// The loop is gone: the work will not be dispatched.
			_ = s.core.WorkDone(r.ID)
			err = ErrClosed
		}
		s.mu.Unlock()
		if err != nil {
			s.finish(r, err)
		}
		s.poke()
	case ActWork:
		s.begin(d)
		err := j.work(j.ctx, d.w)
		s.mu.Lock()
		if cerr := s.core.WorkDone(r.ID); cerr != nil {
			s.log.Error("core rejected work-done", "request", r.ID, "err", cerr)
		}
		s.mu.Unlock()
		s.finish(r, err)
		s.poke()
	}
}

// Schedule queues a task for sector and blocks until its work returns (its error is returned), ctx ends before
// it started (ctx.Err()), it is removed (ErrRequestRemoved) or the scheduler closes first (ErrClosed). The
// priority comes from ctx (WithPriority); ctx is also passed to sel, prepare and work.
func (s *Scheduler) Schedule(ctx context.Context, sector storiface.SectorRef, task storiface.TaskType, sel Selector,
	prepare PrepareAction, work WorkerAction) error {
	if sel == nil || work == nil {
		return fmt.Errorf("scheduling %s of %s: selector and work are required", task.Short(), sector)
	}
	j := &job{ctx: ctx, prepare: prepare, work: work, ret: make(chan error, 1)}
	r := &Request{ID: uuid.New(), Sector: sector, Task: task, PrepType: prepare.PrepType,
		HasPrepare: prepare.Action != nil, Priority: PriorityOf(ctx), Sel: sel, Ctx: ctx, Added: s.clock.Now(), Payload: j}
	s.emit(s.event(JobQueued, r, nil)) // before the core has it, so that it comes before the request's other events
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.emit(s.event(JobFinished, r, ErrClosed))
		return ErrClosed
	}
	err := s.core.AddRequest(r)
	s.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("scheduling %s of %s: %w", task.Short(), sector, err)
		s.emit(s.event(JobFinished, r, err))
		return err
	}
	s.poke()
	select {
	case err := <-j.ret:
		return err
	case <-ctx.Done():
	}
	s.mu.Lock()
	removed := s.core.CancelRequest(r.ID)
	s.mu.Unlock()
	if removed {
		s.poke()
		s.emit(s.event(JobFinished, r, ctx.Err()))
		return ctx.Err()
	}
	return <-j.ret // started (or finishing): its work sees ctx and returns
}

// AddWorker reads a worker's info, task types, paths and session, and adds it to the scheduler enabled.
func (s *Scheduler) AddWorker(ctx context.Context, id storiface.WorkerID, w Worker) error {
	info, tasks, paths, err := describe(ctx, w)
	if err != nil {
		return fmt.Errorf("adding worker %s: %w", id, err)
	}
	ses, err := w.Session(ctx)
	if err != nil {
		return fmt.Errorf("adding worker %s: session: %w", id, err)
	}
	s.mu.Lock()
	defer s.poke()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.core.AddWorker(id, info, tasks, paths); err != nil {
		return err
	}
	s.workers[id] = &shellWorker{w: w, session: ses}
	s.log.Info("worker added", "worker", id, "host", info.Hostname, "tasks", len(tasks))
	return nil
}

func describe(ctx context.Context, w Worker) (storiface.WorkerInfo, map[storiface.TaskType]struct{}, []storiface.StoragePath, error) {
	info, err := w.Info(ctx)
	if err != nil {
		return info, nil, nil, fmt.Errorf("worker info: %w", err)
	}
	tasks, err := w.TaskTypes(ctx)
	if err != nil {
		return info, nil, nil, fmt.Errorf("worker task types: %w", err)
	}
	paths, err := w.Paths(ctx)
	if err != nil {
		return info, nil, nil, fmt.Errorf("worker paths: %w", err)
	}
	return info, tasks, paths, nil
}

// RemoveWorker forgets a worker: its waiting tasks go back to the queue, the connection is closed.
func (s *Scheduler) RemoveWorker(ctx context.Context, id storiface.WorkerID) error {
	s.mu.Lock()
	sw := s.workers[id]
	err := s.core.RemoveWorker(id)
	delete(s.workers, id)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.poke()
	if sw != nil {
		return sw.w.Close()
	}
	return nil
}

// RemoveRequest removes a request that has not started; its Schedule call returns ErrRequestRemoved.
func (s *Scheduler) RemoveRequest(ctx context.Context, id uuid.UUID) error {
	s.mu.Lock()
	r := s.core.Request(id)
	removed := r != nil && s.core.CancelRequest(id)
	s.mu.Unlock()
	if !removed {
		return fmt.Errorf("removing request %s: %w", id, ErrUnknownRequest)
	}
	s.finish(r, ErrRequestRemoved)
	s.poke()
	return nil
}

// Info returns the diagnostics of sched-diag (see Core.Diag: alike requests are grouped). Only the walk over the
// queue and the workers' answers per class of requests happen under the scheduler's lock; the answer is built
// after it is released, so a diagnosis delays scheduling by about one pass over the queue.
func (s *Scheduler) Info(ctx context.Context) (DiagInfo, error) {
	s.mu.Lock()
	snap := s.core.diagSnapshot()
	s.mu.Unlock()
	return snap.build(), nil
}

// RequestInfo explains one queued or waiting request with every worker's reason (DiagRequest.Rejections) as
// well as the grouped reasons; it wraps ErrUnknownRequest when id is not waiting (unknown, started or done).
func (s *Scheduler) RequestInfo(ctx context.Context, id uuid.UUID) (DiagRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dr, ok := s.core.DiagRequest(id)
	if !ok {
		return DiagRequest{}, fmt.Errorf("explaining request %s: %w", id, ErrUnknownRequest)
	}
	return dr, nil
}

// WorkerStats returns each worker's resource use.
func (s *Scheduler) WorkerStats(ctx context.Context) map[storiface.WorkerID]WorkerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.Stats()
}

// WorkerJobs returns each worker's assigned, preparing and running jobs. The CallID of a job is the request's ID
// (the manager maps calls to its own IDs).
func (s *Scheduler) WorkerJobs() map[storiface.WorkerID][]storiface.WorkerJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	jobs := s.core.Jobs()
	for id, js := range jobs {
		if h := s.core.Worker(id); h != nil {
			for i := range js {
				js[i].Hostname = h.Info.Hostname
			}
		}
	}
	return jobs
}

// Close stops the loop, fails every request that has not started with ErrClosed, waits for running prepare and
// work steps (until ctx ends) and closes the worker connections. It is idempotent.
func (s *Scheduler) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	drained := s.core.Drain()
	s.mu.Unlock()
	for _, r := range drained {
		s.finish(r, ErrClosed)
	}
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("closing scheduler: waiting for running tasks: %w", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var firstErr error
	for id, sw := range s.workers {
		if err := sw.w.Close(); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("closing worker %s: %w", id, err)
		}
	}
	return firstErr
}
