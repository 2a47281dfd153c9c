package web

import (
	"context"
	"time"
)

// Source is everything the dashboard reads. It is deliberately narrow and uses the plain, JSON-friendly types of
// this file so that the web package imports none of the manager, scheduler, stores or pipeline packages; the
// manager wires an adapter from those packages to this interface.
//
// Small collections (workers, storage paths, the scheduler queue) are returned whole; large ones (job history,
// sectors) are queried by window or page so that an endpoint never touches more than it shows. Every method must be
// safe for concurrent use and must not retain or modify the slices it returns after returning them.
type Source interface {
	// Workers returns every connected worker with its resources and current jobs, in any order.
	Workers(ctx context.Context) ([]Worker, error)
	// Jobs returns the jobs of the given workers (all workers if q.Workers is empty) whose lifetime
	// [Queued, End) overlaps [q.From, q.To); a job with a zero End is still running and overlaps every window
	// after its Queued time. At most q.Limit jobs are returned when q.Limit > 0.
	Jobs(ctx context.Context, q JobQuery) ([]Job, error)
	// SectorCounts returns the number of sectors in each pipeline state, in pipeline order, states with zero
	// sectors included when the source knows them.
	SectorCounts(ctx context.Context) ([]StateCount, error)
	// Sectors returns one page of sectors, newest (highest number) first, optionally only those in q.State.
	Sectors(ctx context.Context, q SectorQuery) (SectorPage, error)
	// SectorEvents returns the event log of one sector, oldest first. An unknown sector is ErrNotFound.
	SectorEvents(ctx context.Context, sector string) ([]SectorEvent, error)
	// StoragePaths returns every storage path with its capacity and the number of sectors it holds.
	StoragePaths(ctx context.Context) ([]StoragePath, error)
	// Queue returns the scheduler's waiting requests, most urgent first, each with the reasons workers gave for
	// not taking it.
	Queue(ctx context.Context) ([]QueuedRequest, error)
	// Subscribe returns a channel of changes that is closed when ctx is done. A slow reader may miss changes;
	// the dashboard re-reads on its periodic tick, so a source may drop changes rather than block.
	Subscribe(ctx context.Context) (<-chan Change, error)
}

// Worker is one worker as the dashboard shows it. Memory is in bytes; GPU use is in GPUs (fractions allowed).
type Worker struct {
	ID       string      `json:"id"`
	Hostname string      `json:"hostname"`
	Enabled  bool        `json:"enabled"`
	Tasks    []string    `json:"tasks"` // task types it accepts, short names ("PC1")
	CPUUsed  uint64      `json:"cpuUsed"`
	CPUTotal uint64      `json:"cpuTotal"`
	MemUsed  uint64      `json:"memUsed"`
	MemTotal uint64      `json:"memTotal"`
	GPUUsed  float64     `json:"gpuUsed"`
	GPUTotal int         `json:"gpuTotal"`
	Jobs     []WorkerJob `json:"jobs"` // current jobs: running, preparing, assigned or returning
}

// WorkerJob is a job currently held by a worker.
type WorkerJob struct {
	ID     string    `json:"id"`
	Task   string    `json:"task"`
	Sector string    `json:"sector"`
	State  string    `json:"state"` // "running", "prepare", "assigned", "ret-wait"
	Start  time.Time `json:"start"`
}

// Job is one task in the job history, for the timeline. Queued is when the request entered the scheduler, Start
// when the worker began it (zero while waiting) and End when it finished (zero while waiting or running).
type Job struct {
	ID      string    `json:"id"`
	Task    string    `json:"task"`
	Worker  string    `json:"worker"` // worker ID; empty while not yet assigned
	Sector  string    `json:"sector"`
	Queued  time.Time `json:"queued"`
	Start   time.Time `json:"start,omitzero"`
	End     time.Time `json:"end,omitzero"`
	Failed  bool      `json:"failed,omitempty"`
	Message string    `json:"message,omitempty"`
}

// JobQuery selects jobs for the timeline.
type JobQuery struct {
	From, To time.Time
	Workers  []string // worker IDs; empty means all
	Limit    int      // 0 means no limit
	// MinSpan leaves out finished jobs whose whole life (End-Queued) is shorter: they would be narrower than a
	// pixel of the chart. 0 keeps every job.
	MinSpan time.Duration
}

