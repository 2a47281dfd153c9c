package worker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/db"
	"sealfleet/storiface"
)

// callState is where a tracked call is in its life: persisted before work starts, then with its result, then
// forgotten once the manager acknowledged the result.
type callState int

const (
	callStarted callState = iota // work started (or about to); no result yet
	callDone                     // result saved, not yet acknowledged by the manager
)

// callRecord is one persisted call.
type callRecord struct {
	ID      storiface.CallID
	RetType ReturnType
	Task    storiface.TaskType
	State   callState
	Result  []byte // JSON of the call's result value; nil for calls without one
	Err     *storiface.CallError
	Start   time.Time
	Work    workKey // the manager's WorkID of the call's work ("" for untracked calls)
}

var callMigrations = []db.Migration{{
	Name: "create worker_calls",
	SQL: `CREATE TABLE worker_calls (
		call_id TEXT PRIMARY KEY,
		miner BIGINT NOT NULL,
		number BIGINT NOT NULL,
		call_uuid TEXT NOT NULL,
		ret_type TEXT NOT NULL,
		task TEXT NOT NULL,
		state INTEGER NOT NULL,
		result BLOB,
		err_code INTEGER,
		err_msg TEXT,
		started_at BIGINT NOT NULL
	)`,
}, executionMigration, executionErrMigration}

// callTracker persists a worker's calls so that a restarted worker returns finished results instead of
// recomputing them, and reports unfinished calls as lost to a restart. It also keeps the execution record
// (executions.go): one row per execution, kept after the acknowledgement.
type callTracker struct {
	db   *db.DB
	boot string // this worker lifetime, recorded in worker_boots
}

// newCallTracker migrates the tracker's tables and records a new boot started at now.
func newCallTracker(ctx context.Context, d *db.DB, now time.Time) (*callTracker, error) {
	if err := d.Migrate(ctx, "worker_calls", callMigrations); err != nil {
		return nil, fmt.Errorf("worker call tracker: %w", err)
	}
	ct := &callTracker{db: d}
	boot, err := ct.startBoot(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("worker call tracker: %w", err)
	}
	ct.boot = boot
	return ct, nil
}

// onStart persists a call and its execution row, in one transaction, before its work starts.
func (ct *callTracker) onStart(ctx context.Context, r callRecord) error {
	tx, err := ct.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording start of call %s: %w", r.ID, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	_, err = tx.ExecContext(ctx, ct.db.Rebind(`INSERT INTO worker_calls
		(call_id, miner, number, call_uuid, ret_type, task, state, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		r.ID.String(), int64(r.ID.Sector.Miner), int64(r.ID.Sector.Number), r.ID.ID.String(), string(r.RetType),
		string(r.Task), int(callStarted), r.Start.UnixNano())
	if err != nil {
		return fmt.Errorf("recording start of call %s: %w", r.ID, err)
	}
	if err := ct.insertExecution(ctx, tx, r); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording start of call %s: %w", r.ID, err)
	}
	return nil
}

// onDone saves the result (or error) of a call whose work ran to its end, and marks its execution finished at
// at, in one transaction, before the result is returned.
func (ct *callTracker) onDone(ctx context.Context, id storiface.CallID, at time.Time, result []byte, cerr *storiface.CallError) error {
	tx, err := ct.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("saving result of call %s: %w", id, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if err := ct.saveResult(ctx, tx, id, result, cerr); err != nil {
		return err
	}
	if err := ct.finishExecution(ctx, tx, id, at, cerr); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("saving result of call %s: %w", id, err)
	}
	return nil
}

// onLost saves the error of a call whose work was cut short by a restart; its execution stays unfinished.
func (ct *callTracker) onLost(ctx context.Context, id storiface.CallID, cerr *storiface.CallError) error {
	tx, err := ct.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("saving result of call %s: %w", id, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if err := ct.saveResult(ctx, tx, id, nil, cerr); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("saving result of call %s: %w", id, err)
	}
	return nil
}

// saveResult moves a tracked call to callDone with its result inside tx.
func (ct *callTracker) saveResult(ctx context.Context, tx *sql.Tx, id storiface.CallID, result []byte, cerr *storiface.CallError) error {
	var code sql.NullInt64
	var msg sql.NullString
	if cerr != nil {
		code = sql.NullInt64{Int64: int64(cerr.Code), Valid: true}
		msg = sql.NullString{String: cerr.Message, Valid: true}
	}
	res, err := tx.ExecContext(ctx, ct.db.Rebind(`UPDATE worker_calls SET state = ?, result = ?, err_code = ?, err_msg = ?
		WHERE call_id = ?`), int(callDone), result, code, msg, id.String())
	if err != nil {
		return fmt.Errorf("saving result of call %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("saving result of call %s: call not tracked", id)
	}
	return nil
}

// onReturned forgets a call whose result the manager acknowledged.
func (ct *callTracker) onReturned(ctx context.Context, id storiface.CallID) error {
	if _, err := ct.db.ExecContext(ctx, ct.db.Rebind(`DELETE FROM worker_calls WHERE call_id = ?`), id.String()); err != nil {
		return fmt.Errorf("forgetting returned call %s: %w", id, err)
	}
	return nil
}

// unfinished lists every call not yet acknowledged, oldest first.
func (ct *callTracker) unfinished(ctx context.Context) ([]callRecord, error) {
	rows, err := ct.db.QueryContext(ctx, `SELECT miner, number, call_uuid, ret_type, task, state, result, err_code,
		err_msg, started_at FROM worker_calls ORDER BY started_at`)
	if err != nil {
		return nil, fmt.Errorf("listing tracked calls: %w", err)
	}
	defer rows.Close()
	var out []callRecord
	for rows.Next() {
		var (
			r             callRecord
			miner, number int64
			cu, rt, task  string
			state         int
			code          sql.NullInt64
			msg           sql.NullString
			started       int64
		)
		if err := rows.Scan(&miner, &number, &cu, &rt, &task, &state, &r.Result, &code, &msg, &started); err != nil {
			return nil, fmt.Errorf("reading tracked call: %w", err)
		}
		u, err := uuid.Parse(cu)
		if err != nil {
			return nil, fmt.Errorf("reading tracked call: uuid %q: %w", cu, err)
		}
		r.ID = storiface.CallID{Sector: abi.SectorID{Miner: abi.ActorID(miner), Number: abi.SectorNumber(number)}, ID: u}
		r.RetType, r.Task, r.State = ReturnType(rt), storiface.TaskType(task), callState(state)
		if code.Valid {
			r.Err = &storiface.CallError{Code: storiface.ErrorCode(code.Int64), Message: msg.String}
		}
		r.Start = time.Unix(0, started)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tracked calls: %w", err)
	}
	return out, nil
}

var errUnknownReturnType = errors.New("unknown return type")
