package sched

import (
	"time"

	"github.com/google/uuid"

	"sealfleet/storiface"
)

// JobEventKind says what happened to a request in a JobEvent.
type JobEventKind uint8

const (
	// JobQueued: the request entered the scheduler (it is about to be added to the queue).
	JobQueued JobEventKind = iota + 1
	// JobStarted: a worker began the request: its prepare step, or its work when it has none.
	JobStarted
	// JobFinished: the request left the scheduler, with Err nil (its work succeeded) or not (its work or
	// prepare step failed, or it was cancelled, removed, or dropped by Close before it started).
	JobFinished
)

// String names the kind ("queued", "started", "finished").
func (k JobEventKind) String() string {
	switch k {
	case JobQueued:
		return "queued"
	case JobStarted:
		return "started"
	case JobFinished:
		return "finished"
	}
	return "unknown"
}

// JobEvent is one step of a request's life, reported to Config.OnJob. Every request gets exactly one JobQueued
// first and exactly one JobFinished last, with at most one JobStarted between them; the events of one request
// are delivered in that order (each happens before the next), events of different requests may interleave.
type JobEvent struct {
	Kind   JobEventKind
	ID     uuid.UUID // the request's ID (the CallID.ID of WorkerJobs)
	Task   storiface.TaskType
	Sector storiface.SectorRef
	// Worker is the worker that started the request; zero for JobQueued and for a request finished before it
	// started. WorkerName and Hostname are that worker's Info.Name and Info.Hostname.
	Worker     storiface.WorkerID
	WorkerName string
	Hostname   string
	// Queued is when the request entered the scheduler; Started when a worker began it (zero if it never did);
	// Time is when this event happened (the scheduler's Clock).
	Queued  time.Time
	Started time.Time
	Time    time.Time
	// Err is the request's outcome, for JobFinished only: what its Schedule call returns.
	Err error
}

// jobRun is what the shell records of a request once a worker starts it.
type jobRun struct {
	worker  storiface.WorkerID
	info    storiface.WorkerInfo
	started time.Time
}

// emit calls Config.OnJob, if set, outside the scheduler's lock.
func (s *Scheduler) emit(ev JobEvent) {
	if s.cfg.OnJob != nil {
		s.cfg.OnJob(ev)
	}
}

// event builds the event of kind k for r, with the worker that started it if any.
func (s *Scheduler) event(k JobEventKind, r *Request, err error) JobEvent {
	ev := JobEvent{Kind: k, ID: r.ID, Task: r.Task, Sector: r.Sector, Queued: r.Added, Time: s.clock.Now(), Err: err}
	if run := r.Payload.(*job).run; run != nil {
		ev.Worker, ev.WorkerName, ev.Hostname, ev.Started = run.worker, run.info.Name, run.info.Hostname, run.started
	}
	return ev
}

// begin records that the worker of d starts r (its prepare step, or its work without one) and reports it.
func (s *Scheduler) begin(d dispatch) {
	j := d.a.Req.Payload.(*job)
	if j.run != nil {
		return // prepared already: started then
	}
	j.run = &jobRun{worker: d.a.Worker, info: d.info, started: s.clock.Now()}
	s.emit(s.event(JobStarted, d.a.Req, nil))
}

// finish reports r's outcome to OnJob, then to its Schedule call.
func (s *Scheduler) finish(r *Request, err error) {
	s.emit(s.event(JobFinished, r, err))
	r.Payload.(*job).ret <- err
}
