// Package worker is the LocalWorker: it runs sealing calls against a seal.Backend on files it acquires through a
// stores.Store, tracks every call in SQL so that a result is computed at most once and returned until the
// manager acknowledges it, and reports the jobs it runs. Every execution of a call's work is also recorded and
// kept after the acknowledgement (executions.go), so that how often each piece of work ran can be audited. The
// same type serves as the manager's embedded worker and, behind the api.Worker RPC server, as a remote worker
// daemon.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/filecoin-project/go-jsonrpc/auth"
	"github.com/google/uuid"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/seal"
	"sealfleet/stores"
	"sealfleet/storiface"
)

// Config is a worker's own configuration: which tasks it accepts and how it returns results.
type Config struct {
	// Name labels the worker in `sealing workers` (default: the hostname).
	Name string
	// TaskTypes are the tasks the worker accepts at start; Fetch is always accepted.
	TaskTypes []storiface.TaskType
	// Resources describes the machine (see DetectResources).
	Resources storiface.WorkerResources
	// IgnoreResources lets the scheduler give this worker any task it accepts, whatever its resources.
	IgnoreResources bool
	// ParallelFetchLimit bounds concurrent Fetch calls (0: no limit).
	ParallelFetchLimit int
	// ReturnBackoffMin and ReturnBackoffMax bound the delay between attempts to return a result (defaults 1s,
	// 1min); the delay doubles after each failure.
	ReturnBackoffMin, ReturnBackoffMax time.Duration
	// Clock is the time source (default RealClock).
	Clock Clock
	// Logger is the worker's logger (default slog.Default()).
	Logger *slog.Logger
}

// LocalPaths is the part of stores.Local the worker uses to manage its own storage paths.
type LocalPaths interface {
	// Local lists the local paths.
	Local(ctx context.Context) ([]storiface.StoragePath, error)
	// OpenPath opens (initialising if needed) a path and declares it in the index.
	OpenPath(ctx context.Context, root string) error
	// DetachPath stops using a path given by root or ID.
	DetachPath(ctx context.Context, rootOrID string) error
	// Redeclare re-declares the sector files found in a path (every path if id is nil).
	Redeclare(ctx context.Context, id *storiface.ID, dropMissing bool) error
}

// Deps are what a LocalWorker works with.
type Deps struct {
	Backend seal.Backend
	Store   stores.Store
	Index   stores.SectorIndex
	Local   LocalPaths
	// Return receives results (the manager, in process or over RPC).
	Return api.WorkerReturn
	// DB holds the worker's call tracker (component "worker_calls").
	DB *db.DB
	// Shutdown, if set, is called by the Shutdown API method.
	Shutdown func()
	// Verify, if set, checks API tokens (AuthVerify).
	Verify api.VerifyFunc
}

// LocalWorker runs calls. It implements api.Worker.
type LocalWorker struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	ct   *callTracker

	session  uuid.UUID
	ctx      context.Context // lives until Close; running calls derive from it
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	fetchSem chan struct{}

	mu       sync.Mutex
	enabled  bool
	tasks    map[storiface.TaskType]struct{}
	jobs     map[storiface.CallID]*trackedJob
	changed  chan struct{} // closed and replaced whenever jobs change
	hostname string
}

// trackedJob is a call the worker runs or holds a result for.
type trackedJob struct {
	job    storiface.WorkerJob
	cancel context.CancelFunc // nil once the work finished
	abort  bool
}

var _ api.Worker = (*LocalWorker)(nil)

