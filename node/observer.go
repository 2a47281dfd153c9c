package node

import (
	"context"
	"sync"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/manager"
	"sealfleet/metrics"
	"sealfleet/pipeline"
	"sealfleet/sched"
	"sealfleet/storiface"
	"sealfleet/web"
)

// historyKeep is how long finished jobs stay in the dashboard's job history.
const historyKeep = 14 * 24 * time.Hour

// observer turns the scheduler's and the pipeline's current state into what neither keeps: the job history of
// the dashboard's timeline (a job is queued while it waits in the scheduler, starts when a worker runs or
// prepares it, ends when the scheduler drops it), the sector index of the dashboard, the change stream, and the
// Prometheus metrics. It polls the scheduler (no RPC to workers) every interval and follows the pipeline's
// state changes as they happen.
//
// A job's end is seen at the first poll after it, so timeline bars and task durations are accurate to the
// interval; whether the job succeeded is not known here (the manager's ops hold the error), so every finished
// job counts as done in the metrics.
type observer struct {
	sched *sched.Scheduler
	mgr   *manager.Manager
	pipe  *pipeline.Pipeline
	m     *metrics.Metrics
	now   func() time.Time
	miner abi.ActorID // every sector of the pipeline belongs to it

	hist    *web.JobHistory
	sectors *web.SectorIndex

	mu        sync.Mutex
	live      map[string]web.Job // jobs not finished at the last poll, by request ID
	queued    map[storiface.TaskType]int
	workers   map[string]bool
	subs      map[chan web.Change]struct{}
	lastPrune time.Time
	lastQueue int // queue length at the last poll (poll's goroutine only)
}

func newObserver(s *sched.Scheduler, m *manager.Manager, p *pipeline.Pipeline, mt *metrics.Metrics,
	miner abi.ActorID, now func() time.Time) *observer {
	order := make([]string, 0, len(pipeline.Stages))
	for _, st := range pipeline.Stages {
		order = append(order, string(st))
	}
	return &observer{sched: s, mgr: m, pipe: p, m: mt, now: now, miner: miner, hist: web.NewJobHistory(),
		sectors: web.NewSectorIndex(order...), live: map[string]web.Job{}, queued: map[storiface.TaskType]int{},
		workers: map[string]bool{}, subs: map[chan web.Change]struct{}{}}
}

// run follows the pipeline and polls the scheduler until ctx is done.
func (o *observer) run(ctx context.Context, interval time.Duration) {
	changes, unsub := o.pipe.Subscribe()
	defer unsub()
	o.loadSectors(ctx)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	o.poll(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changes:
			if !ok {
				return
			}
			o.sectorChanged(c)
		case <-tick.C:
			o.poll(ctx)
		}
	}
}

// loadSectors fills the sector index from the pipeline's list.
func (o *observer) loadSectors(ctx context.Context) {
	list, err := o.pipe.List(ctx)
	if err != nil {
		return
	}
	for _, s := range list {
		_, _ = o.sectors.Set(webSector(o.miner, s.Number, s.State, s.Updated))
	}
}

func webSector(miner abi.ActorID, n abi.SectorNumber, st pipeline.SectorState, updated time.Time) web.Sector {
	return web.Sector{ID: storiface.SectorName(abi.SectorID{Miner: miner, Number: n}), Number: uint64(n),
		State: string(st), Updated: updated, Failed: st.Failed()}
}

// sectorChanged updates the sector index and tells subscribers.
func (o *observer) sectorChanged(c pipeline.StateChange) {
	s := webSector(o.miner, c.Sector, c.To, c.Time)
	_, _ = o.sectors.Set(s)
	o.publish(web.Change{Kind: web.ChangeSector, Time: c.Time, Sector: s.ID, From: string(c.From),
		To: string(c.To), Message: c.Error})
}

// subscribe returns a channel of changes closed when ctx is done.
func (o *observer) subscribe(ctx context.Context) <-chan web.Change {
	ch := make(chan web.Change, 256)
	o.mu.Lock()
	o.subs[ch] = struct{}{}
	o.mu.Unlock()
	go func() {
		<-ctx.Done()
		o.mu.Lock()
		delete(o.subs, ch)
		close(ch)
		o.mu.Unlock()
	}()
	return ch
}

// publish sends c to every subscriber that has room; a full subscriber misses it (the dashboard re-reads on
// its tick).
func (o *observer) publish(c web.Change) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for ch := range o.subs {
		select {
		case ch <- c:
		default:
		}
	}
}

// poll reads the scheduler, the call tracker and the pipeline once.
func (o *observer) poll(ctx context.Context) {
	now := o.now()
	info, err := o.sched.Info(ctx)
	if err != nil {
		return
	}
	jobs := o.sched.WorkerJobs()
	stats := o.sched.WorkerStats(ctx)
	changed := o.updateJobs(now, info, jobs, stats)
	if len(info.Requests) != o.lastQueue {
		o.lastQueue = len(info.Requests)
		o.publish(web.Change{Kind: web.ChangeQueue, Time: now})
	}
	for _, j := range changed {
		o.publish(web.Change{Kind: web.ChangeJob, Time: now, Sector: j.Sector, Job: &j})
	}
	o.updateWorkers(now, stats)
	calls := map[string]int{}
	for _, w := range o.mgr.TrackedWork() {
		calls[string(w.Status)]++
	}
	o.m.SetCallStates(calls)
	sectors := map[string]int{}
	for st, n := range o.pipe.Counts() {
		sectors[string(st)] = n
	}
	o.m.SetSectorStates(sectors)
	if now.Sub(o.lastPrune) > time.Hour {
		o.hist.Prune(now.Add(-historyKeep))
		o.lastPrune = now
	}
}
