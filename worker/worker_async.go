package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/filecoin-project/go-jsonrpc"

	"sealfleet/api"
	"sealfleet/storiface"
)

// ReturnType names the manager Return method a call's result goes to; it is persisted with the call.
type ReturnType string

// The return types, one per asynchronous call.
const (
	RetDataCid          ReturnType = "DataCid"
	RetAddPiece         ReturnType = "AddPiece"
	RetSealPreCommit1   ReturnType = "SealPreCommit1"
	RetSealPreCommit2   ReturnType = "SealPreCommit2"
	RetSealCommit1      ReturnType = "SealCommit1"
	RetSealCommit2      ReturnType = "SealCommit2"
	RetFinalizeSector   ReturnType = "FinalizeSector"
	RetFinalizeUnsealed ReturnType = "FinalizeUnsealed"
	RetReleaseUnsealed  ReturnType = "ReleaseUnsealed"
	RetMoveStorage      ReturnType = "MoveStorage"
	RetUnsealPiece      ReturnType = "UnsealPiece"
	RetFetch            ReturnType = "Fetch"
)

// returnFunc hands a saved result (JSON, nil for calls without a value) to the right Return method.
type returnFunc func(ctx context.Context, ret api.WorkerReturn, id storiface.CallID, res []byte, cerr *storiface.CallError) error

// valueReturn adapts a Return method that carries a value of type T.
func valueReturn[T any](f func(api.WorkerReturn, context.Context, storiface.CallID, T, *storiface.CallError) error) returnFunc {
	return func(ctx context.Context, ret api.WorkerReturn, id storiface.CallID, res []byte, cerr *storiface.CallError) error {
		var v T
		if cerr == nil && len(res) > 0 {
			if err := json.Unmarshal(res, &v); err != nil {
				// A result that cannot be decoded is reported as an error rather than retried forever.
				cerr = storiface.Errf(storiface.ErrUnknown, "decoding saved result: %v", err)
			}
		}
		return f(ret, ctx, id, v, cerr)
	}
}

// errorReturn adapts a Return method that carries only an error.
func errorReturn(f func(api.WorkerReturn, context.Context, storiface.CallID, *storiface.CallError) error) returnFunc {
	return func(ctx context.Context, ret api.WorkerReturn, id storiface.CallID, _ []byte, cerr *storiface.CallError) error {
		return f(ret, ctx, id, cerr)
	}
}

var returnFuncs = map[ReturnType]returnFunc{
	RetDataCid:          valueReturn(api.WorkerReturn.ReturnDataCid),
	RetAddPiece:         valueReturn(api.WorkerReturn.ReturnAddPiece),
	RetSealPreCommit1:   valueReturn(api.WorkerReturn.ReturnSealPreCommit1),
	RetSealPreCommit2:   valueReturn(api.WorkerReturn.ReturnSealPreCommit2),
	RetSealCommit1:      valueReturn(api.WorkerReturn.ReturnSealCommit1),
	RetSealCommit2:      valueReturn(api.WorkerReturn.ReturnSealCommit2),
	RetFinalizeSector:   errorReturn(api.WorkerReturn.ReturnFinalizeSector),
	RetFinalizeUnsealed: errorReturn(api.WorkerReturn.ReturnFinalizeUnsealed),
	RetReleaseUnsealed:  errorReturn(api.WorkerReturn.ReturnReleaseUnsealed),
	RetMoveStorage:      errorReturn(api.WorkerReturn.ReturnMoveStorage),
	RetUnsealPiece:      errorReturn(api.WorkerReturn.ReturnUnsealPiece),
	RetFetch:            errorReturn(api.WorkerReturn.ReturnFetch),
}

