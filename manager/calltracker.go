package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"sealfleet/db"
	"sealfleet/storiface"
)

var callMigrations = []db.Migration{{
	Name: "create manager_calls",
	SQL: `CREATE TABLE manager_calls (
		work_id TEXT PRIMARY KEY,
		call_id TEXT,
		status TEXT NOT NULL,
		record BLOB NOT NULL
	);
CREATE INDEX manager_calls_call ON manager_calls (call_id)`,
}}

// maxEarlyResults bounds the results kept for calls the tracker does not know yet (a worker may return before
// the manager has recorded the call ID the worker gave it).
const maxEarlyResults = 1024

// callResult is a result as it travels: the JSON of the value, or an error.
type callResult struct {
	value []byte
	err   *storiface.CallError
}

// workEntry is the in-memory side of one tracked work.
type workEntry struct {
	state   WorkState
	done    chan struct{} // closed when res is set
	res     callResult
	waiters int
	aborter func(context.Context) error // asks the worker to cancel the call; nil when unknown
	// ephemeral work lives in memory only (prepare steps).
	ephemeral bool
	// taken is set once a waiter received the result.
	taken bool
	// worker is the scheduler's ID of the worker running the call (zero for work re-attached after a restart).
	worker storiface.WorkerID
}

// callTracker tracks the manager's work: each sealing op is a WorkID whose state (started / running with the
// worker's call ID / done with the result) is persisted, so that after a manager restart a re-issued op joins
// the running call, or takes its result, instead of running it again.
type callTracker struct {
	db        *db.DB
	log       *slog.Logger
	now       func() time.Time
	retention time.Duration // done work older than this (by start time) is dropped at load

	mu         sync.Mutex
	work       map[WorkID]*workEntry
	callToWork map[storiface.CallID]WorkID
	early      map[storiface.CallID]callResult
	earlyOrder []storiface.CallID

	onJoin    func(WorkID) // test hook: called (under the lock) when a caller joins existing work
	onStarted func(WorkID) // test hook: called (under the lock) once a worker's call ID is recorded
}

// DefaultDoneRetention is how long a finished result nobody has taken is kept across restarts.
const DefaultDoneRetention = 7 * 24 * time.Hour

func newCallTracker(ctx context.Context, d *db.DB, log *slog.Logger, now func() time.Time) (*callTracker, error) {
	return newCallTrackerRetention(ctx, d, log, now, DefaultDoneRetention)
}

func newCallTrackerRetention(ctx context.Context, d *db.DB, log *slog.Logger, now func() time.Time,
	retention time.Duration) (*callTracker, error) {
	if err := d.Migrate(ctx, "manager_calls", callMigrations); err != nil {
		return nil, fmt.Errorf("manager call tracker: %w", err)
	}
	ct := &callTracker{db: d, log: log, now: now, retention: retention, work: map[WorkID]*workEntry{},
		callToWork: map[storiface.CallID]WorkID{}, early: map[storiface.CallID]callResult{}}
	if err := ct.load(ctx); err != nil {
		return nil, err
	}
	return ct, nil
}

