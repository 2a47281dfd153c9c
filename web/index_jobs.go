package web

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// JobHistory is an in-memory job history indexed for the timeline: jobs are kept per worker ordered by queue
// time, so that a window query touches only the jobs near the window. A Source adapter feeds it with Put as jobs
// are queued, start and finish (the scheduler itself keeps no history) and answers Source.Jobs with Jobs.
// Prune bounds its memory. It is safe for concurrent use.
type JobHistory struct {
	mu    sync.Mutex
	jobs  map[string]*Job
	lanes map[string]*jobLane // worker ID ("" while unassigned) -> its jobs
}

type jobLane struct {
	jobs    []*Job        // ascending Queued
	open    []*Job        // not finished (End zero), any order
	maxSpan time.Duration // longest End-Queued of a finished job in jobs
}

// NewJobHistory returns an empty history.
func NewJobHistory() *JobHistory {
	return &JobHistory{jobs: map[string]*Job{}, lanes: map[string]*jobLane{}}
}

// Len returns the number of jobs held.
func (h *JobHistory) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.jobs)
}

// Put records a job, or replaces the job with the same ID (moving it to its new worker's lane). An empty ID is
// an error.
func (h *JobHistory) Put(j Job) error {
	if j.ID == "" {
		return fmt.Errorf("job history: job ID is empty (task %q, sector %q)", j.Task, j.Sector)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if old, ok := h.jobs[j.ID]; ok {
		h.lanes[old.Worker].remove(old)
	}
	p := &j
	h.jobs[j.ID] = p
	l := h.lanes[j.Worker]
	if l == nil {
		l = &jobLane{}
		h.lanes[j.Worker] = l
	}
	l.insert(p)
	return nil
}

// Get returns the job with the given ID.
func (h *JobHistory) Get(id string) (Job, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	j, ok := h.jobs[id]
	if !ok {
		return Job{}, false
	}
	return *j, true
}

// Prune drops finished jobs that ended before t and returns how many it dropped. Unfinished jobs stay.
func (h *JobHistory) Prune(t time.Time) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for id, l := range h.lanes {
		kept := l.jobs[:0]
		l.maxSpan = 0
		for _, j := range l.jobs {
			if !j.End.IsZero() && j.End.Before(t) {
				delete(h.jobs, j.ID)
				n++
				continue
			}
			kept = append(kept, j)
			if !j.End.IsZero() {
				l.maxSpan = max(l.maxSpan, j.End.Sub(j.Queued))
			}
		}
		clear(l.jobs[len(kept):])
		l.jobs = kept
		if len(l.jobs) == 0 {
			delete(h.lanes, id)
		}
	}
	return n
}

// Jobs answers a JobQuery (see Source.Jobs). With no workers in the query, every assigned job is considered;
// jobs not yet assigned to a worker are returned only when q.Workers lists "". To must be after From.
func (h *JobHistory) Jobs(q JobQuery) ([]Job, error) {
	if !q.To.After(q.From) {
		return nil, fmt.Errorf("job query: To (%s) must be after From (%s)", q.To, q.From)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := q.Workers
	if len(ids) == 0 {
		for id := range h.lanes {
			if id != "" {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
	}
	// two passes: count the matches first so that the result is allocated once
	n := 0
	for _, id := range ids {
		if l := h.lanes[id]; l != nil {
			n += l.window(nil, q, true)
		}
	}
	if q.Limit > 0 {
		n = min(n, q.Limit)
	}
	out := make([]Job, 0, n)
	for _, id := range ids {
		if l := h.lanes[id]; l != nil {
			l.window(&out, q, false)
		}
		if q.Limit > 0 && len(out) >= q.Limit {
			return out[:q.Limit], nil
		}
	}
	return out, nil
}

func (l *jobLane) insert(j *Job) {
	i := sort.Search(len(l.jobs), func(i int) bool { return l.jobs[i].Queued.After(j.Queued) })
	l.jobs = slices.Insert(l.jobs, i, j)
	if j.End.IsZero() {
		l.open = append(l.open, j)
	} else {
		l.maxSpan = max(l.maxSpan, j.End.Sub(j.Queued))
	}
}

func (l *jobLane) remove(j *Job) {
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

// window appends the lane's jobs overlapping [q.From, q.To) to out and returns how many there are; with
// countOnly it only counts. A finished job queued before From-maxSpan cannot reach From, so the scan starts
// there; unfinished jobs queued earlier are taken from the open list.
func (l *jobLane) window(out *[]Job, q JobQuery, countOnly bool) int {
	n := 0
	take := func(j *Job) {
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