// asyncCall persists a new call, starts work in the background and returns the call's ID at once. The work's
// result is saved, then returned to the manager (retrying until acknowledged), then forgotten. The work runs in
// a context that outlives the RPC request and ends when the call is aborted or the worker closes.
//
// wp gives the parameters of the manager's WorkID of the work (see newWorkKey); the key goes into the execution
// record, which the call tracker writes with the call before the work starts and marks finished with the result.
func asyncCall[T any](l *LocalWorker, ctx context.Context, sector storiface.SectorRef, rt ReturnType,
	task storiface.TaskType, wp workParams, work func(ctx context.Context) (T, error)) (storiface.CallID, error) {
	if l.ctx.Err() != nil {
		return storiface.UndefCall, errors.New("worker is shutting down")
	}
	var key workKey
	if !wp.untracked {
		var err error
		if key, err = newWorkKey(task, sector, wp.params...); err != nil {
			return storiface.UndefCall, err
		}
	}
	rec := callRecord{ID: storiface.NewCallID(sector.ID), RetType: rt, Task: task, State: callStarted,
		Start: l.cfg.Clock.Now(), Work: key}
	if err := l.ct.onStart(ctx, rec); err != nil {
		return storiface.UndefCall, err
	}
	wctx, cancel := context.WithCancel(l.ctx)
	tj := &trackedJob{cancel: cancel, job: storiface.WorkerJob{ID: rec.ID, Sector: sector.ID, Task: task,
		RunWait: storiface.RWRunning, Start: rec.Start, Hostname: l.hostname}}
	l.mu.Lock()
	l.jobs[rec.ID] = tj
	l.notifyLocked()
	l.mu.Unlock()

	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer cancel()
		res, err := work(wctx)
		l.mu.Lock()
		aborted := tj.abort
		tj.cancel = nil
		l.mu.Unlock()
		if l.ctx.Err() != nil && !aborted {
			// Shutting down: leave the call "started" so the restarted worker reports it lost to the restart.
			return
		}
		cerr := toCallError(err)
		if aborted {
			cerr = storiface.Errf(storiface.ErrCallAborted, "call %s aborted", rec.ID)
		}
		var saved []byte
		if cerr == nil {
			if saved, err = json.Marshal(res); err != nil {
				cerr = storiface.Errf(storiface.ErrUnknown, "encoding result: %v", err)
			}
		}
		// The tracker writes use a fresh context: a save must not be cut short by Close.
		if err := l.ct.onDone(context.Background(), rec.ID, l.cfg.Clock.Now(), saved, cerr); err != nil {
			l.log.Error("saving call result", "call", rec.ID, "err", err)
		}
		l.returnResult(rec, saved, cerr)
	}()
	return rec.ID, nil
}

// workParams are the parameters the manager digests into a call's WorkID, after the sector and in the order of
// the manager's op (manager/manager_sealing.go).
type workParams struct {
	untracked bool // the manager tracks the call by its call ID only (a prepare step's fetch): no WorkID
	params    []any
}

// tracked names the WorkID parameters of a call.
func tracked(params ...any) workParams { return workParams{params: params} }

// untracked marks a call without a WorkID.
var untracked = workParams{untracked: true}

// toCallError keeps the code of a CallError and classifies any other error as unknown.
func toCallError(err error) *storiface.CallError {
	if err == nil {
		return nil
	}
	var ce *storiface.CallError
	if errors.As(err, &ce) {
		return &storiface.CallError{Code: ce.Code, Message: err.Error()}
	}
	return storiface.Err(storiface.ErrUnknown, err)
}

// returnResult hands a saved result to the manager, retrying with doubling backoff until it is acknowledged or
// the worker closes, then forgets the call. The job shows as RWRetWait meanwhile.
func (l *LocalWorker) returnResult(rec callRecord, saved []byte, cerr *storiface.CallError) {
	l.mu.Lock()
	if tj, ok := l.jobs[rec.ID]; ok {
		tj.job.RunWait = storiface.RWRetWait
	} else {
		l.jobs[rec.ID] = &trackedJob{job: storiface.WorkerJob{ID: rec.ID, Sector: rec.ID.Sector, Task: rec.Task,
			RunWait: storiface.RWRetWait, Start: rec.Start, Hostname: l.hostname}}
	}
	l.notifyLocked()
	l.mu.Unlock()

	rf, ok := returnFuncs[rec.RetType]
	if !ok {
		l.log.Error("cannot return call", "call", rec.ID, "err", fmt.Errorf("%w %q", errUnknownReturnType, rec.RetType))
		return
	}
	delay := l.cfg.ReturnBackoffMin
	for attempt := 1; ; attempt++ {
		err := rf(l.ctx, l.deps.Return, rec.ID, saved, cerr)
		if err == nil {
			break
		}
		if l.ctx.Err() != nil {
			return // closing: the saved result is returned after restart
		}
		l.log.Warn("returning call result failed; will retry", "call", rec.ID, "attempt", attempt,
			"retry_in", delay, "err", err)
		select {
		case <-l.cfg.Clock.After(delay):
		case <-l.ctx.Done():
			return
		}
		delay = min(2*delay, l.cfg.ReturnBackoffMax)
	}
	if err := l.ct.onReturned(context.Background(), rec.ID); err != nil {
		l.log.Error("forgetting returned call", "call", rec.ID, "err", err)
	}
	l.mu.Lock()
	delete(l.jobs, rec.ID)
	l.notifyLocked()
	l.mu.Unlock()
}