// load re-attaches persisted work after a restart: running work waits for its worker's result again, done work
// keeps its result for the op that re-issues it (for the retention period), and work that never reached a worker
// is dropped (the re-issued op schedules it afresh).
func (ct *callTracker) load(ctx context.Context) error {
	rows, err := ct.db.QueryContext(ctx, `SELECT work_id, record FROM manager_calls`)
	if err != nil {
		return fmt.Errorf("loading tracked work: %w", err)
	}
	var drop []string
	for rows.Next() {
		var key string
		var rec []byte
		if err := rows.Scan(&key, &rec); err != nil {
			rows.Close()
			return fmt.Errorf("loading tracked work: %w", err)
		}
		var ws WorkState
		if err := ws.UnmarshalCBOR(bytes.NewReader(rec)); err != nil {
			rows.Close()
			return fmt.Errorf("decoding tracked work %s: %w", key, err)
		}
		e := &workEntry{state: ws, done: make(chan struct{})}
		switch ws.Status {
		case WorkStarted:
			drop = append(drop, key)
			continue
		case WorkRunning:
			ct.callToWork[ws.WorkerCall.CallID()] = ws.ID
		case WorkDone:
			if ws.StartTime > 0 && ct.now().Sub(time.Unix(ws.StartTime, 0)) > ct.retention {
				ct.log.Info("dropping an old result nobody took", "work", ws.ID, "started", time.Unix(ws.StartTime, 0))
				drop = append(drop, key)
				continue
			}
			e.res = callResult{value: ws.Result, err: ws.callError()}
			close(e.done)
		}
		ct.work[ws.ID] = e
		ct.log.Info("re-attached tracked work", "work", ws.ID, "status", ws.Status, "call", ws.WorkerCall.CallID())
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("loading tracked work: %w", err)
	}
	for _, key := range drop {
		if _, err := ct.db.ExecContext(ctx, ct.db.Rebind(`DELETE FROM manager_calls WHERE work_id = ?`), key); err != nil {
			return fmt.Errorf("dropping stale work: %w", err)
		}
	}
	return nil
}

func (ct *callTracker) persist(ctx context.Context, ws *WorkState) error {
	if e, ok := ct.work[ws.ID]; ok && e.ephemeral {
		return nil
	}
	var buf bytes.Buffer
	if err := ws.MarshalCBOR(&buf); err != nil {
		return fmt.Errorf("encoding work %s: %w", ws.ID, err)
	}
	var call any
	if ws.Status != WorkStarted {
		call = ws.WorkerCall.CallID().String()
	}
	_, err := ct.db.ExecContext(ctx, ct.db.Rebind(`INSERT INTO manager_calls (work_id, call_id, status, record)
		VALUES (?, ?, ?, ?) ON CONFLICT (work_id) DO UPDATE SET call_id = excluded.call_id,
		status = excluded.status, record = excluded.record`), ws.ID.key(), call, string(ws.Status), buf.Bytes())
	if err != nil {
		return fmt.Errorf("persisting work %s: %w", ws.ID, err)
	}
	return nil
}

func (ct *callTracker) forget(ctx context.Context, wid WorkID) error {
	if _, err := ct.db.ExecContext(ctx, ct.db.Rebind(`DELETE FROM manager_calls WHERE work_id = ?`), wid.key()); err != nil {
		return fmt.Errorf("forgetting work %s: %w", wid, err)
	}
	return nil
}

// workRef is one caller's hold on tracked work: it counts as a waiter from getWork until wait returns or
// release is called, so a result is never forgotten while a caller that joined is about to wait for it.
type workRef struct {
	ct      *callTracker
	wid     WorkID
	e       *workEntry
	join    bool // the work already existed: only wait for it
	creator bool
	held    bool
}

