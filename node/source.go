package node

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/pipeline"
	"sealfleet/sched"
	"sealfleet/stores"
	"sealfleet/storiface"
	"sealfleet/web"
)

// source adapts the node's scheduler, stores and pipeline to the dashboard's web.Source. Small collections
// (workers, paths, queue) are read from their packages at each call; the job history and the sector index are
// kept by the observer.
type source struct {
	index *stores.Index
	local *stores.Local
	sched *sched.Scheduler
	pipe  *pipeline.Pipeline
	obs   *observer
	miner abi.ActorID
}

var _ web.Source = (*source)(nil)

// Workers lists the scheduler's workers with their resource use and current jobs.
func (s *source) Workers(ctx context.Context) ([]web.Worker, error) {
	stats := s.sched.WorkerStats(ctx)
	jobs := s.sched.WorkerJobs()
	out := make([]web.Worker, 0, len(stats))
	for wid, st := range stats {
		r := st.Info.Resources
		w := web.Worker{ID: wid.String(), Hostname: workerLabel(wid, st), Enabled: st.Enabled,
			CPUUsed: st.CpuUse, CPUTotal: r.CPUs, MemUsed: st.MemUsedMin, MemTotal: r.MemPhysical,
			GPUUsed: st.GpuUsed, GPUTotal: len(r.GPUs), Tasks: make([]string, 0, len(st.Tasks)),
			Jobs: []web.WorkerJob{}}
		for _, t := range st.Tasks {
			w.Tasks = append(w.Tasks, t.Short())
		}
		for _, j := range jobs[wid] {
			w.Jobs = append(w.Jobs, web.WorkerJob{ID: j.ID.ID.String(), Task: j.Task.Short(),
				Sector: storiface.SectorName(j.Sector), State: jobState(j.RunWait), Start: j.Start})
		}
		out = append(out, w)
	}
	return out, nil
}

// jobState names a WorkerJob.RunWait as the dashboard shows it.
func jobState(runWait int) string {
	switch {
	case runWait == storiface.RWRunning:
		return "running"
	case runWait == storiface.RWRetWait:
		return "ret-wait"
	case runWait < 0:
		return "prepare"
	}
	return "assigned"
}

// Jobs answers from the observer's job history.
func (s *source) Jobs(_ context.Context, q web.JobQuery) ([]web.Job, error) {
	return s.obs.hist.Jobs(q)
}

// SectorCounts answers from the observer's sector index.
func (s *source) SectorCounts(context.Context) ([]web.StateCount, error) {
	return s.obs.sectors.Counts(), nil
}

// Sectors answers from the observer's sector index.
func (s *source) Sectors(_ context.Context, q web.SectorQuery) (web.SectorPage, error) {
	return s.obs.sectors.Page(q), nil
}

