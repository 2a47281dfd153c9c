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
// read returns copies, so callers may keep what they get. It indexes jobs per worker by queue time and sectors
// per state by number, so that window and page queries stay cheap at 100,000 sectors.
type MemSource struct {
	mu         sync.Mutex
	workers    map[string]web.Worker
	jobs       map[string]*web.Job
	lanes      map[string]*lane // worker ID -> its jobs
	sectors    map[string]*sectorRec
	all        []*sectorRec            // every sector, ascending number
	byState    map[string][]*sectorRec // ascending number
	stateOrder []string
	paths      map[string]web.StoragePath
	queue      []web.QueuedRequest
	subs       map[chan web.Change]struct{}
}

type lane struct {
	jobs    []*web.Job    // ascending Queued
	open    []*web.Job    // jobs not finished (End zero), any order
	maxSpan time.Duration // longest End-Queued of a finished job
}

type sectorRec struct {
	s      web.Sector
	events []web.SectorEvent
}

var _ web.Source = (*MemSource)(nil)

// NewMemSource returns an empty source whose pipeline states are shown in the given order (states not listed
// are appended when first seen).
func NewMemSource(stateOrder ...string) *MemSource {
	return &MemSource{
		workers:    map[string]web.Worker{},
		jobs:       map[string]*web.Job{},
		lanes:      map[string]*lane{},
		sectors:    map[string]*sectorRec{},
		byState:    map[string][]*sectorRec{},
		stateOrder: slices.Clone(stateOrder),
		paths:      map[string]web.StoragePath{},
		subs:       map[chan web.Change]struct{}{},
	}
}

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

// PutJob records a job or updates it (matched by ID), moving it to its worker's lane.
func (m *MemSource) PutJob(j web.Job) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.jobs[j.ID]; ok {
		m.lanes[old.Worker].remove(old)
	}
	p := &j
	m.jobs[j.ID] = p
	l := m.lanes[j.Worker]
	if l == nil {
		l = &lane{}
		m.lanes[j.Worker] = l
	}
	l.insert(p)
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

func (l *lane) insert(j *web.Job) {
	i := sort.Search(len(l.jobs), func(i int) bool { return l.jobs[i].Queued.After(j.Queued) })
	l.jobs = slices.Insert(l.jobs, i, j)
	if j.End.IsZero() {
		l.open = append(l.open, j)
	} else {
		l.maxSpan = max(l.maxSpan, j.End.Sub(j.Queued))
	}
}

func (l *lane) remove(j *web.Job) {
	if i := slices.Index(l.open, j); i >= 0 {
		l.open = slices.Delete(l.open, i, i+1)
	}
	i := sort.Search(len(l.jobs), func(i int) bool { return !l.jobs[i].Queued.Before(j.Queued) })
	for ; i < len(l.jobs); i++ {
		if l.jobs[i] == j {
			l.jobs = slices.Delete(l.jobs, i, i+1)
			return
		}
	}
}

// SetSectorState moves a sector (created if new) to a state at time at, appends to its event log and notifies
// subscribers. A non-empty message marks the sector failed.
func (m *MemSource) SetSectorState(id string, number uint64, state, message string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.sectors[id]
	from := ""
	if !ok {
		r = &sectorRec{s: web.Sector{ID: id, Number: number}}
		m.sectors[id] = r
		m.all = insertByNumber(m.all, r)
	} else {
		from = r.s.State
		m.byState[from] = removeByNumber(m.byState[from], r)
	}
	if !slices.Contains(m.stateOrder, state) {
		m.stateOrder = append(m.stateOrder, state)
	}
	r.s.State, r.s.Updated, r.s.Failed = state, at, message != ""
	r.events = append(r.events, web.SectorEvent{Time: at, From: from, To: state, Message: message})
	m.byState[state] = insertByNumber(m.byState[state], r)
	m.notify(web.Change{Kind: web.ChangeSector, Time: at, Sector: id, From: from, To: state, Message: message})
}

