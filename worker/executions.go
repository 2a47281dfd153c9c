package worker

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/db"
	"sealfleet/storiface"
)

// The execution record: one row per execution of a call's work, written (in the same transaction as the call's
// tracker row) before the work starts and marked finished in the same transaction that saves the result. Unlike
// the tracker row it is kept after the manager acknowledges the result, so that an auditor (the chaos checker,
// `sealfleet worker executions`) can count how often each piece of work ran. A row that never finished belongs
// to a boot (one worker lifetime, New to Close or the process's death) that was cut short.

// executionMigration adds the execution record to the worker_calls component.
var executionMigration = db.Migration{
	Name: "create worker_executions and worker_boots",
	SQL: `CREATE TABLE worker_executions (
		call_id TEXT PRIMARY KEY,
		work_id TEXT NOT NULL,
		task TEXT NOT NULL,
		miner BIGINT NOT NULL,
		number BIGINT NOT NULL,
		boot TEXT NOT NULL,
		pid BIGINT NOT NULL,
		started_at BIGINT NOT NULL,
		finished_at BIGINT,
		failed INTEGER NOT NULL DEFAULT 0,
		err_code INTEGER
	);
CREATE INDEX worker_executions_work ON worker_executions (work_id);
CREATE TABLE worker_boots (
		boot TEXT PRIMARY KEY,
		seq BIGINT NOT NULL,
		pid BIGINT NOT NULL,
		started_at BIGINT NOT NULL
	)`,
}

// executionErrMigration keeps the saved error's message with a failed execution.
var executionErrMigration = db.Migration{
	Name: "add err_msg to worker_executions",
	SQL:  `ALTER TABLE worker_executions ADD COLUMN err_msg TEXT`,
}

// ExecutionRetention is how long execution rows (and the boots that have none left) are kept; older ones are
// dropped when a worker starts.
const ExecutionRetention = 30 * 24 * time.Hour

// ExecState classifies an execution row when it is read.
type ExecState string

// The execution states.
const (
	// ExecFinished: the work returned a value and the result was saved.
	ExecFinished ExecState = "finished"
	// ExecFailed: the work returned an error (or was aborted) and the error was saved.
	ExecFailed ExecState = "failed"
	// ExecCut: the work started in an earlier boot of the worker and never finished: that process was killed or
	// stopped while it ran (the call was then reported lost with ErrTempWorkerRestart).
	ExecCut ExecState = "cut"
	// ExecRunning: the work started in the latest boot and has not finished (if that process is no longer
	// alive, it was cut too).
	ExecRunning ExecState = "running"
)

// Execution is one execution of a call's work as the worker recorded it.
type Execution struct {
	Call   storiface.CallID   `json:"call"`
	WorkID string             `json:"workId"` // the manager's WorkID key, "<task>/<sha256 hex>"; "" for untracked calls (fetches of a prepare step)
	Task   storiface.TaskType `json:"task"`
	Sector abi.SectorID       `json:"sector"`
	Boot   string             `json:"boot"` // the worker lifetime that ran it
	PID    int                `json:"pid"`  // the process that ran it
	// Started is when the row was written, just before the call's ID was handed out and the work began.
	Started time.Time `json:"started"`
	// Finished is when the result (or error) was saved; zero while not finished.
	Finished time.Time            `json:"finished,omitzero"`
	ErrCode  *storiface.ErrorCode `json:"errCode,omitempty"` // the saved error's code when State is failed
	ErrMsg   string               `json:"errMsg,omitempty"`  // and its message
	State    ExecState            `json:"state"`
}

// MarshalJSON writes the execution with its call ID in the "<miner>-<number>-<uuid>" form.
func (e Execution) MarshalJSON() ([]byte, error) {
	type plain Execution
	return json.Marshal(struct {
		plain
		Call string `json:"call"`
	}{plain(e), e.Call.String()})
}