// recoverCalls returns what the tracker holds from a previous run: saved results as they are, calls that never
// finished as ErrTempWorkerRestart errors (after saving that outcome, so a second restart returns the same).
func (l *LocalWorker) recoverCalls(ctx context.Context) error {
	recs, err := l.ct.unfinished(ctx)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rec.State == callStarted {
			l.removeCutTemps(ctx, rec)
			rec.Err = storiface.Errf(storiface.ErrTempWorkerRestart, "worker restarted while running call %s", rec.ID)
			rec.Result = nil
			// The execution stays unfinished: it was cut short, and the record says so.
			if err := l.ct.onLost(ctx, rec.ID, rec.Err); err != nil {
				return err
			}
		}
		l.log.Info("returning call from before restart", "call", rec.ID, "type", rec.RetType, "err", rec.Err)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.returnResult(rec, rec.Result, rec.Err)
		}()
	}
	return nil
}

// removeCutTemps removes the temporaries (<type>/<sector>.sealfleet-tmp* in every local path) that a call cut
// short by the restart may have left: its sector may be sealed elsewhere now, so no later call here would clear
// them. Nothing runs yet when it is called (no call of this lifetime has started), so nothing in flight is touched.
func (l *LocalWorker) removeCutTemps(ctx context.Context, rec callRecord) {
	if l.deps.Local == nil || rec.ID.Sector == storiface.NoSectorRef.ID {
		return
	}
	paths, err := l.deps.Local.Local(ctx)
	if err != nil {
		l.log.Warn("listing local paths to clear temporaries of a cut call", "call", rec.ID, "err", err)
		return
	}
	prefix := storiface.SectorName(rec.ID.Sector) + tmpSuffix
	for _, p := range paths {
		for _, t := range storiface.PathTypes {
			dir := filepath.Join(p.LocalPath, t.String())
			ents, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, ent := range ents {
				// The temporary itself, and what a sealer writes next to it before renaming (<tmp>.tmp).
				if !strings.HasPrefix(ent.Name(), prefix) {
					continue
				}
				tmp := filepath.Join(dir, ent.Name())
				if err := os.RemoveAll(tmp); err != nil {
					l.log.Warn("removing a temporary of a cut call", "call", rec.ID, "path", tmp, "err", err)
					continue
				}
				l.log.Info("removed a temporary of a call cut by the restart", "call", rec.ID, "path", tmp)
			}
		}
	}
}

// isUnreachable reports whether err means the manager could not be reached (as opposed to it refusing).
func isUnreachable(err error) bool {
	var ce *jsonrpc.RPCConnectionError
	return errors.As(err, &ce)
}

// whileUnreachable runs f, and again with doubling backoff for as long as it fails because the manager cannot be
// reached; any other outcome is returned. It gives up when ctx ends.
func (l *LocalWorker) whileUnreachable(ctx context.Context, what string, f func() error) error {
	delay := l.cfg.ReturnBackoffMin
	for {
		err := f()
		if err == nil || !isUnreachable(err) {
			return err
		}
		l.log.Warn("manager unreachable; will retry", "doing", what, "retry_in", delay, "err", err)
		select {
		case <-l.cfg.Clock.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (manager unreachable: %v)", what, ctx.Err(), err)
		}
		delay = min(2*delay, l.cfg.ReturnBackoffMax)
	}
}