// StateCount is the number of sectors in one pipeline state.
type StateCount struct {
	State string `json:"state"`
	Count int    `json:"count"`
}

// Sector is a sector's current place in the pipeline.
type Sector struct {
	ID      string    `json:"id"` // file name, "s-t01000-3"
	Number  uint64    `json:"number"`
	State   string    `json:"state"`
	Updated time.Time `json:"updated"`
	Failed  bool      `json:"failed,omitempty"`
}

// SectorQuery selects a page of sectors.
type SectorQuery struct {
	State  string // empty means every state
	Offset int
	Limit  int
}

// SectorPage is one page of sectors and the number matching the query.
type SectorPage struct {
	Total   int      `json:"total"`
	Sectors []Sector `json:"sectors"`
}

// SectorEvent is one entry of a sector's event log.
type SectorEvent struct {
	Time    time.Time `json:"time"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to"`
	Message string    `json:"message,omitempty"`
	// Failed marks a transition into a failure state; Message is then the error, otherwise a note.
	Failed bool `json:"failed,omitempty"`
}

// StoragePath is one storage path with its capacity in bytes. Available is what remains for new sectors after
// reservations.
type StoragePath struct {
	ID        string   `json:"id"`
	Host      string   `json:"host"`
	Path      string   `json:"path"`
	URLs      []string `json:"urls,omitempty"`
	CanSeal   bool     `json:"canSeal"`
	CanStore  bool     `json:"canStore"`
	Capacity  int64    `json:"capacity"`
	Used      int64    `json:"used"`
	Reserved  int64    `json:"reserved"`
	Available int64    `json:"available"`
	Sectors   int      `json:"sectors"`
	Healthy   bool     `json:"healthy"`
	Err       string   `json:"err,omitempty"`
}

// QueuedRequest is a request waiting in the scheduler queue. A source gives either each worker's Rejections or,
// for large fleets, the rejections already grouped in Reasons (then Rejections may be empty; see RequestSource).
// A source may also merge requests that every worker answers alike into one QueuedRequest standing for Count of
// them (ID, Sector and Queued are then the first's).
type QueuedRequest struct {
	ID       string    `json:"id"`
	Task     string    `json:"task"`
	Sector   string    `json:"sector"`
	Priority int       `json:"priority"`
	Queued   time.Time `json:"queued"`
	// Count is how many requests this entry stands for; 0 means 1.
	Count      int           `json:"count,omitempty"`
	Rejections []Rejection   `json:"rejections"`
	Reasons    []ReasonGroup `json:"reasons,omitempty"`
}

// RequestSource is implemented by a Source whose Queue groups rejections: QueuedRequest returns one waiting
// request with every worker's Rejections, or an error wrapping ErrNotFound when id is not waiting.
type RequestSource interface {
	QueuedRequest(ctx context.Context, id string) (QueuedRequest, error)
}

// Rejection is why one worker did not take a request.
type Rejection struct {
	Worker string `json:"worker"`
	Reason string `json:"reason"`
}

// ChangeKind names what a Change is about.
type ChangeKind string

// The change kinds.
const (
	ChangeSector  ChangeKind = "sector"  // a sector moved to another state (Sector, From, To set)
	ChangeJob     ChangeKind = "job"     // a job was queued, started or finished (Job set)
	ChangeWorker  ChangeKind = "worker"  // a worker connected, left, was enabled or disabled (Worker set)
	ChangeStorage ChangeKind = "storage" // a storage path was attached, detached or changed (Path set)
	ChangeQueue   ChangeKind = "queue"   // the scheduler queue changed
)

// Change is a small delta the dashboard forwards to browsers so that they update without re-reading tables.
type Change struct {
	Kind    ChangeKind `json:"kind"`
	Time    time.Time  `json:"time"`
	Sector  string     `json:"sector,omitempty"`
	From    string     `json:"from,omitempty"`
	To      string     `json:"to,omitempty"`
	Message string     `json:"message,omitempty"`
	Job     *Job       `json:"job,omitempty"`
	Worker  string     `json:"worker,omitempty"`
	Path    string     `json:"path,omitempty"`
}