// SectorEvents returns the pipeline's event log of a sector named as SectorName names it.
func (s *source) SectorEvents(ctx context.Context, id string) ([]web.SectorEvent, error) {
	sid, err := storiface.ParseSectorName(id)
	if err != nil || sid.Miner != s.miner {
		return nil, web.ErrNotFound
	}
	evs, err := s.pipe.Events(ctx, sid.Number)
	if errors.Is(err, pipeline.ErrUnknownSector) {
		return nil, web.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	out := make([]web.SectorEvent, len(evs))
	for i, e := range evs {
		out[i] = web.SectorEvent{Time: e.Time, From: string(e.From), To: string(e.To), Message: e.Message, Failed: e.To.Failed()}
	}
	return out, nil
}

// StoragePaths lists every path of the index, with the local root of the node's own paths.
func (s *source) StoragePaths(ctx context.Context) ([]web.StoragePath, error) {
	paths, err := s.index.StoragePaths(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing storage paths: %w", err)
	}
	roots := map[storiface.ID]string{}
	if local, err := s.local.Local(ctx); err == nil {
		for _, p := range local {
			roots[p.ID] = p.LocalPath
		}
	}
	sectors, err := s.sectorsPerPath(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.StoragePath, 0, len(paths))
	for _, p := range paths {
		sp := web.StoragePath{ID: string(p.Info.ID), Path: roots[p.Info.ID], URLs: p.Info.URLs,
			CanSeal: p.Info.CanSeal, CanStore: p.Info.CanStore, Capacity: p.Stat.Capacity, Used: p.Stat.Used,
			Reserved: p.Stat.Reserved, Available: p.Stat.FSAvailable, Sectors: sectors[p.Info.ID], Healthy: p.Healthy,
			Err: p.HeartbeatErr}
		if len(p.Info.URLs) > 0 {
			if u, err := url.Parse(p.Info.URLs[0]); err == nil {
				sp.Host = u.Host
			}
		}
		out = append(out, sp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Queue lists the scheduler's waiting requests, most urgent first, with the workers' reasons grouped by reason;
// requests every worker answers alike are one entry with their Count (QueuedRequest gives one request's reason
// per worker).
func (s *source) Queue(ctx context.Context) ([]web.QueuedRequest, error) {
	info, err := s.sched.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the scheduler: %w", err)
	}
	reqs := info.Requests
	sort.SliceStable(reqs, func(i, j int) bool {
		if reqs[i].Priority != reqs[j].Priority {
			return reqs[i].Priority > reqs[j].Priority
		}
		return reqs[i].Added.Before(reqs[j].Added)
	})
	out := make([]web.QueuedRequest, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, webQueued(r))
	}
	return out, nil
}

// QueuedRequest explains one waiting request with every worker's reason (web.RequestSource).
func (s *source) QueuedRequest(ctx context.Context, id string) (web.QueuedRequest, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return web.QueuedRequest{}, fmt.Errorf("request ID %q is not a UUID: %w", id, web.ErrNotFound)
	}
	r, err := s.sched.RequestInfo(ctx, uid)
	if errors.Is(err, sched.ErrUnknownRequest) {
		return web.QueuedRequest{}, fmt.Errorf("%w: %w (it may have been scheduled)", err, web.ErrNotFound)
	}
	if err != nil {
		return web.QueuedRequest{}, fmt.Errorf("reading the scheduler: %w", err)
	}
	q := webQueued(r)
	q.Rejections = make([]web.Rejection, 0, len(r.Rejections))
	for _, rj := range r.Rejections {
		reason := string(rj.Reason)
		if rj.Detail != "" {
			reason += ": " + rj.Detail
		}
		q.Rejections = append(q.Rejections, web.Rejection{Worker: hostOr(rj.Hostname, rj.Worker),
			Reason: strings.TrimSpace(reason)})
	}
	return q, nil
}

// webQueued converts r with its grouped reasons; a group's reason carries its first example's detail.
func webQueued(r sched.DiagRequest) web.QueuedRequest {
	q := web.QueuedRequest{ID: r.ID.String(), Task: r.Task.Short(), Sector: storiface.SectorName(r.Sector),
		Priority: r.Priority, Queued: r.Added, Count: r.Count, Rejections: []web.Rejection{},
		Reasons: make([]web.ReasonGroup, 0, len(r.Reasons))}
	for _, g := range r.Reasons {
		reason := string(g.Reason)
		if g.Detail != "" {
			reason += " (e.g. " + strings.TrimSpace(g.Detail) + ")"
		}
		wg := web.ReasonGroup{Reason: reason, Count: g.Count, Workers: make([]string, 0, len(g.Workers))}
		for i, w := range g.Workers {
			host := ""
			if i < len(g.Hostnames) {
				host = g.Hostnames[i]
			}
			wg.Workers = append(wg.Workers, hostOr(host, w))
		}
		q.Reasons = append(q.Reasons, wg)
	}
	return q
}

// hostOr is host, or the worker's ID when the worker gave no hostname.
func hostOr(host string, w storiface.WorkerID) string {
	if host == "" {
		return w.String()
	}
	return host
}

// Subscribe forwards sector state changes, job changes and workers coming and going.
func (s *source) Subscribe(ctx context.Context) (<-chan web.Change, error) {
	return s.obs.subscribe(ctx), nil
}

// sectorsPerPath counts the distinct sectors with at least one file declared in each path (a sealed sector has
// sealed, cache and perhaps unsealed files: one sector, not three).
func (s *source) sectorsPerPath(ctx context.Context) (map[storiface.ID]int, error) {
	decls, err := s.index.StorageList(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing declared sectors: %w", err)
	}
	out := make(map[storiface.ID]int, len(decls))
	for id, ds := range decls {
		seen := make(map[abi.SectorID]struct{}, len(ds))
		for _, d := range ds {
			seen[d.SectorID] = struct{}{}
		}
		out[id] = len(seen)
	}
	return out, nil
}
