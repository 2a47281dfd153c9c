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

// observer turns the scheduler's and the pipeline's events and current state into what neither keeps: the job
// history of the dashboard's timeline, the sector index of the dashboard, the change stream, and the Prometheus
// metrics.
//
// Jobs come from the scheduler's OnJob hook (jobEvent), so every request is recorded however short it is: it
// is queued when it enters the scheduler, starts when a worker begins its prepare step (or its work), and ends
// when the scheduler returns its outcome, marked failed with the error when there is one; the metrics count
// it as done or failed accordingly. Sector states follow the pipeline's state changes as they happen. Worker
// resources, call-tracker states and sector counts are polled (no RPC to workers) every interval.
//
// The observer is built before the scheduler (whose hook it is) and attached to the scheduler, manager and
// pipeline once they exist, before run.
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
	queued    map[storiface.TaskType]int // waiting requests per task, from the hook
	workers   map[string]bool
	subs      map[chan web.Change]struct{}
	lastPrune time.Time
}

// newObserver returns an observer reporting to mt; attach it before run.
func newObserver(mt *metrics.Metrics, now func() time.Time) *observer {
	order := make([]string, 0, len(pipeline.Stages))
	for _, st := range pipeline.Stages {
		order = append(order, string(st))
	}
	return &observer{m: mt, now: now, hist: web.NewJobHistory(), sectors: web.NewSectorIndex(order...),
		queued: map[storiface.TaskType]int{}, workers: map[string]bool{}, subs: map[chan web.Change]struct{}{}}
}

// attach gives the observer what it polls and follows; call it once, before run.
func (o *observer) attach(s *sched.Scheduler, m *manager.Manager, p *pipeline.Pipeline, miner abi.ActorID) {
	o.sched, o.mgr, o.pipe, o.miner = s, m, p, miner
}

// run follows the pipeline and polls the scheduler's workers, the call tracker and the pipeline's counts until
// ctx is done.
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

// poll reads the scheduler's workers, the call tracker and the pipeline once.
func (o *observer) poll(ctx context.Context) {
	now := o.now()
	o.updateWorkers(now, o.sched.WorkerStats(ctx))
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
