package manager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"sealfleet/sched"
	"sealfleet/stores"
	"sealfleet/storiface"
)

// jobLister is implemented by workers that report their jobs (LocalWorker and the worker RPC client).
type jobLister interface {
	Jobs(ctx context.Context) ([]storiface.WorkerJob, error)
}

// SchedDiag returns the scheduler's diagnostics, alike waiting requests grouped (see sched.Core.Diag).
func (m *Manager) SchedDiag(ctx context.Context) (sched.DiagInfo, error) {
	return m.deps.Sched.Info(ctx)
}

// SchedDiagRequest returns one waiting request's diagnostics with every worker's answer. An ID that is not
// waiting gives an error wrapping sched.ErrUnknownRequest (it crosses RPC as a bad-input error naming the ID).
func (m *Manager) SchedDiagRequest(ctx context.Context, id uuid.UUID) (sched.DiagRequest, error) {
	dr, err := m.deps.Sched.RequestInfo(ctx, id)
	if errors.Is(err, sched.ErrUnknownRequest) {
		return sched.DiagRequest{}, unknownRequestError{storiface.Errf(storiface.ErrBadInput,
			"request ID %s: %v: unknown, started or finished (sched-diag lists the waiting requests)", id,
			sched.ErrUnknownRequest)}
	}
	if err != nil {
		return sched.DiagRequest{}, fmt.Errorf("explaining request %s: %w", id, err)
	}
	return dr, nil
}

// unknownRequestError is a bad-input CallError (its code crosses RPC) that also matches sched.ErrUnknownRequest.
type unknownRequestError struct{ *storiface.CallError }

// Unwrap returns the CallError and sched.ErrUnknownRequest.
func (e unknownRequestError) Unwrap() []error { return []error{e.CallError, sched.ErrUnknownRequest} }

// WorkerStats returns each worker's description and resource use.
func (m *Manager) WorkerStats(ctx context.Context) (map[uuid.UUID]sched.WorkerStats, error) {
	stats := m.deps.Sched.WorkerStats(ctx)
	out := make(map[uuid.UUID]sched.WorkerStats, len(stats))
	for id, st := range stats {
		out[uuid.UUID(id)] = st
	}
	return out, nil
}

// WorkerJobs lists, per worker, the jobs the scheduler has assigned to it or is preparing (from the scheduler)
// and the calls it runs or waits to return (as the worker reports them, with their call IDs). It makes no RPC: a
// remote worker's own list is the one it last reported to the background poll, at most Config.JobsRefresh plus
// one poll pass old (a pass bounds each worker by 10 s); a worker not yet polled or whose last poll failed is
// listed with the scheduler's view only. The scheduler's part is always current.
func (m *Manager) WorkerJobs(ctx context.Context) (map[uuid.UUID][]storiface.WorkerJob, error) {
	out := map[uuid.UUID][]storiface.WorkerJob{}
	reported := m.reportedJobs(ctx)
	for id, jobs := range m.deps.Sched.WorkerJobs() {
		_, haveWorker := reported[id]
		for _, j := range jobs {
			if j.RunWait == storiface.RWRunning && haveWorker {
				continue // the worker lists it under its call ID
			}
			out[uuid.UUID(id)] = append(out[uuid.UUID(id)], j)
		}
	}
	for id, jobs := range reported {
		out[uuid.UUID(id)] = append(out[uuid.UUID(id)], jobs...)
	}
	return out, nil
}

// reportedJobs returns each worker's own job list: in-process workers are asked now (no RPC), remote workers'
// lists come from the jobs view the manager refreshes in the background (see Config.JobsRefresh); a remote worker
// not yet polled, or whose last poll failed, is left out.
func (m *Manager) reportedJobs(ctx context.Context) map[storiface.WorkerID][]storiface.WorkerJob {
	local, remote := m.workerRefs()
	out := m.jobs.snapshot(remote)
	for id, r := range local {
		jl, ok := r.w.(jobLister)
		if !ok {
			continue
		}
		if jobs, err := m.askJobs(ctx, jl, r.hostname); err == nil {
			out[id] = jobs
		}
	}
	return out
}

// jobsTimeout bounds how long WorkerJobs waits for each worker's answer.
const jobsTimeout = 10 * time.Second

// TrackedWork lists the work the call tracker holds (started, running or done and not yet taken).
func (m *Manager) TrackedWork() []WorkState { return m.ct.list() }

