package sched

import (
	"context"
	"errors"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/storiface"
)

// Worker is what the scheduler needs of a worker (local or an RPC client).
type Worker interface {
	storiface.WorkerCalls
	// TaskTypes lists the task types the worker accepts.
	TaskTypes(ctx context.Context) (map[storiface.TaskType]struct{}, error)
	// Paths lists the worker's local storage paths.
	Paths(ctx context.Context) ([]storiface.StoragePath, error)
	// Info describes the worker and its resources.
	Info(ctx context.Context) (storiface.WorkerInfo, error)
	// Session returns the worker process's session: a new value means the worker restarted; an error means it is
	// unreachable.
	Session(ctx context.Context) (uuid.UUID, error)
	// Close releases the connection.
	Close() error
}

// WorkerAction is one step of a request run against the chosen worker.
type WorkerAction func(ctx context.Context, w Worker) error

// PrepareAction is the step run before the work (typically fetching the sector's files to the worker). PrepType
// is the task type whose MaxConcurrent limits how many prepare steps run at once on a worker (e.g. TTFetch);
// empty means the request's own task type. A nil Action means no prepare step.
type PrepareAction struct {
	Action   WorkerAction
	PrepType storiface.TaskType
}

// Selector decides which workers may run a request (Filter, with a reason when not) and how much it prefers each
// (Score). Filter's error means the selector broke (e.g. the index failed), not that the worker is unsuitable.
// Both are called inside the scheduler's decision, under its lock: they must read only the WorkerHandle's cached
// data and the Index, never call the worker.
type Selector interface {
	Filter(ctx context.Context, task storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) (ok bool, reason string, err error)
	// Score ranks an accepted worker in [0, 1]; 1 means no worker can be better for this selector.
	Score(ctx context.Context, task storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) float64
}

// SpaceClaimer is implemented by selectors whose acceptance depends on free storage. Claim returns the space an
// assignment to w takes; the core records it in its claim ledger in the same decision (see the package doc).
type SpaceClaimer interface {
	Claim(ctx context.Context, task storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) []SpaceClaim
}

// Keyed is implemented by selectors whose Filter and Score results are the same for every selector with the same
// key (e.g. every task selector); the core then evaluates one per worker per pass instead of one per request.
type Keyed interface {
	Key() string
}

// SpaceClaim is storage an assignment will take in one path.
type SpaceClaim struct {
	Path  storiface.ID
	Bytes uint64
}

// Index is what selectors read of the sector index (satisfied by stores.SectorIndex).
type Index interface {
	StorageFindSector(ctx context.Context, s abi.SectorID, ft storiface.SectorFileType, ssize abi.SectorSize, allowFetch bool) ([]storiface.SectorStorageInfo, error)
	StorageBestAlloc(ctx context.Context, allocate storiface.SectorFileType, ssize abi.SectorSize, pathType storiface.PathType, miner abi.ActorID) ([]storiface.StorageInfo, error)
	StorageInfo(ctx context.Context, id storiface.ID) (storiface.StorageInfo, error)
}

// SpaceReporter is optionally implemented by an Index that knows each path's free space; FSAvailable must already
// exclude the space reserved by running tasks.
type SpaceReporter interface {
	StorageStat(ctx context.Context, id storiface.ID) (storiface.FsStat, error)
}

// DealSectorPriority is the priority of sectors holding deals: above every default-priority (0) request.
const DealSectorPriority = 1024

type priorityKey struct{}

// WithPriority returns a context whose requests are scheduled with priority p (higher first; default 0).
func WithPriority(ctx context.Context, p int) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityOf returns the priority set with WithPriority, or 0.
func PriorityOf(ctx context.Context) int {
	if p, ok := ctx.Value(priorityKey{}).(int); ok {
		return p
	}
	return 0
}

// Sentinel errors.
var (
	// ErrClosed is returned by Schedule for requests still waiting when the scheduler closes.
	ErrClosed = errors.New("scheduler closed")
	// ErrRequestRemoved is returned by Schedule when RemoveRequest removed the request.
	ErrRequestRemoved = errors.New("request removed from the scheduler")
	// ErrUnknownRequest is returned by RemoveRequest for an ID that is not waiting (unknown, or already started).
	ErrUnknownRequest = errors.New("no waiting request with this ID")
	// ErrUnknownWorker is returned for a worker ID the scheduler does not know.
	ErrUnknownWorker = errors.New("unknown worker")
	// ErrDuplicateWorker is returned by AddWorker for an ID already present.
	ErrDuplicateWorker = errors.New("worker already added")
)
