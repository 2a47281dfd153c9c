package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"sealfleet/storiface"
)

// jobLister is implemented by workers that report their jobs (LocalWorker and the worker RPC client).
type jobLister interface {
	Jobs(ctx context.Context) ([]storiface.WorkerJob, error)
}

// WorkerJobs lists, per worker, the calls it runs or waits to return, as the workers report them. A worker
// that does not answer is listed with no jobs.
func (m *Manager) WorkerJobs(ctx context.Context) (map[uuid.UUID][]storiface.WorkerJob, error) {
	m.mu.Lock()
	refs := make(map[storiface.WorkerID]*workerRef, len(m.workers))
	for id, r := range m.workers {
		refs[id] = r
	}
	m.mu.Unlock()
	out := make(map[uuid.UUID][]storiface.WorkerJob, len(refs))
	for id, r := range refs {
		jl, ok := r.w.(jobLister)
		if !ok {
			out[uuid.UUID(id)] = nil
			continue
		}
		jobs, err := jl.Jobs(ctx)
		if err != nil {
			m.log.Warn("listing worker jobs", "host", r.hostname, "err", err)
		}
		for i := range jobs {
			if jobs[i].Hostname == "" {
				jobs[i].Hostname = r.hostname
			}
		}
		out[uuid.UUID(id)] = jobs
	}
	return out, nil
}

// TrackedWork lists the work the call tracker holds (started, running or done and not yet taken).
func (m *Manager) TrackedWork() []WorkState { return m.ct.list() }

// Abort fails the tracked work of a call with ErrCallAborted (waking the op waiting for it) and asks the worker
// running it to cancel it.
func (m *Manager) Abort(ctx context.Context, call storiface.CallID) error {
	return m.ct.abort(ctx, call)
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
