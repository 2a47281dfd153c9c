package manager

import (
	"context"
	"sync"
	"time"

	"sealfleet/storiface"
)

// DefaultJobsRefresh is how often the manager asks each remote worker for its jobs (Config.JobsRefresh).
const DefaultJobsRefresh = 3 * time.Second

// jobsRefreshParallel bounds how many workers one refresh pass asks at once.
const jobsRefreshParallel = 16

// jobsView holds the jobs each remote worker last reported, so WorkerJobs answers without asking every worker.
// A worker's entry is at most one refresh interval plus one pass (each worker bounded by jobsTimeout) old; a
// worker that failed to answer its last poll has no entry (WorkerJobs then shows the scheduler's view of it).
type jobsView struct {
	mu   sync.Mutex
	jobs map[storiface.WorkerID][]storiface.WorkerJob
}

func (v *jobsView) set(id storiface.WorkerID, jobs []storiface.WorkerJob, ok bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.jobs == nil {
		v.jobs = map[storiface.WorkerID][]storiface.WorkerJob{}
	}
	if ok {
		v.jobs[id] = jobs
	} else {
		delete(v.jobs, id)
	}
}

// keep drops the entries of workers not in live (removed since their last poll).
func (v *jobsView) keep(live map[storiface.WorkerID]*workerRef) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for id := range v.jobs {
		if _, ok := live[id]; !ok {
			delete(v.jobs, id)
		}
	}
}

// snapshot copies the entries of the workers in ids.
func (v *jobsView) snapshot(ids map[storiface.WorkerID]*workerRef) map[storiface.WorkerID][]storiface.WorkerJob {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[storiface.WorkerID][]storiface.WorkerJob, len(ids))
	for id := range ids {
		if js, ok := v.jobs[id]; ok {
			out[id] = append([]storiface.WorkerJob(nil), js...)
		}
	}
	return out
}

// pollJobs refreshes the jobs view every interval until ctx ends, then closes done.
func (m *Manager) pollJobs(ctx context.Context, interval time.Duration, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.refreshJobs(ctx)
	}
}

// refreshJobs asks every remote worker for its jobs, at most jobsRefreshParallel at once and each bounded by
// jobsTimeout, and stores the answers in the jobs view.
func (m *Manager) refreshJobs(ctx context.Context) {
	_, remote := m.workerRefs()
	m.jobs.keep(remote)
	sem := make(chan struct{}, jobsRefreshParallel)
	var wg sync.WaitGroup
	for id, r := range remote {
		jl, ok := r.w.(jobLister)
		if !ok {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			jobs, err := m.askJobs(ctx, jl, r.hostname)
			m.jobs.set(id, jobs, err == nil)
		}()
	}
	wg.Wait()
}

// askJobs asks one worker for its jobs, bounded by jobsTimeout, filling in the hostname it left out.
func (m *Manager) askJobs(ctx context.Context, jl jobLister, host string) ([]storiface.WorkerJob, error) {
	ctx, cancel := context.WithTimeout(ctx, jobsTimeout)
	defer cancel()
	jobs, err := jl.Jobs(ctx)
	if err != nil {
		m.log.Warn("listing worker jobs", "host", host, "err", err)
		return nil, err
	}
	out := append([]storiface.WorkerJob{}, jobs...)
	for i := range out {
		if out[i].Hostname == "" {
			out[i].Hostname = host
		}
	}
	return out, nil
}

// workerRefs splits the connected workers into in-process ones (no URL: asked at each call, no RPC) and remote
// ones (served from the jobs view).
func (m *Manager) workerRefs() (local, remote map[storiface.WorkerID]*workerRef) {
	m.mu.Lock()
	defer m.mu.Unlock()
	local, remote = map[storiface.WorkerID]*workerRef{}, map[storiface.WorkerID]*workerRef{}
	for id, r := range m.workers {
		if r.url == "" {
			local[id] = r
		} else {
			remote[id] = r
		}
	}
	return local, remote
}
