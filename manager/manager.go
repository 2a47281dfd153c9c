// Package manager turns sealing operations into scheduler requests and tracks every call it gives a worker, so
// that an operation re-issued after a manager restart joins the call already running instead of running it
// again. It also serves the sector index to workers, takes their results (the WorkerReturn methods), connects
// remote workers and runs an optional embedded local worker.
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/filecoin-project/go-jsonrpc/auth"
	"github.com/google/uuid"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/sched"
	"sealfleet/seal"
	"sealfleet/stores"
	"sealfleet/storiface"
	"sealfleet/worker"
)

// SealerConfig chooses what the embedded local worker does (the reference's SealerConfig toggles).
type SealerConfig struct {
	// ParallelFetchLimit bounds concurrent fetches on the local worker.
	ParallelFetchLimit int
	// The Allow toggles add task types to the local worker: AddPiece (and DataCid), PreCommit1, PreCommit2,
	// Commit2, Unseal. Commit1, Finalize and Fetch are always local tasks when a local worker runs.
	AllowAddPiece, AllowPreCommit1, AllowPreCommit2, AllowCommit, AllowUnseal bool
	// NoLocalWorker disables the embedded local worker even when a Backend is given.
	NoLocalWorker bool
}

// DefaultSealerConfig allows every task locally and 10 parallel fetches.
func DefaultSealerConfig() SealerConfig {
	return SealerConfig{ParallelFetchLimit: 10, AllowAddPiece: true, AllowPreCommit1: true, AllowPreCommit2: true,
		AllowCommit: true, AllowUnseal: true}
}

// LocalTasks returns the task types an embedded local worker accepts under c.
func (c SealerConfig) LocalTasks() []storiface.TaskType {
	tasks := []storiface.TaskType{storiface.TTCommit1, storiface.TTFinalize, storiface.TTFinalizeUnsealed, storiface.TTFetch}
	add := func(on bool, tts ...storiface.TaskType) {
		if on {
			tasks = append(tasks, tts...)
		}
	}
	add(c.AllowAddPiece, storiface.TTAddPiece, storiface.TTDataCid)
	add(c.AllowPreCommit1, storiface.TTPreCommit1)
	add(c.AllowPreCommit2, storiface.TTPreCommit2)
	add(c.AllowCommit, storiface.TTCommit2)
	add(c.AllowUnseal, storiface.TTUnseal)
	return tasks
}

// Config configures a Manager.
type Config struct {
	Sealer SealerConfig
	// Logger is the manager's logger (default slog.Default()).
	Logger *slog.Logger
	// Now is the time source for call records (default time.Now).
	Now func() time.Time
	// WorkerClient tunes the RPC clients the manager dials to remote workers.
	WorkerClient api.ClientOptions
	// JobsRefresh is how often the manager asks each remote worker for its jobs in the background; WorkerJobs
	// serves those answers (default DefaultJobsRefresh).
	JobsRefresh time.Duration
	// DoneRetention is how long a finished result that no op has taken is kept across restarts
	// (default DefaultDoneRetention).
	DoneRetention time.Duration
}

// Scheduler is what the manager needs of the scheduler (sched.Scheduler implements it).
type Scheduler interface {
	// Schedule runs prepare then work on a worker chosen with sel, returning work's error.
	Schedule(ctx context.Context, sector storiface.SectorRef, task storiface.TaskType, sel sched.Selector,
		prepare sched.PrepareAction, work sched.WorkerAction) error
	// AddWorker adds a worker; it returns sched.ErrDuplicateWorker for an ID already present.
	AddWorker(ctx context.Context, id storiface.WorkerID, w sched.Worker) error
	// RemoveWorker forgets a worker and closes it.
	RemoveWorker(ctx context.Context, id storiface.WorkerID) error
	// Info returns the scheduler's diagnostics.
	Info(ctx context.Context) (sched.DiagInfo, error)
	// RequestInfo explains one waiting request with every worker's answer; it wraps sched.ErrUnknownRequest
	// for an ID that is not waiting.
	RequestInfo(ctx context.Context, id uuid.UUID) (sched.DiagRequest, error)
	// WorkerStats returns each worker's resource use.
	WorkerStats(ctx context.Context) map[storiface.WorkerID]sched.WorkerStats
	// WorkerJobs returns each worker's assigned, preparing and running requests.
	WorkerJobs() map[storiface.WorkerID][]storiface.WorkerJob
}

var _ Scheduler = (*sched.Scheduler)(nil)

// LocalPaths is what the manager needs of its node's stores.Local.
type LocalPaths interface {
	worker.LocalPaths
	// FsStat returns a local path's capacity and use.
	FsStat(ctx context.Context, id storiface.ID) (storiface.FsStat, error)
}

// Deps are the parts a Manager wires together.
type Deps struct {
	// Index is the cluster's sector index, served to workers.
	Index stores.SectorIndex
	// Local is the manager node's storage paths (nil: none).
	Local LocalPaths
	// Store gives local access to any sector file (a stores.Remote over Local).
	Store stores.Store
	// Sched schedules requests on workers.
	Sched Scheduler
	// DB holds the call tracker (component "manager_calls") and the local worker's tracker.
	DB *db.DB
	// Secret signs the tokens the manager issues and checks.
	Secret []byte
	// Backend runs the embedded local worker and ReadPiece; nil means neither.
	Backend seal.Backend
}

