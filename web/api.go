package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Overview is the summary on the dashboard's first view; it is also pushed as the "tick" event.
type Overview struct {
	Time    time.Time      `json:"time"`
	Workers WorkersSummary `json:"workers"`
	Running []TaskCount    `json:"running"` // running jobs per task type
	Sectors []StateCount   `json:"sectors"`
	Total   int            `json:"sectorsTotal"`
	Queue   QueueSummary   `json:"queue"`
	Storage StorageSummary `json:"storage"`
}

// WorkersSummary totals the workers' resources.
type WorkersSummary struct {
	Total    int     `json:"total"`
	Enabled  int     `json:"enabled"`
	Busy     int     `json:"busy"`
	CPUUsed  uint64  `json:"cpuUsed"`
	CPUTotal uint64  `json:"cpuTotal"`
	MemUsed  uint64  `json:"memUsed"`
	MemTotal uint64  `json:"memTotal"`
	GPUUsed  float64 `json:"gpuUsed"`
	GPUTotal int     `json:"gpuTotal"`
}

// TaskCount is a number of jobs or requests of one task type.
type TaskCount struct {
	Task  string `json:"task"`
	Count int    `json:"count"`
}

// QueueSummary is the queue length (requests, also per task type), the age of the oldest request and how many
// rows the queue view pages through (fewer than Total when the source merges alike requests).
type QueueSummary struct {
	Total      int         `json:"total"`
	Rows       int         `json:"rows"`
	ByTask     []TaskCount `json:"byTask"`
	OldestWait float64     `json:"oldestWaitSec"`
}

// StorageSummary totals the storage paths, in bytes.
type StorageSummary struct {
	Paths     int   `json:"paths"`
	Healthy   int   `json:"healthy"`
	Capacity  int64 `json:"capacity"`
	Used      int64 `json:"used"`
	Reserved  int64 `json:"reserved"`
	Available int64 `json:"available"`
	Sectors   int   `json:"sectors"`
}

func (s *Server) overview(r *http.Request) (any, error) { return s.buildOverview(r.Context()) }

func (s *Server) buildOverview(ctx context.Context) (Overview, error) {
	ov := Overview{Time: s.now()}
	workers, err := s.src.Workers(ctx)
	if err != nil {
		return ov, fmt.Errorf("reading workers: %w", err)
	}
	running := map[string]int{}
	for _, w := range workers {
		ws := &ov.Workers
		ws.Total++
		if w.Enabled {
			ws.Enabled++
		}
		if len(w.Jobs) > 0 {
			ws.Busy++
		}
		ws.CPUUsed, ws.CPUTotal = ws.CPUUsed+w.CPUUsed, ws.CPUTotal+w.CPUTotal
		ws.MemUsed, ws.MemTotal = ws.MemUsed+w.MemUsed, ws.MemTotal+w.MemTotal
		ws.GPUUsed, ws.GPUTotal = ws.GPUUsed+w.GPUUsed, ws.GPUTotal+w.GPUTotal
		for _, j := range w.Jobs {
			running[j.Task]++
		}
	}
	ov.Running = sortedCounts(running)
	if ov.Sectors, err = s.src.SectorCounts(ctx); err != nil {
		return ov, fmt.Errorf("reading sector counts: %w", err)
	}
	for _, c := range ov.Sectors {
		ov.Total += c.Count
	}
	queue, err := s.src.Queue(ctx)
	if err != nil {
		return ov, fmt.Errorf("reading scheduler queue: %w", err)
	}
	ov.Queue = summarizeQueue(queue, ov.Time)
	paths, err := s.src.StoragePaths(ctx)
	if err != nil {
		return ov, fmt.Errorf("reading storage paths: %w", err)
	}
	ov.Storage = summarizeStorage(paths)
	return ov, nil
}