// Boot is one lifetime of a worker: from New to Close or the death of its process.
type Boot struct {
	ID      string    `json:"id"`
	Seq     int64     `json:"seq"` // 1 for the first boot of the database, then increasing
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// ExecutionLog is everything a worker's database holds about executions.
type ExecutionLog struct {
	CurrentBoot string      `json:"currentBoot"` // the latest boot (the running process, if one is running)
	Boots       []Boot      `json:"boots"`       // oldest first
	Executions  []Execution `json:"executions"`  // by start time
}

// workKey identifies the work of a call the way the manager's WorkID does (manager/work.go): the task type and
// storiface.WorkDigest of [sector, params...], as "<task>/<hex digest>". Identical calls — the same
// work re-issued after a restart — get the same key. An empty key marks a call the manager does not track by
// WorkID (a prepare step's fetch).
type workKey string

// newWorkKey computes the key; the parameters are the call's, in the order the manager's op lists them.
func newWorkKey(task storiface.TaskType, sector storiface.SectorRef, params ...any) (workKey, error) {
	digest, err := storiface.WorkDigest(task, append([]any{sector}, params...)...)
	if err != nil {
		return "", err
	}
	return workKey(string(task) + "/" + digest), nil
}

// startBoot records a new worker lifetime and drops execution rows (and empty boots) older than
// ExecutionRetention. It returns the boot's ID.
func (ct *callTracker) startBoot(ctx context.Context, now time.Time) (string, error) {
	boot := uuid.NewString()
	tx, err := ct.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("recording worker boot: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM worker_boots`).Scan(&seq); err != nil {
		return "", fmt.Errorf("recording worker boot: %w", err)
	}
	if _, err := tx.ExecContext(ctx, ct.db.Rebind(`INSERT INTO worker_boots (boot, seq, pid, started_at) VALUES (?, ?, ?, ?)`),
		boot, seq+1, os.Getpid(), now.UnixNano()); err != nil {
		return "", fmt.Errorf("recording worker boot: %w", err)
	}
	old := now.Add(-ExecutionRetention).UnixNano()
	if _, err := tx.ExecContext(ctx, ct.db.Rebind(`DELETE FROM worker_executions WHERE started_at < ?`), old); err != nil {
		return "", fmt.Errorf("dropping old executions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, ct.db.Rebind(`DELETE FROM worker_boots WHERE started_at < ? AND boot NOT IN
		(SELECT boot FROM worker_executions)`), old); err != nil {
		return "", fmt.Errorf("dropping old boots: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("recording worker boot: %w", err)
	}
	return boot, nil
}

// insertExecution writes the execution row of a call inside tx.
func (ct *callTracker) insertExecution(ctx context.Context, tx *sql.Tx, r callRecord) error {
	_, err := tx.ExecContext(ctx, ct.db.Rebind(`INSERT INTO worker_executions
		(call_id, work_id, task, miner, number, boot, pid, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		r.ID.String(), string(r.Work), string(r.Task), int64(r.ID.Sector.Miner), int64(r.ID.Sector.Number),
		ct.boot, os.Getpid(), r.Start.UnixNano())
	if err != nil {
		return fmt.Errorf("recording execution of call %s: %w", r.ID, err)
	}
	return nil
}

// finishExecution marks the execution of a call finished inside tx.
func (ct *callTracker) finishExecution(ctx context.Context, tx *sql.Tx, id storiface.CallID, at time.Time,
	cerr *storiface.CallError) error {
	failed, code, msg := 0, sql.NullInt64{}, sql.NullString{}
	if cerr != nil {
		failed, code = 1, sql.NullInt64{Int64: int64(cerr.Code), Valid: true}
		msg = sql.NullString{String: cerr.Message, Valid: true}
	}
	res, err := tx.ExecContext(ctx, ct.db.Rebind(`UPDATE worker_executions SET finished_at = ?, failed = ?, err_code = ?,
		err_msg = ? WHERE call_id = ? AND finished_at IS NULL`), at.UnixNano(), failed, code, msg, id.String())
	if err != nil {
		return fmt.Errorf("recording the end of call %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("recording the end of call %s: no unfinished execution recorded", id)
	}
	return nil
}

// ErrNoWorkerDB is returned by ReadExecutionsRepo for a repo without a worker database.
var ErrNoWorkerDB = errors.New("no worker database")

// ReadExecutionsRepo reads the execution record of the worker repo dir (its worker.db). It only reads, and may
// run while the worker runs (SQLite's write-ahead log lets a reader in beside the writer).
func ReadExecutionsRepo(ctx context.Context, repo string) (ExecutionLog, error) {
	path := filepath.Join(repo, "worker.db")
	if _, err := os.Stat(path); err != nil {
		return ExecutionLog{}, fmt.Errorf("reading executions of worker repo %s: %w (%v)", repo, ErrNoWorkerDB, err)
	}
	d, err := db.OpenSQLite(path)
	if err != nil {
		return ExecutionLog{}, err
	}
	defer d.Close()
	return ReadExecutions(ctx, d)
}

// ReadExecutions reads the execution record of a worker database and classifies each row (see ExecState).
func ReadExecutions(ctx context.Context, d *db.DB) (ExecutionLog, error) {
	var out ExecutionLog
	boots, err := readBoots(ctx, d)
	if err != nil {
		return out, err
	}
	out.Boots = boots
	if len(boots) > 0 {
		out.CurrentBoot = boots[len(boots)-1].ID
	}
	rows, err := d.QueryContext(ctx, `SELECT call_id, work_id, task, miner, number, boot, pid, started_at, finished_at,
		failed, err_code, err_msg FROM worker_executions ORDER BY started_at, call_id`)
	if err != nil {
		return out, fmt.Errorf("reading executions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanExecution(rows, out.CurrentBoot)
		if err != nil {
			return out, err
		}
		out.Executions = append(out.Executions, e)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("reading executions: %w", err)
	}
	return out, nil
}

func readBoots(ctx context.Context, d *db.DB) ([]Boot, error) {
	rows, err := d.QueryContext(ctx, `SELECT boot, seq, pid, started_at FROM worker_boots ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("reading worker boots: %w", err)
	}
	defer rows.Close()
	var out []Boot
	for rows.Next() {
		var b Boot
		var pid, started int64
		if err := rows.Scan(&b.ID, &b.Seq, &pid, &started); err != nil {
			return nil, fmt.Errorf("reading worker boots: %w", err)
		}
		b.PID, b.Started = int(pid), time.Unix(0, started)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading worker boots: %w", err)
	}
	return out, nil
}

func scanExecution(rows *sql.Rows, currentBoot string) (Execution, error) {
	var (
		e                        Execution
		callID, work, task       string
		miner, number, pid, strt int64
		finished, code           sql.NullInt64
		msg                      sql.NullString
		failed                   int64
	)
	if err := rows.Scan(&callID, &work, &task, &miner, &number, &e.Boot, &pid, &strt, &finished, &failed, &code, &msg); err != nil {
		return e, fmt.Errorf("reading an execution: %w", err)
	}
	id, err := parseCallID(callID)
	if err != nil {
		return e, fmt.Errorf("reading an execution: %w", err)
	}
	e.Call, e.WorkID, e.Task = id, work, storiface.TaskType(task)
	e.Sector = abi.SectorID{Miner: abi.ActorID(miner), Number: abi.SectorNumber(number)}
	e.PID, e.Started = int(pid), time.Unix(0, strt)
	switch {
	case finished.Valid && failed != 0:
		c := storiface.ErrorCode(code.Int64)
		e.Finished, e.State, e.ErrCode, e.ErrMsg = time.Unix(0, finished.Int64), ExecFailed, &c, msg.String
	case finished.Valid:
		e.Finished, e.State = time.Unix(0, finished.Int64), ExecFinished
	case e.Boot == currentBoot:
		e.State = ExecRunning
	default:
		e.State = ExecCut
	}
	return e, nil
}

// parseCallID reads the "<miner>-<number>-<uuid>" form of storiface.CallID.String.
func parseCallID(s string) (storiface.CallID, error) {
	var miner, number uint64
	var rest string
	if _, err := fmt.Sscanf(s, "%d-%d-%s", &miner, &number, &rest); err != nil {
		return storiface.UndefCall, fmt.Errorf("call id %q: want <miner>-<number>-<uuid>: %w", s, err)
	}
	u, err := uuid.Parse(rest)
	if err != nil {
		return storiface.UndefCall, fmt.Errorf("call id %q: %w", s, err)
	}
	return storiface.CallID{Sector: abi.SectorID{Miner: abi.ActorID(miner), Number: abi.SectorNumber(number)}, ID: u}, nil
}

// ExecutionSummary counts an execution log's rows by state and its WorkIDs by finished executions.
type ExecutionSummary struct {
	Executions           int      `json:"executions"`
	Finished             int      `json:"finished"`
	Failed               int      `json:"failed"`
	Cut                  int      `json:"cut"`
	Running              int      `json:"running"`
	WorkIDs              int      `json:"workIds"`              // distinct non-empty WorkIDs
	MaxFinishedPerWorkID int      `json:"maxFinishedPerWorkId"` // 0 or 1 unless some work ran to the end twice in this worker
	FinishedTwice        []string `json:"finishedTwice"`        // WorkIDs with more than one finished execution
}

// Summary counts the log's executions. It sees one worker only: work that ran once here and once on another
// worker shows in neither summary (the chaos checker reads every worker's record).
func (l ExecutionLog) Summary() ExecutionSummary {
	s := ExecutionSummary{Executions: len(l.Executions), FinishedTwice: []string{}}
	finished := map[string]int{}
	for _, e := range l.Executions {
		switch e.State {
		case ExecFinished:
			s.Finished++
		case ExecFailed:
			s.Failed++
		case ExecCut:
			s.Cut++
		case ExecRunning:
			s.Running++
		}
		if e.WorkID == "" {
			continue
		}
		if _, ok := finished[e.WorkID]; !ok {
			finished[e.WorkID] = 0
		}
		if e.State == ExecFinished {
			finished[e.WorkID]++
		}
	}
	s.WorkIDs = len(finished)
	for wid, n := range finished {
		s.MaxFinishedPerWorkID = max(s.MaxFinishedPerWorkID, n)
		if n > 1 {
			s.FinishedTwice = append(s.FinishedTwice, wid)
		}
	}
	slices.Sort(s.FinishedTwice)
	return s
}
