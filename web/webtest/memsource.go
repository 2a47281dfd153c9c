// Package webtest is a fixture: an in-memory web.Source for the dashboard's tests, benchmarks and demos. It is
// not used by the manager, which adapts the real scheduler, stores and pipeline to web.Source.
package webtest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"sealfleet/web"
)

// MemSource is an in-memory web.Source. Tests drive it with the Set/Put methods, which notify subscribers; every
// read returns copies, so callers may keep what they get. Jobs and sectors live in web.JobHistory and
// web.SectorIndex, the same indexes a real adapter uses, so window and page queries stay cheap at 100,000 sectors.
type MemSource struct {
	mu      sync.Mutex
	workers map[string]web.Worker
	jobs    *web.JobHistory
	sectors *web.SectorIndex
	events  map[string][]web.SectorEvent
	paths   map[string]web.StoragePath
	queue   []web.QueuedRequest
	subs    map[chan web.Change]struct{}
	// subscribed is closed by the first Subscribe (Subscribed).
	subscribed chan struct{}
}

var _ web.Source = (*MemSource)(nil)

// NewMemSource returns an empty source whose pipeline states are shown in the given order (states not listed
// are appended when first seen).
func NewMemSource(stateOrder ...string) *MemSource {
	return &MemSource{
		workers: map[string]web.Worker{},
		jobs:    web.NewJobHistory(),
		sectors: web.NewSectorIndex(stateOrder...),
		events:  map[string][]web.SectorEvent{},
		paths:   map[string]web.StoragePath{},
		subs:    map[chan web.Change]struct{}{},

		subscribed: make(chan struct{}),
	}
}

// Subscribed returns a channel closed once the source has had its first subscriber (a dashboard's Run).
func (m *MemSource) Subscribed() <-chan struct{} { return m.subscribed }

// notify sends c to every subscriber without blocking; a full subscriber misses it. Callers hold m.mu.
func (m *MemSource) notify(c web.Change) {
	for ch := range m.subs {
		select {
		case ch <- c:
		default:
		}
	}
}

// SetWorker adds or replaces a worker.
func (m *MemSource) SetWorker(w web.Worker, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Tasks = slices.Clone(w.Tasks)
	w.Jobs = slices.Clone(w.Jobs)
	m.workers[w.ID] = w
	m.notify(web.Change{Kind: web.ChangeWorker, Time: at, Worker: w.ID})
}

// RemoveWorker removes a worker; its job history stays.
func (m *MemSource) RemoveWorker(id string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.workers, id)
	m.notify(web.Change{Kind: web.ChangeWorker, Time: at, Worker: id})
}

// PutJob records a job or updates it (matched by ID), moving it to its worker's lane. It panics on an empty ID,
// a bug in the test that calls it.
func (m *MemSource) PutJob(j web.Job) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.jobs.Put(j); err != nil {
		panic(err)
	}
	cp := j
	m.notify(web.Change{Kind: web.ChangeJob, Time: latest(j.Queued, j.Start, j.End), Job: &cp, Worker: j.Worker})
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// SetSectorState moves a sector (created if new) to a state at time at, appends to its event log and notifies
// subscribers. A non-empty message marks the sector failed. It panics on an empty ID or state.
func (m *MemSource) SetSectorState(id string, number uint64, state, message string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	from, err := m.sectors.Set(web.Sector{ID: id, Number: number, State: state, Updated: at, Failed: message != ""})
	if err != nil {
		panic(err)
	}
	m.events[id] = append(m.events[id], web.SectorEvent{Time: at, From: from, To: state, Message: message})
	m.notify(web.Change{Kind: web.ChangeSector, Time: at, Sector: id, From: from, To: state, Message: message})
}

// SetStoragePath adds or replaces a storage path.
func (m *MemSource) SetStoragePath(p web.StoragePath, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p.URLs = slices.Clone(p.URLs)
	m.paths[p.ID] = p
	m.notify(web.Change{Kind: web.ChangeStorage, Time: at, Path: p.ID})
}

// SetQueue replaces the scheduler queue.
func (m *MemSource) SetQueue(q []web.QueuedRequest, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queue = slices.Clone(q)
	m.notify(web.Change{Kind: web.ChangeQueue, Time: at})
}

// Workers implements web.Source.
func (m *MemSource) Workers(context.Context) ([]web.Worker, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]web.Worker, 0, len(m.workers))
	for _, w := range m.workers {
		w.Jobs = slices.Clone(w.Jobs)
		out = append(out, w)
	}
	return out, nil
}

// Jobs implements web.Source.
func (m *MemSource) Jobs(_ context.Context, q web.JobQuery) ([]web.Job, error) { return m.jobs.Jobs(q) }

// SectorCounts implements web.Source.
func (m *MemSource) SectorCounts(context.Context) ([]web.StateCount, error) {
	return m.sectors.Counts(), nil
}

// Sectors implements web.Source.
func (m *MemSource) Sectors(_ context.Context, q web.SectorQuery) (web.SectorPage, error) {
	return m.sectors.Page(q), nil
}

// SectorEvents implements web.Source.
func (m *MemSource) SectorEvents(_ context.Context, sector string) ([]web.SectorEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev, ok := m.events[sector]
	if !ok {
		return nil, fmt.Errorf("sector %q: %w", sector, web.ErrNotFound)
	}
	return slices.Clone(ev), nil
}

// StoragePaths implements web.Source.
func (m *MemSource) StoragePaths(context.Context) ([]web.StoragePath, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]web.StoragePath, 0, len(m.paths))
	for _, p := range m.paths {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Queue implements web.Source.
func (m *MemSource) Queue(context.Context) ([]web.QueuedRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.queue), nil
}

// Subscribe implements web.Source: changes are delivered on a buffered channel and dropped when it is full.
func (m *MemSource) Subscribe(ctx context.Context) (<-chan web.Change, error) {
	ch := make(chan web.Change, 1024)
	m.mu.Lock()
	select {
	case <-m.subscribed:
	default:
		close(m.subscribed)
	}
	m.subs[ch] = struct{}{}
	m.mu.Unlock()
	go func() {
		<-ctx.Done()
		m.mu.Lock()
		delete(m.subs, ch)
		close(ch)
		m.mu.Unlock()
	}()
	return ch, nil
}
