package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"sealfleet/sched"
	"sealfleet/storiface"
)

// maxRestartRetries bounds how often an op is rescheduled because its worker restarted under it.
const maxRestartRetries = 3

// workSpec is one sealing op as a scheduler request: what identifies the work, which sector files it locks,
// where it may run, what to prepare, and the worker call that starts it.
type workSpec struct {
	task   storiface.TaskType
	sector storiface.SectorRef
	params []any // with task and sector, the work's identity (WorkID)

	lockRead, lockWrite storiface.SectorFileType

	sel     sched.Selector
	prepare sched.PrepareAction
	call    func(ctx context.Context, w sched.Worker) (storiface.CallID, error)
}

// runWork is the one code path of every tracked op: get (or join) the work, lock the sector's files, schedule
// it, start the worker call, record its call ID and wait for the result, decoded as T. An op whose worker
// restarted under it (ErrTempWorkerRestart) is scheduled again, up to maxRestartRetries times.
func runWork[T any](ctx context.Context, m *Manager, spec workSpec) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		res, err := m.runOnce(ctx, spec)
		if err != nil {
			return zero, err
		}
		if res.err != nil && res.err.Code == storiface.ErrTempWorkerRestart && attempt < maxRestartRetries {
			m.log.Warn("worker restarted during op; rescheduling", "task", spec.task.Short(), "sector", spec.sector,
				"err", res.err)
			continue
		}
		return decodeResult[T](res)
	}
}

func decodeResult[T any](res callResult) (T, error) {
	var out T
	if res.err != nil {
		return out, res.err
	}
	if len(res.value) > 0 {
		if err := json.Unmarshal(res.value, &out); err != nil {
			return out, fmt.Errorf("decoding result: %w", err)
		}
	}
	return out, nil
}

// runOnce runs or joins the work once and returns its raw result.
func (m *Manager) runOnce(ctx context.Context, spec workSpec) (callResult, error) {
	params := append([]any{spec.sector}, spec.params...)
	ref, err := m.ct.getWork(ctx, spec.task, params...)
	if err != nil {
		return callResult{}, err
	}
	defer ref.release()
	if ref.join {
		m.log.Info("joining tracked work", "work", ref.wid, "sector", spec.sector)
		return ref.wait(ctx)
	}
	if spec.lockRead|spec.lockWrite != storiface.FTNone {
		lctx, unlock := context.WithCancel(ctx)
		defer unlock()
		if err := m.deps.Index.StorageLock(lctx, spec.sector.ID, spec.lockRead, spec.lockWrite); err != nil {
			return callResult{}, fmt.Errorf("locking %s of %s: %w", spec.lockRead|spec.lockWrite, spec.sector, err)
		}
	}
	var res callResult
	m.log.Debug("scheduling", "work", ref.wid, "sector", spec.sector)
	err = m.deps.Sched.Schedule(ctx, spec.sector, spec.task, spec.sel, spec.prepare,
		func(ctx context.Context, w sched.Worker) error {
			m.log.Debug("running", "work", ref.wid, "sector", spec.sector)
			var werr error
			res, werr = m.startAndWait(ctx, ref, w, spec.call)
			return werr
		})
	if err != nil {
		return callResult{}, fmt.Errorf("%s %s: %w", spec.task.Short(), spec.sector, err)
	}
	return res, nil
}

// startAndWait makes the worker call, records the call ID it returns under wid and waits for the result.
func (m *Manager) startAndWait(ctx context.Context, ref *workRef, w sched.Worker,
	call func(context.Context, sched.Worker) (storiface.CallID, error)) (callResult, error) {
	id, err := call(ctx, w)
	if m.afterCall != nil {
		m.afterCall()
	}
	wid, host := m.workerOf(ctx, w)
	if err := m.ct.started(ctx, ref.wid, wid, host, id, err, aborterFor(w, id)); err != nil {
		return callResult{}, err
	}
	// A worker removed after it took the call but before the call was recorded Running: RemoveWorker's
	// failWorker skipped the call (not running yet), and nobody would ever fail it; the op would wait forever.
	// RemoveWorker forgets the worker before it fails its calls, so if failWorker ran too early, the worker is
	// already gone here.
	if !m.added(w) {
		m.ct.failRemoved(ref.wid, wid)
	}
	return ref.wait(ctx)
}

// callAborter is implemented by workers that can cancel a running call (LocalWorker and the worker RPC client).
type callAborter interface {
	AbortCall(ctx context.Context, call storiface.CallID) error
}

func aborterFor(w sched.Worker, id storiface.CallID) func(context.Context) error {
	a, ok := w.(callAborter)
	if !ok {
		return nil
	}
	return func(ctx context.Context) error { return a.AbortCall(ctx, id) }
}

// simpleCall runs a worker call that is part of another op (a prepare step): tracked by its call ID only, not
// persisted, so it is never joined by a re-issued op.
func (m *Manager) simpleCall(ctx context.Context, w sched.Worker, task storiface.TaskType,
	call func(context.Context, sched.Worker) (storiface.CallID, error)) error {
	ref, err := m.ct.getEphemeralWork(task, uuid.New())
	if err != nil {
		return err
	}
	defer ref.release()
	res, err := m.startAndWait(ctx, ref, w, call)
	if err != nil {
		return err
	}
	if res.err != nil {
		return res.err
	}
	return nil
}

// fetchPrep is the prepare step that brings a sector's files to the chosen worker.
func (m *Manager) fetchPrep(sector storiface.SectorRef, types storiface.SectorFileType, ptype storiface.PathType,
	am storiface.AcquireMode) sched.PrepareAction {
	return sched.PrepareAction{PrepType: storiface.TTFetch, Action: func(ctx context.Context, w sched.Worker) error {
		err := m.simpleCall(ctx, w, storiface.TTFetch, func(ctx context.Context, w sched.Worker) (storiface.CallID, error) {
			return w.Fetch(ctx, sector, types, ptype, am)
		})
		if err != nil {
			return fmt.Errorf("fetching %s of %s: %w", types, sector, err)
		}
		return nil
	}}
}

// errNoBackend is returned by ReadPiece on a manager built without a sealing backend.
var errNoBackend = errors.New("this manager has no sealing backend to read pieces with")