func sortedCounts(m map[string]int) []TaskCount {
	out := make([]TaskCount, 0, len(m))
	for k, v := range m {
		out = append(out, TaskCount{Task: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Task < out[j].Task
	})
	return out
}

func summarizeQueue(q []QueuedRequest, now time.Time) QueueSummary {
	qs := QueueSummary{Rows: len(q)}
	by := map[string]int{}
	for _, r := range q {
		n := max(1, r.Count)
		qs.Total += n
		by[r.Task] += n
		qs.OldestWait = max(qs.OldestWait, now.Sub(r.Queued).Seconds())
	}
	qs.ByTask = sortedCounts(by)
	return qs
}

func summarizeStorage(paths []StoragePath) StorageSummary {
	ss := StorageSummary{Paths: len(paths)}
	for _, p := range paths {
		if p.Healthy {
			ss.Healthy++
		}
		ss.Capacity += p.Capacity
		ss.Used += p.Used
		ss.Reserved += p.Reserved
		ss.Available += p.Available
		ss.Sectors += p.Sectors
	}
	return ss
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: %s=%q: accepted is an integer from %d to %d", errBadRequest, name, v, lo, hi)
	}
	return n, nil
}

// timeParam parses an optional time given as Unix milliseconds or RFC 3339.
func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s=%q: accepted are Unix milliseconds or RFC 3339", errBadRequest, name, v)
	}
	return t, nil
}

// WorkerPage is one page of workers, sorted by host name.
type WorkerPage struct {
	Total   int      `json:"total"`
	Offset  int      `json:"offset"`
	Workers []Worker `json:"workers"`
}

// sortedWorkers returns the workers whose hostname or ID contains filter, sorted by hostname then ID.
func (s *Server) sortedWorkers(ctx context.Context, filter string) ([]Worker, error) {
	all, err := s.src.Workers(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading workers: %w", err)
	}
	ws := all[:0]
	for _, w := range all {
		if filter == "" || strings.Contains(w.Hostname, filter) || strings.Contains(w.ID, filter) {
			ws = append(ws, w)
		}
	}
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].Hostname != ws[j].Hostname {
			return ws[i].Hostname < ws[j].Hostname
		}
		return ws[i].ID < ws[j].ID
	})
	return ws, nil
}

func page[T any](items []T, offset, limit int) []T {
	if offset >= len(items) {
		return []T{}
	}
	return items[offset:min(len(items), offset+limit)]
}

func (s *Server) workers(r *http.Request) (any, error) {
	offset, err := intParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit", 50, 1, 500)
	if err != nil {
		return nil, err
	}
	ws, err := s.sortedWorkers(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		return nil, err
	}
	return WorkerPage{Total: len(ws), Offset: offset, Workers: page(ws, offset, limit)}, nil
}

func (s *Server) sectors(r *http.Request) (any, error) {
	offset, err := intParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit", 50, 1, 500)
	if err != nil {
		return nil, err
	}
	p, err := s.src.Sectors(r.Context(), SectorQuery{State: r.URL.Query().Get("state"), Offset: offset, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("reading sectors: %w", err)
	}
	return p, nil
}

func (s *Server) sectorEvents(r *http.Request) (any, error) {
	id := r.PathValue("id")
	ev, err := s.src.SectorEvents(r.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("reading events of %s: %w", id, err)
	}
	return map[string]any{"sector": id, "events": ev}, nil
}

// StorageView is the storage paths and their totals.
type StorageView struct {
	Summary StorageSummary `json:"summary"`
	Paths   []StoragePath  `json:"paths"`
}

func (s *Server) storage(r *http.Request) (any, error) {
	paths, err := s.src.StoragePaths(r.Context())
	if err != nil {
		return nil, fmt.Errorf("reading storage paths: %w", err)
	}
	sort.Slice(paths, func(i, j int) bool {
		if paths[i].Host != paths[j].Host {
			return paths[i].Host < paths[j].Host
		}
		return paths[i].Path < paths[j].Path
	})
	return StorageView{Summary: summarizeStorage(paths), Paths: paths}, nil
}