func insertByNumber(s []*sectorRec, r *sectorRec) []*sectorRec {
	i := sort.Search(len(s), func(i int) bool { return s[i].s.Number > r.s.Number })
	return slices.Insert(s, i, r)
}

func removeByNumber(s []*sectorRec, r *sectorRec) []*sectorRec {
	i := sort.Search(len(s), func(i int) bool { return s[i].s.Number >= r.s.Number })
	for ; i < len(s) && s[i].s.Number == r.s.Number; i++ {
		if s[i] == r {
			return slices.Delete(s, i, i+1)
		}
	}
	return s
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
func (m *MemSource) Jobs(_ context.Context, q web.JobQuery) ([]web.Job, error) {
	if !q.To.After(q.From) {
		return nil, fmt.Errorf("job query: To (%s) must be after From (%s)", q.To, q.From)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := q.Workers
	if len(ids) == 0 {
		for id := range m.lanes {
			if id != "" {
				ids = append(ids, id)
			}
		}
	}
	// two passes: count the matches first so that the result is allocated once
	n := 0
	for _, id := range ids {
		if l := m.lanes[id]; l != nil {
			n += l.window(nil, q, true)
		}
	}
	if q.Limit > 0 {
		n = min(n, q.Limit)
	}
	out := make([]web.Job, 0, n)
	for _, id := range ids {
		if l := m.lanes[id]; l != nil {
			l.window(&out, q, false)
		}
		if q.Limit > 0 && len(out) >= q.Limit {
			return out[:q.Limit], nil
		}
	}
	return out, nil
}

// window appends the lane's jobs overlapping [q.From, q.To). A finished job queued before From-maxSpan cannot
// reach From, so the scan starts there; unfinished jobs queued earlier are taken from the open list.
// With countOnly it appends nothing and returns the number of matches.
func (l *lane) window(out *[]web.Job, q web.JobQuery, countOnly bool) int {
	n := 0
	take := func(j *web.Job) {
		n++
		if !countOnly {
			*out = append(*out, *j)
		}
	}
	scanFrom := q.From.Add(-l.maxSpan)
	for _, j := range l.open {
		if j.Queued.Before(scanFrom) { // still running: overlaps every later window
			take(j)
		}
	}
	start := sort.Search(len(l.jobs), func(i int) bool { return !l.jobs[i].Queued.Before(scanFrom) })
	for _, j := range l.jobs[start:] {
		if !j.Queued.Before(q.To) {
			break
		}
		if j.End.IsZero() || (j.End.After(q.From) && j.End.Sub(j.Queued) >= q.MinSpan) {
			take(j)
		}
	}
	return n
}

// SectorCounts implements web.Source.
func (m *MemSource) SectorCounts(context.Context) ([]web.StateCount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]web.StateCount, 0, len(m.stateOrder))
	for _, st := range m.stateOrder {
		out = append(out, web.StateCount{State: st, Count: len(m.byState[st])})
	}
	return out, nil
}

// Sectors implements web.Source.
func (m *MemSource) Sectors(_ context.Context, q web.SectorQuery) (web.SectorPage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.all
	if q.State != "" {
		list = m.byState[q.State]
	}
	page := web.SectorPage{Total: len(list), Sectors: []web.Sector{}}
	// newest first: walk the ascending list from the end
	for i := len(list) - 1 - q.Offset; i >= 0 && (q.Limit <= 0 || len(page.Sectors) < q.Limit); i-- {
		page.Sectors = append(page.Sectors, list[i].s)
	}
	return page, nil
}

// SectorEvents implements web.Source.
func (m *MemSource) SectorEvents(_ context.Context, sector string) ([]web.SectorEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.sectors[sector]
	if !ok {
		return nil, fmt.Errorf("sector %q: %w", sector, web.ErrNotFound)
	}
	return slices.Clone(r.events), nil
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
