package web

import (
	"fmt"
	"net/http"
	"sort"
	"time"
)

// Timeline is what the Gantt chart draws: one page of worker lanes and the jobs on them within [From, To).
// Jobs that would be narrower than one pixel of the chart (a finished job whose whole life, queued to end, is
// shorter than MinSpanMs = (To-From)/px) are left out.
type Timeline struct {
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Now       time.Time `json:"now"`
	Total     int       `json:"total"` // lanes (workers) in all pages
	Offset    int       `json:"offset"`
	Lanes     []Lane    `json:"lanes"`
	MinSpanMs int64     `json:"minSpanMs"`
	Truncated bool      `json:"truncated,omitempty"` // more than maxTimelineJobs jobs were in the window
	// Jobs stays the last field: encodeTimeline writes it by hand after the others.
	Jobs []TimelineJob `json:"jobs"`
}

// TimelineJob is a Job in the timeline's compact form: times are Unix milliseconds, 0 when not yet reached.
type TimelineJob struct {
	ID      string `json:"id"`
	Task    string `json:"task"`
	Worker  string `json:"worker"`
	Sector  string `json:"sector"`
	Queued  int64  `json:"q"`
	Start   int64  `json:"s,omitempty"`
	End     int64  `json:"e,omitempty"`
	Failed  bool   `json:"failed,omitempty"`
	Message string `json:"msg,omitempty"`
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Lane is one worker's row in the timeline.
type Lane struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`
}

const (
	maxTimelineJobs   = 10000
	maxTimelineWindow = 31 * 24 * time.Hour
)

func (s *Server) timeline(r *http.Request) (any, error) {
	now := s.now()
	to, err := timeParam(r, "to", now)
	if err != nil {
		return nil, err
	}
	from, err := timeParam(r, "from", to.Add(-6*time.Hour))
	if err != nil {
		return nil, err
	}
	if !to.After(from) || to.Sub(from) > maxTimelineWindow {
		return nil, fmt.Errorf("%w: from..to must be a window of up to %s with from before to", errBadRequest, maxTimelineWindow)
	}
	offset, err := intParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit", 40, 1, 100)
	if err != nil {
		return nil, err
	}
	px, err := intParam(r, "px", 1600, 100, 10000)
	if err != nil {
		return nil, err
	}
	ws, err := s.sortedWorkers(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		return nil, err
	}
	tl := Timeline{From: from, To: to, Now: now, Total: len(ws), Offset: offset, Lanes: []Lane{}, Jobs: []TimelineJob{}}
	ids := make([]string, 0, limit)
	for _, w := range page(ws, offset, limit) {
		tl.Lanes = append(tl.Lanes, Lane{ID: w.ID, Hostname: w.Hostname})
		ids = append(ids, w.ID)
	}
	if len(ids) == 0 {
		return encodeTimeline(tl)
	}
	pixel := to.Sub(from) / time.Duration(px)
	tl.MinSpanMs = pixel.Milliseconds()
	jobs, err := s.src.Jobs(r.Context(), JobQuery{From: from, To: to, Workers: ids, Limit: maxTimelineJobs + 1, MinSpan: pixel})
	if err != nil {
		return nil, fmt.Errorf("reading jobs: %w", err)
	}
	if len(jobs) > maxTimelineJobs {
		jobs, tl.Truncated = jobs[:maxTimelineJobs], true
	}
	tl.Jobs = make([]TimelineJob, 0, len(jobs))
	for _, j := range jobs {
		tl.Jobs = append(tl.Jobs, TimelineJob{ID: j.ID, Task: j.Task, Worker: j.Worker, Sector: j.Sector,
			Queued: unixMilli(j.Queued), Start: unixMilli(j.Start), End: unixMilli(j.End), Failed: j.Failed, Message: j.Message})
	}
	return encodeTimeline(tl)
}

// QueueView is one page of the scheduler queue with each request's rejections grouped by reason.
type QueueView struct {
	Summary  QueueSummary `json:"summary"`
	Offset   int          `json:"offset"`
	Requests []QueueRow   `json:"requests"`
}

// QueueRow is a waiting request and why workers did not take it, grouped by reason (most common first).
type QueueRow struct {
	ID       string        `json:"id"`
	Task     string        `json:"task"`
	Sector   string        `json:"sector"`
	Priority int           `json:"priority"`
	Queued   time.Time     `json:"queued"`
	Count    int           `json:"count"` // requests the row stands for (see QueuedRequest.Count)
	WaitSec  float64       `json:"waitSec"`
	Reasons  []ReasonGroup `json:"reasons"`
}

// ReasonGroup is one rejection reason, how many workers gave it and up to maxReasonWorkers of them.
type ReasonGroup struct {
	Reason  string   `json:"reason"`
	Count   int      `json:"count"`
	Workers []string `json:"workers"`
}

const maxReasonWorkers = 8

func (s *Server) queue(r *http.Request) (any, error) {
	offset, err := intParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit", 50, 1, 200)
	if err != nil {
		return nil, err
	}
	q, err := s.src.Queue(r.Context())
	if err != nil {
		return nil, fmt.Errorf("reading scheduler queue: %w", err)
	}
	now := s.now()
	v := QueueView{Summary: summarizeQueue(q, now), Offset: offset, Requests: []QueueRow{}}
	for _, req := range page(q, offset, limit) {
		v.Requests = append(v.Requests, QueueRow{
			ID: req.ID, Task: req.Task, Sector: req.Sector, Priority: req.Priority, Queued: req.Queued,
			Count: max(1, req.Count), WaitSec: now.Sub(req.Queued).Seconds(), Reasons: reasonsOf(req),
		})
	}
	return v, nil
}

// reasonsOf returns req's rejections grouped by reason: the source's grouping when it gave one.
func reasonsOf(req QueuedRequest) []ReasonGroup {
	if req.Reasons != nil {
		return req.Reasons
	}
	return groupReasons(req.Rejections)
}

func groupReasons(rs []Rejection) []ReasonGroup {
	idx := map[string]int{}
	var out []ReasonGroup
	for _, r := range rs {
		i, ok := idx[r.Reason]
		if !ok {
			i = len(out)
			idx[r.Reason] = i
			out = append(out, ReasonGroup{Reason: r.Reason})
		}
		g := &out[i]
		g.Count++
		if len(g.Workers) < maxReasonWorkers {
			g.Workers = append(g.Workers, r.Worker)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	if out == nil {
		out = []ReasonGroup{}
	}
	return out
}

// QueueRequestView is one waiting request with every worker's reason for not taking it, sorted by worker.
type QueueRequestView struct {
	QueueRow
	Rejections []Rejection `json:"rejections"`
}

func (s *Server) queueRequest(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if rs, ok := s.src.(RequestSource); ok {
		req, err := rs.QueuedRequest(r.Context(), id)
		if err != nil {
			return nil, fmt.Errorf("reading queued request %q: %w", id, err)
		}
		return s.queueRequestView(req), nil
	}
	q, err := s.src.Queue(r.Context())
	if err != nil {
		return nil, fmt.Errorf("reading scheduler queue: %w", err)
	}
	for _, req := range q {
		if req.ID == id {
			return s.queueRequestView(req), nil
		}
	}
	return nil, fmt.Errorf("queued request %q: %w (it may have been scheduled)", id, ErrNotFound)
}

// queueRequestView is req with every worker's rejection, sorted by worker.
func (s *Server) queueRequestView(req QueuedRequest) QueueRequestView {
	rej := append([]Rejection(nil), req.Rejections...)
	sort.Slice(rej, func(i, j int) bool { return rej[i].Worker < rej[j].Worker })
	if rej == nil {
		rej = []Rejection{}
	}
	reasons := groupReasons(req.Rejections)
	if len(req.Rejections) == 0 && req.Reasons != nil {
		reasons = req.Reasons
	}
	return QueueRequestView{QueueRow: QueueRow{ID: req.ID, Task: req.Task, Sector: req.Sector, Priority: req.Priority,
		Queued: req.Queued, Count: max(1, req.Count), WaitSec: s.now().Sub(req.Queued).Seconds(), Reasons: reasons},
		Rejections: rej}
}