// Manager runs sealing operations on workers. It implements api.Manager.
type Manager struct {
	stores.SectorIndex // served to workers as is

	cfg   Config
	deps  Deps
	log   *slog.Logger
	ct    *callTracker
	ctx   context.Context // lives until Close; remote worker connections use it
	close context.CancelFunc

	session uuid.UUID

	jobs       jobsView      // the jobs remote workers last reported
	jobsPolled chan struct{} // closed when the jobs poll has stopped

	mu      sync.Mutex
	workers map[storiface.WorkerID]*workerRef
	refOf   map[sched.Worker]storiface.WorkerID
	local   *worker.LocalWorker

	afterCall func() // test hook: called once a worker has taken a call, before the call ID is recorded
}

// workerRef is a worker the manager added.
type workerRef struct {
	w        sched.Worker
	url      string // empty for the local worker
	hostname string
}

var _ api.Manager = (*Manager)(nil)

// New builds a manager: it re-attaches the work its call tracker holds from before a restart, and starts the
// embedded local worker when deps.Backend is set.
func New(ctx context.Context, cfg Config, deps Deps) (*Manager, error) {
	if deps.Index == nil || deps.Store == nil || deps.Sched == nil || deps.DB == nil {
		return nil, errors.New("new manager: Index, Store, Sched and DB are required")
	}
	if len(deps.Secret) < api.SecretSize {
		return nil, fmt.Errorf("new manager: Secret must have at least %d bytes", api.SecretSize)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger.With("component", "manager")
	if cfg.DoneRetention <= 0 {
		cfg.DoneRetention = DefaultDoneRetention
	}
	ct, err := newCallTrackerRetention(ctx, deps.DB, log, cfg.Now, cfg.DoneRetention)
	if err != nil {
		return nil, err
	}
	m := &Manager{SectorIndex: deps.Index, cfg: cfg, deps: deps, log: log, ct: ct, session: uuid.New(),
		workers: map[storiface.WorkerID]*workerRef{}, refOf: map[sched.Worker]storiface.WorkerID{}}
	m.ctx, m.close = context.WithCancel(context.Background())
	if cfg.JobsRefresh <= 0 {
		cfg.JobsRefresh = DefaultJobsRefresh
		m.cfg.JobsRefresh = cfg.JobsRefresh
	}
	m.jobsPolled = make(chan struct{})
	go m.pollJobs(m.ctx, cfg.JobsRefresh, m.jobsPolled)
	if deps.Backend != nil && !cfg.Sealer.NoLocalWorker {
		if err := m.startLocalWorker(ctx); err != nil {
			m.close()
			<-m.jobsPolled
			return nil, err
		}
	}
	return m, nil
}

func (m *Manager) startLocalWorker(ctx context.Context) error {
	res, err := worker.DetectResources(ctx)
	if err != nil {
		return fmt.Errorf("starting the local worker: %w", err)
	}
	lw, err := worker.New(ctx, worker.Config{
		Name: "local", TaskTypes: m.cfg.Sealer.LocalTasks(), ParallelFetchLimit: m.cfg.Sealer.ParallelFetchLimit,
		Resources: res, Logger: m.cfg.Logger,
	}, worker.Deps{Backend: m.deps.Backend, Store: m.deps.Store, Index: m.deps.Index, Local: m.deps.Local,
		Return: m, DB: m.deps.DB, Verify: m.AuthVerify})
	if err != nil {
		return fmt.Errorf("starting the local worker: %w", err)
	}
	m.local = lw
	if _, err := m.AddWorker(ctx, lw); err != nil {
		lw.Close()
		return err
	}
	return nil
}

// Close stops the local worker and closes the connections to remote workers. Tracked work stays persisted.
func (m *Manager) Close() error {
	m.close()
	<-m.jobsPolled
	m.mu.Lock()
	refs := make([]*workerRef, 0, len(m.workers))
	for _, r := range m.workers {
		refs = append(refs, r)
	}
	m.mu.Unlock()
	for _, r := range refs {
		if err := r.w.Close(); err != nil {
			m.log.Warn("closing worker", "host", r.hostname, "err", err)
		}
	}
	return nil
}

// LocalWorker returns the embedded local worker, or nil.
func (m *Manager) LocalWorker() *worker.LocalWorker { return m.local }

// AddWorker adds a worker (local or an RPC client) to the scheduler under a fresh ID, which it returns.
func (m *Manager) AddWorker(ctx context.Context, w sched.Worker) (storiface.WorkerID, error) {
	id := storiface.NewWorkerID()
	return id, m.addWorker(ctx, id, w, "")
}

// RemoveWorker removes a worker from the scheduler (its waiting tasks go back to the queue) and closes it. Ops
// waiting for calls it was running are scheduled again elsewhere.
func (m *Manager) RemoveWorker(ctx context.Context, id storiface.WorkerID) error {
	m.mu.Lock()
	ref, ok := m.workers[id]
	delete(m.workers, id)
	if ok {
		delete(m.refOf, ref.w)
	}
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("removing worker %s: %w", id, sched.ErrUnknownWorker)
	}
	err := m.deps.Sched.RemoveWorker(ctx, id)
	if n := m.ct.failWorker(id); n > 0 {
		m.log.Warn("worker removed with running calls; rescheduling them", "worker", id, "host", ref.hostname, "calls", n)
	}
	return err
}