// getWork returns a hold on the work for a call. If identical work is already tracked (running, or done and not
// yet taken) ref.join is true and the caller only waits for it. Otherwise the work is recorded as started and the
// caller schedules it. The caller must call release (wait releases too).
func (ct *callTracker) getWork(ctx context.Context, method storiface.TaskType, params ...any) (*workRef, error) {
	wid, err := newWorkID(method, params...)
	if err != nil {
		return nil, err
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if e, ok := ct.work[wid]; ok {
		e.waiters++
		if ct.onJoin != nil {
			ct.onJoin(wid)
		}
		return &workRef{ct: ct, wid: wid, e: e, join: true, held: true}, nil
	}
	e := &workEntry{state: WorkState{ID: wid, Status: WorkStarted}, done: make(chan struct{}), waiters: 1}
	if err := ct.persist(ctx, &e.state); err != nil {
		return nil, err
	}
	ct.work[wid] = e
	return &workRef{ct: ct, wid: wid, e: e, creator: true, held: true}, nil
}

// release drops the hold. Work whose creator leaves before any worker took the call is forgotten (a re-issued
// op schedules it afresh); a result taken by the last waiter is forgotten; running work stays tracked.
func (r *workRef) release() {
	ct := r.ct
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if !r.held {
		return
	}
	r.held = false
	e := r.e
	e.waiters--
	cur, tracked := ct.work[r.wid]
	if !tracked || cur != e {
		return
	}
	switch {
	case r.creator && e.state.Status == WorkStarted:
		delete(ct.work, r.wid)
		e.res = callResult{err: storiface.Errf(storiface.ErrTempUnknown, "work %s was not started", r.wid)}
		close(e.done)
		if err := ct.forget(context.Background(), r.wid); err != nil {
			ct.log.Error("forgetting unstarted work", "work", r.wid, "err", err)
		}
	case e.taken && e.waiters == 0:
		delete(ct.work, r.wid)
		if err := ct.forget(context.Background(), r.wid); err != nil {
			ct.log.Error("forgetting taken work", "work", r.wid, "err", err)
		}
	}
}

// wait blocks until the work has a result and returns it, then releases the hold.
func (r *workRef) wait(ctx context.Context) (callResult, error) {
	defer r.release()
	select {
	case <-r.e.done:
		r.ct.mu.Lock()
		r.e.taken = true
		r.ct.mu.Unlock()
		return r.e.res, nil
	case <-ctx.Done():
		return callResult{}, fmt.Errorf("waiting for %s: %w", r.wid, ctx.Err())
	}
}

// getEphemeralWork creates work that is tracked in memory only (never persisted, never joined): a prepare step's
// call. nonce makes its WorkID unique.
func (ct *callTracker) getEphemeralWork(method storiface.TaskType, nonce any) (*workRef, error) {
	wid, err := newWorkID(method, nonce)
	if err != nil {
		return nil, err
	}
	e := &workEntry{state: WorkState{ID: wid, Status: WorkStarted}, done: make(chan struct{}), ephemeral: true, waiters: 1}
	ct.mu.Lock()
	ct.work[wid] = e
	ct.mu.Unlock()
	return &workRef{ct: ct, wid: wid, e: e, creator: true, held: true}, nil
}

// started records the call ID a worker gave for the work (or the worker's refusal, which fails the work).
// aborter, if not nil, cancels the call on the worker.
func (ct *callTracker) started(ctx context.Context, wid WorkID, worker storiface.WorkerID, hostname string,
	id storiface.CallID, callErr error, aborter func(context.Context) error) error {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	e, ok := ct.work[wid]
	if !ok {
		return fmt.Errorf("work %s is no longer tracked", wid)
	}
	if callErr != nil {
		ct.finishLocked(wid, e, callResult{err: toCallError(callErr)}, false)
		return fmt.Errorf("starting %s on %s: %w", wid, hostname, callErr)
	}
	e.state.Status = WorkRunning
	e.state.WorkerCall = callRef(id)
	e.state.WorkerHostname = hostname
	e.state.StartTime = ct.now().Unix()
	e.aborter = aborter
	e.worker = worker
	if res, ok := ct.early[id]; ok {
		// The worker's result came first and was acknowledged: the worker has forgotten the call. Record the
		// work Done in one write, never Running: a restart between a Running write and the Done write would
		// re-attach a call nobody will ever return (the sector would wait forever).
		delete(ct.early, id)
		ct.callToWork[id] = wid
		if ct.onStarted != nil {
			ct.onStarted(wid)
		}
		ct.finishLocked(wid, e, res, true)
		return nil
	}
	// The call runs on the worker whatever happens to the caller: record it even if ctx has ended.
	if err := ct.persist(context.WithoutCancel(ctx), &e.state); err != nil {
		return err
	}
	ct.callToWork[id] = wid
	if ct.onStarted != nil {
		ct.onStarted(wid)
	}
	return nil
}

// finishLocked sets the work's result and wakes its waiters. With persist the result is saved as Done so that
// an op re-issued after a restart takes it; otherwise the work is forgotten.
func (ct *callTracker) finishLocked(wid WorkID, e *workEntry, res callResult, persist bool) {
	select {
	case <-e.done:
		return // already finished (e.g. aborted, then the worker returned)
	default:
	}
	e.res = res
	close(e.done)
	delete(ct.callToWork, e.state.WorkerCall.CallID())
	if !persist {
		delete(ct.work, wid)
		if err := ct.forget(context.Background(), wid); err != nil {
			ct.log.Error("forgetting failed work", "work", wid, "err", err)
		}
		return
	}
	e.state.Status = WorkDone
	e.state.Result = res.value
	if res.err != nil {
		e.state.ErrCode, e.state.WorkError = int64(res.err.Code), res.err.Message
	}
	if err := ct.persist(context.Background(), &e.state); err != nil {
		ct.log.Error("saving work result", "work", wid, "err", err)
	}
}

// returnResult delivers a worker's result. It is the manager's acknowledgement: once it returns nil, the result
// is persisted (or, for a call the tracker does not know, deliberately dropped) and the worker may forget it.
func (ct *callTracker) returnResult(callID storiface.CallID, value any, cerr *storiface.CallError) error {
	var res callResult
	res.err = cerr
	if cerr == nil && value != nil {
		b, err := json.Marshal(value)
		if err != nil {
			return fmt.Errorf("encoding result of call %s: %w", callID, err)
		}
		res.value = b
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	wid, ok := ct.callToWork[callID]
	if !ok {
		// The worker may return before started() has recorded the call ID: keep the result for it.
		ct.log.Info("result for a call not (yet) tracked", "call", callID)
		ct.early[callID] = res
		ct.earlyOrder = append(ct.earlyOrder, callID)
		for len(ct.earlyOrder) > maxEarlyResults {
			delete(ct.early, ct.earlyOrder[0])
			ct.earlyOrder = ct.earlyOrder[1:]
		}
		return nil
	}
	ct.finishLocked(wid, ct.work[wid], res, true)
	return nil
}

// abort fails the work of a call with ErrCallAborted, waking the op waiting for it. It returns what is known
// to cancel the call on its worker: the aborter recorded when the call started (nil after a restart) and the
// worker's hostname.
func (ct *callTracker) abort(callID storiface.CallID) (aborter func(context.Context) error, hostname string, err error) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	wid, ok := ct.callToWork[callID]
	if !ok {
		return nil, "", fmt.Errorf("abort: call %s is not running", callID)
	}
	e := ct.work[wid]
	ct.finishLocked(wid, e, callResult{err: storiface.Errf(storiface.ErrCallAborted, "call %s aborted by the operator", callID)}, true)
	return e.aborter, e.state.WorkerHostname, nil
}

// failWorker fails every running call of a worker that left the scheduler with ErrTempWorkerRestart, so the
// ops waiting for them are scheduled again. It returns how many it failed.
func (ct *callTracker) failWorker(worker storiface.WorkerID) int {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	n := 0
	for wid, e := range ct.work {
		if e.worker != worker || e.state.Status != WorkRunning {
			continue
		}
		ct.failRemovedLocked(wid, e, worker)
		n++
	}
	return n
}

// failRemoved fails work wid as failWorker would if it is running: its call started on a worker (ID worker,
// zero if the manager no longer knew it) that was removed while the call was being recorded.
func (ct *callTracker) failRemoved(wid WorkID, worker storiface.WorkerID) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if e, ok := ct.work[wid]; ok && e.state.Status == WorkRunning {
		ct.failRemovedLocked(wid, e, worker)
	}
}

func (ct *callTracker) failRemovedLocked(wid WorkID, e *workEntry, worker storiface.WorkerID) {
	ct.finishLocked(wid, e, callResult{err: storiface.Errf(storiface.ErrTempWorkerRestart,
		"worker %s (%s) was removed while running call %s", worker, e.state.WorkerHostname,
		e.state.WorkerCall.CallID())}, true)
}

// running lists the tracked work, for diagnostics.
func (ct *callTracker) list() []WorkState {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	out := make([]WorkState, 0, len(ct.work))
	for _, e := range ct.work {
		out = append(out, e.state)
	}
	return out
}

func toCallError(err error) *storiface.CallError {
	var ce *storiface.CallError
	if errors.As(err, &ce) {
		return &storiface.CallError{Code: ce.Code, Message: err.Error()}
	}
	return storiface.Err(storiface.ErrUnknown, err)
}