// Abort fails the tracked work of a call with ErrCallAborted (waking the op waiting for it) and asks the worker
// running it to cancel it. After a manager restart the worker is found by the hostname recorded with the call.
// The op fails even when no worker can be told; the error then says so.
func (m *Manager) Abort(ctx context.Context, call storiface.CallID) error {
	aborter, host, err := m.ct.abort(call)
	if err != nil {
		return err
	}
	if aborter != nil {
		if err := aborter(ctx); err != nil {
			return fmt.Errorf("abort: the op failed, but cancelling call %s on %s: %w", call, host, err)
		}
		return nil
	}
	var errs []error
	for _, ref := range m.workersOn(host) {
		a, ok := ref.w.(callAborter)
		if !ok {
			continue
		}
		err := a.AbortCall(ctx, call)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return fmt.Errorf("abort: the op failed, but no connected worker on %q can cancel call %s", host, call)
	}
	return fmt.Errorf("abort: the op failed, but no worker on %q cancelled call %s: %w", host, call, errors.Join(errs...))
}

// workersOn lists the workers on a host.
func (m *Manager) workersOn(host string) []*workerRef {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*workerRef
	for _, r := range m.workers {
		if r.hostname == host {
			out = append(out, r)
		}
	}
	return out
}

// errNoLocal is returned by the storage methods of a manager without local paths.
var errNoLocal = errors.New("this manager has no local storage")

// AddLocalStorage opens (initialising if needed) a storage path on the manager's node and declares it.
func (m *Manager) AddLocalStorage(ctx context.Context, path string) error {
	if m.deps.Local == nil {
		return errNoLocal
	}
	if err := m.deps.Local.OpenPath(ctx, path); err != nil {
		return fmt.Errorf("adding local storage %s: %w", path, err)
	}
	return nil
}

// StorageAddLocal is AddLocalStorage for the API.
func (m *Manager) StorageAddLocal(ctx context.Context, path string) error {
	return m.AddLocalStorage(ctx, path)
}

// StorageDetachLocal stops using a local path (by root or ID).
func (m *Manager) StorageDetachLocal(ctx context.Context, path string) error {
	if m.deps.Local == nil {
		return errNoLocal
	}
	return m.deps.Local.DetachPath(ctx, path)
}

// StorageLocal lists the manager node's local paths by ID.
func (m *Manager) StorageLocal(ctx context.Context) (map[storiface.ID]string, error) {
	if m.deps.Local == nil {
		return map[storiface.ID]string{}, nil
	}
	paths, err := m.deps.Local.Local(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[storiface.ID]string, len(paths))
	for _, p := range paths {
		out[p.ID] = p.LocalPath
	}
	return out, nil
}

// StorageStat returns the capacity and use of a local path.
func (m *Manager) StorageStat(ctx context.Context, id storiface.ID) (storiface.FsStat, error) {
	if m.deps.Local == nil {
		return storiface.FsStat{}, errNoLocal
	}
	return m.deps.Local.FsStat(ctx, id)
}

// StorageRedeclareLocal re-declares the sector files found in one of the manager node's local paths (every local
// path when id is nil); with dropMissing it also drops declarations whose files are gone.
func (m *Manager) StorageRedeclareLocal(ctx context.Context, id *storiface.ID, dropMissing bool) error {
	if m.deps.Local == nil {
		return errNoLocal
	}
	if err := m.deps.Local.Redeclare(ctx, id, dropMissing); err != nil {
		return fmt.Errorf("redeclaring local storage: %w", err)
	}
	return nil
}

// pathLister is implemented by indexes that can describe their paths for operators (*stores.Index).
type pathLister interface {
	StoragePaths(ctx context.Context) ([]stores.PathStatus, error)
}

// errNoPathStatus is returned by StoragePaths when the manager's index cannot describe its paths.
var errNoPathStatus = errors.New("this manager's index does not report path status")

// StoragePaths lists every path the cluster's index knows with its figures and health, as the index reports them.
func (m *Manager) StoragePaths(ctx context.Context) ([]stores.PathStatus, error) {
	pl, ok := m.deps.Index.(pathLister)
	if !ok {
		return nil, errNoPathStatus
	}
	paths, err := pl.StoragePaths(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing storage paths: %w", err)
	}
	return paths, nil
}

// WorkerRemove is RemoveWorker for the API: the operator's way to take out a worker that vanished and will not
// come back, so that the ops waiting for its calls are scheduled again on other workers.
func (m *Manager) WorkerRemove(ctx context.Context, id storiface.WorkerID) error {
	if err := m.RemoveWorker(ctx, id); err != nil {
		return err
	}
	m.log.Info("worker removed by the operator", "id", id)
	return nil
}