func (m *Manager) addWorker(ctx context.Context, id storiface.WorkerID, w sched.Worker, url string) error {
	info, err := w.Info(ctx)
	if err != nil {
		return fmt.Errorf("adding worker: reading its info: %w", err)
	}
	// The manager knows the worker before the scheduler may give it work: startAndWait fails a call whose worker
	// the manager does not know (see added).
	ref := &workerRef{w: w, url: url, hostname: info.Hostname}
	m.mu.Lock()
	if _, dup := m.workers[id]; dup {
		m.mu.Unlock()
		return fmt.Errorf("adding worker %s (%s): %w", info.Hostname, id, sched.ErrDuplicateWorker)
	}
	m.workers[id] = ref
	m.refOf[w] = id
	m.mu.Unlock()
	if err := m.deps.Sched.AddWorker(ctx, id, w); err != nil {
		m.mu.Lock()
		if m.workers[id] == ref {
			delete(m.workers, id)
			delete(m.refOf, w)
		}
		m.mu.Unlock()
		return fmt.Errorf("adding worker %s (%s): %w", info.Hostname, id, err)
	}
	m.log.Info("worker added", "id", id, "host", info.Hostname, "name", info.Name, "url", url)
	return nil
}

// workerNamespace derives stable worker IDs from worker URLs.
var workerNamespace = uuid.MustParse("5f1c7f0e-6a0b-4a39-9d7a-1f0c2b9e7a10")

// WorkerConnect dials the worker API at url (the manager signs itself an admin token) and adds the worker. A
// worker reconnecting under the same URL keeps its ID; connecting twice is harmless.
func (m *Manager) WorkerConnect(ctx context.Context, url string) error {
	id := storiface.WorkerID(uuid.NewSHA1(workerNamespace, []byte(url)))
	m.mu.Lock()
	_, known := m.workers[id]
	m.mu.Unlock()
	if known {
		m.log.Info("worker reconnected", "url", url, "id", id)
		return nil
	}
	tok, err := api.NewToken(m.deps.Secret, api.AllPermissions)
	if err != nil {
		return err
	}
	client, closer, err := api.NewWorkerClient(m.ctx, api.Info{Token: tok, URL: url}, m.cfg.WorkerClient)
	if err != nil {
		return fmt.Errorf("connecting to worker %s: %w", url, err)
	}
	if _, err := client.Session(ctx); err != nil {
		closer()
		return fmt.Errorf("connecting to worker %s: %w", url, err)
	}
	rw := &remoteWorker{Worker: client, closer: closer}
	if err := m.addWorker(ctx, id, rw, url); err != nil {
		closer()
		if errors.Is(err, sched.ErrDuplicateWorker) {
			return nil
		}
		return err
	}
	return nil
}

// remoteWorker is a worker API client as the scheduler sees it.
type remoteWorker struct {
	api.Worker
	closer api.ClientCloser
	once   sync.Once
}

// Close closes the RPC connection; closing twice is harmless.
func (r *remoteWorker) Close() error {
	r.once.Do(r.closer)
	return nil
}

// added reports whether w is one of the manager's workers: added (the manager records a worker before the
// scheduler may give it work) and not removed since.
func (m *Manager) added(w sched.Worker) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.refOf[w]
	return ok
}

// workerOf returns the ID and hostname of a worker the manager added (the hostname is asked of a worker it
// does not know, whose ID is then zero).
func (m *Manager) workerOf(ctx context.Context, w sched.Worker) (storiface.WorkerID, string) {
	m.mu.Lock()
	id, ok := m.refOf[w]
	var host string
	if ok {
		host = m.workers[id].hostname
	}
	m.mu.Unlock()
	if ok {
		return id, host
	}
	if info, err := w.Info(ctx); err == nil {
		return storiface.WorkerID{}, info.Hostname
	}
	return storiface.WorkerID{}, "unknown"
}

// Session returns the manager's session ID, new at every start.
func (m *Manager) Session(context.Context) (uuid.UUID, error) { return m.session, nil }

// Version implements api.Common.
func (m *Manager) Version(context.Context) (string, error) { return api.Version, nil }

// AuthVerify returns the permissions of a token signed with the manager's secret.
func (m *Manager) AuthVerify(_ context.Context, token string) ([]auth.Permission, error) {
	return api.VerifyToken(m.deps.Secret, token)
}

// AuthNew signs a token granting perms.
func (m *Manager) AuthNew(_ context.Context, perms []auth.Permission) (string, error) {
	return api.NewToken(m.deps.Secret, perms)
}