// New builds a worker and starts returning the results its call tracker holds from before a restart: saved
// results are returned as they are, unfinished calls as ErrTempWorkerRestart errors.
func New(ctx context.Context, cfg Config, deps Deps) (*LocalWorker, error) {
	if deps.Backend == nil || deps.Store == nil || deps.Index == nil || deps.Return == nil || deps.DB == nil {
		return nil, errors.New("new worker: Backend, Store, Index, Return and DB are required")
	}
	for _, tt := range cfg.TaskTypes {
		if !tt.Valid() {
			return nil, fmt.Errorf("new worker: task type %q is not known", tt)
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReturnBackoffMin <= 0 {
		cfg.ReturnBackoffMin = time.Second
	}
	if cfg.ReturnBackoffMax < cfg.ReturnBackoffMin {
		cfg.ReturnBackoffMax = max(time.Minute, cfg.ReturnBackoffMin)
	}
	ct, err := newCallTracker(ctx, deps.DB, cfg.Clock.Now())
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	l := &LocalWorker{
		cfg: cfg, deps: deps, ct: ct, session: uuid.New(), enabled: true,
		log:      cfg.Logger.With("component", "worker"),
		tasks:    map[storiface.TaskType]struct{}{storiface.TTFetch: {}},
		jobs:     map[storiface.CallID]*trackedJob{},
		changed:  make(chan struct{}),
		hostname: host,
	}
	if cfg.ParallelFetchLimit > 0 {
		l.fetchSem = make(chan struct{}, cfg.ParallelFetchLimit)
	}
	for _, tt := range cfg.TaskTypes {
		l.tasks[tt] = struct{}{}
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if err := l.recoverCalls(ctx); err != nil {
		l.cancel()
		return nil, err
	}
	return l, nil
}

// Close stops the worker: running calls are cancelled and stay "started" in the tracker (a restarted worker
// reports them as lost to the restart); results not yet acknowledged stay saved. It waits for the call
// goroutines to finish.
func (l *LocalWorker) Close() error {
	l.cancel()
	l.wg.Wait()
	return nil
}

// Version implements api.Common.
func (l *LocalWorker) Version(context.Context) (string, error) { return api.Version, nil }

// TaskTypes returns the accepted task types.
func (l *LocalWorker) TaskTypes(context.Context) (map[storiface.TaskType]struct{}, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[storiface.TaskType]struct{}, len(l.tasks))
	for tt := range l.tasks {
		out[tt] = struct{}{}
	}
	return out, nil
}

// TaskEnable makes the worker accept tt.
func (l *LocalWorker) TaskEnable(_ context.Context, tt storiface.TaskType) error {
	if !tt.Valid() {
		return fmt.Errorf("task type %q is not known", tt)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tasks[tt] = struct{}{}
	l.session = uuid.New() // the scheduler re-reads task types and paths when the session changes
	return nil
}

// TaskDisable stops the worker accepting tt; calls of that type already running finish.
func (l *LocalWorker) TaskDisable(_ context.Context, tt storiface.TaskType) error {
	if !tt.Valid() {
		return fmt.Errorf("task type %q is not known", tt)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.tasks, tt)
	l.session = uuid.New()
	return nil
}

// Paths lists the worker's local storage paths.
func (l *LocalWorker) Paths(ctx context.Context) ([]storiface.StoragePath, error) {
	if l.deps.Local == nil {
		return nil, nil
	}
	return l.deps.Local.Local(ctx)
}

// Info describes the worker.
func (l *LocalWorker) Info(context.Context) (storiface.WorkerInfo, error) {
	name := l.cfg.Name
	if name == "" {
		name = l.hostname
	}
	return storiface.WorkerInfo{Hostname: l.hostname, Name: name, IgnoreResources: l.cfg.IgnoreResources,
		Resources: l.cfg.Resources}, nil
}

// Session returns the worker's session ID, or uuid.Nil while it is disabled; after Close it is an error. The ID
// changes when the process restarts and when its task types or paths change, so the scheduler re-reads them.
func (l *LocalWorker) Session(context.Context) (uuid.UUID, error) {
	if l.ctx.Err() != nil {
		return uuid.Nil, errors.New("worker closed")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.enabled {
		return uuid.Nil, nil
	}
	return l.session, nil
}

// Enabled reports whether the worker takes new work.
func (l *LocalWorker) Enabled(context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.enabled, nil
}

// SetEnabled enables or disables the worker.
func (l *LocalWorker) SetEnabled(_ context.Context, enabled bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.enabled = enabled
	return nil
}

// WaitQuiet returns when no call is running or waiting to be returned.
func (l *LocalWorker) WaitQuiet(ctx context.Context) error {
	for {
		l.mu.Lock()
		n, ch := len(l.jobs), l.changed
		l.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d calls to finish: %w", n, ctx.Err())
		}
	}
}

// Jobs lists the running calls (RunWait RWRunning) and those waiting to be returned (RWRetWait).
func (l *LocalWorker) Jobs(context.Context) ([]storiface.WorkerJob, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]storiface.WorkerJob, 0, len(l.jobs))
	for _, j := range l.jobs {
		out = append(out, j.job)
	}
	return out, nil
}

// AbortCall cancels a running call; the manager receives an ErrCallAborted error for it. Aborting a call that
// already finished is an error.
func (l *LocalWorker) AbortCall(_ context.Context, call storiface.CallID) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	j, ok := l.jobs[call]
	if !ok {
		return fmt.Errorf("abort: call %s is not running on this worker", call)
	}
	if j.cancel == nil {
		return fmt.Errorf("abort: call %s already finished; its result is being returned", call)
	}
	j.abort = true
	j.cancel()
	return nil
}

// StorageAddLocal opens a local path.
func (l *LocalWorker) StorageAddLocal(ctx context.Context, path string) error {
	if l.deps.Local == nil {
		return errors.New("this worker has no local storage")
	}
	if err := l.deps.Local.OpenPath(ctx, path); err != nil {
		return err
	}
	l.newSession()
	return nil
}

// newSession makes the scheduler re-read the worker's task types and paths at its next session check.
func (l *LocalWorker) newSession() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.session = uuid.New()
}

// StorageDetachLocal stops using a local path.
func (l *LocalWorker) StorageDetachLocal(ctx context.Context, path string) error {
	if l.deps.Local == nil {
		return errors.New("this worker has no local storage")
	}
	if err := l.deps.Local.DetachPath(ctx, path); err != nil {
		return err
	}
	l.newSession()
	return nil
}

// StorageRedeclareLocal re-declares local sector files.
func (l *LocalWorker) StorageRedeclareLocal(ctx context.Context, id *storiface.ID, dropMissing bool) error {
	if l.deps.Local == nil {
		return errors.New("this worker has no local storage")
	}
	return l.deps.Local.Redeclare(ctx, id, dropMissing)
}

// Shutdown asks the process to stop (Deps.Shutdown); without one it is an error.
func (l *LocalWorker) Shutdown(context.Context) error {
	if l.deps.Shutdown == nil {
		return errors.New("shutdown is not supported by this worker")
	}
	go l.deps.Shutdown()
	return nil
}

// notifyLocked wakes WaitQuiet callers; l.mu must be held.
func (l *LocalWorker) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// AuthVerify checks a token with the worker's verifier (Deps.Verify, normally the manager's AuthVerify).
func (l *LocalWorker) AuthVerify(ctx context.Context, token string) ([]auth.Permission, error) {
	if l.deps.Verify == nil {
		return nil, errors.New("this worker cannot verify tokens")
	}
	return l.deps.Verify(ctx, token)
}

// AuthNew is not served by workers: tokens are issued by the manager.
func (l *LocalWorker) AuthNew(context.Context, []auth.Permission) (string, error) {
	return "", errors.New("workers do not issue tokens; ask the manager (sealfleet auth create-token)")
}
