package manager

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"sealfleet/db"
	"sealfleet/storiface"
)

func newTestTracker(t *testing.T, path string) *callTracker {
	t.Helper()
	d, err := db.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ct, err := newCallTracker(context.Background(), d, quiet, func() time.Time { return time.Unix(1700000000, 0) })
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func TestWorkStateCBORRoundTrip(t *testing.T) {
	id := storiface.NewCallID(testSector.ID)
	cases := []WorkState{
		{ID: WorkID{Method: "m", Params: "p"}, Status: WorkStarted},
		{ID: WorkID{Method: string(storiface.TTPreCommit1), Params: "abcd"}, Status: WorkRunning,
			WorkerCall: callRef(id), WorkerHostname: "box", StartTime: 1700000000},
		{ID: WorkID{Method: "m", Params: "p"}, Status: WorkDone, WorkerCall: callRef(id), Result: []byte(`"x"`)},
		{ID: WorkID{Method: "m", Params: "p"}, Status: WorkDone, ErrCode: int64(storiface.ErrCallAborted), WorkError: "aborted"},
	}
	for _, ws := range cases {
		t.Run(string(ws.Status), func(t *testing.T) {
			var buf bytes.Buffer
			if err := ws.MarshalCBOR(&buf); err != nil {
				t.Fatal(err)
			}
			var got WorkState
			if err := got.UnmarshalCBOR(&buf); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, ws) {
				t.Fatalf("round trip: got %+v, want %+v", got, ws)
			}
			if len(ws.WorkerCall.UUID) > 0 && got.WorkerCall.CallID() != id {
				t.Fatalf("call ID %v, want %v", got.WorkerCall.CallID(), id)
			}
		})
	}
}

func TestTrackerLoad(t *testing.T) {
	path := t.TempDir() + "/calls.db"
	ct := newTestTracker(t, path)
	ctx := context.Background()
	// One work of each status at the "crash".
	started, err := ct.getWork(ctx, storiface.TTAddPiece, testSector, 1)
	if err != nil {
		t.Fatal(err)
	}
	running, _ := ct.getWork(ctx, storiface.TTPreCommit1, testSector, 2)
	runID := storiface.NewCallID(testSector.ID)
	if err := ct.started(ctx, running.wid, storiface.WorkerID{}, "box", runID, nil, nil); err != nil {
		t.Fatal(err)
	}
	done, _ := ct.getWork(ctx, storiface.TTCommit2, testSector, 3)
	doneID := storiface.NewCallID(testSector.ID)
	if err := ct.started(ctx, done.wid, storiface.WorkerID{}, "box", doneID, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := ct.returnResult(doneID, storiface.Proof("p"), nil); err != nil {
		t.Fatal(err)
	}

	ct2 := newTestTracker(t, path)
	got := map[WorkStatus]int{}
	for _, ws := range ct2.list() {
		got[ws.Status]++
	}
	want := map[WorkStatus]int{WorkRunning: 1, WorkDone: 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart: %v, want %v (work that never reached a worker is dropped)", got, want)
	}
	cases := []struct {
		name    string
		method  storiface.TaskType
		param   int
		deliver func()
		want    string
	}{
		{"done work returns its saved result", storiface.TTCommit2, 3, func() {}, `"cA=="`},
		{"running work takes the worker's late result", storiface.TTPreCommit1, 2, func() {
			if err := ct2.returnResult(runID, storiface.PreCommit1Out("q"), nil); err != nil {
				t.Fatal(err)
			}
		}, `"cQ=="`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := ct2.getWork(ctx, tc.method, testSector, tc.param)
			if err != nil || !ref.join {
				t.Fatalf("re-issued op did not join: join=%v err=%v", ref != nil && ref.join, err)
			}
			tc.deliver()
			res, err := ref.wait(ctx)
			if err != nil || res.err != nil || string(res.value) != tc.want {
				t.Fatalf("result %q %v %v, want %s", res.value, res.err, err, tc.want)
			}
		})
	}
	if left := ct2.list(); len(left) != 0 {
		t.Fatalf("taken work not forgotten: %+v", left)
	}
	_ = started
}

func TestEarlyResultBeforeCallRecorded(t *testing.T) {
	ct := newTestTracker(t, ":memory:")
	ctx := context.Background()
	ref, err := ct.getWork(ctx, storiface.TTCommit2, testSector, "x")
	if err != nil {
		t.Fatal(err)
	}
	id := storiface.NewCallID(testSector.ID)
	// The worker answers before the manager has recorded the call ID it was given.
	if err := ct.returnResult(id, storiface.Proof("p"), nil); err != nil {
		t.Fatal(err)
	}
	if err := ct.started(ctx, ref.wid, storiface.WorkerID{}, "box", id, nil, nil); err != nil {
		t.Fatal(err)
	}
	res, err := ref.wait(ctx)
	if err != nil || string(res.value) != `"cA=="` {
		t.Fatalf("result %q, %v", res.value, err)
	}
}

// TestEarlyResultNeverPersistedRunning: when the worker's result came before the call ID was recorded (and was
// acknowledged, so the worker forgot the call), the work must go to Done without ever being persisted as Running:
// a manager killed between those two writes would re-attach a call no worker will return. Found by the chaos run
// (seed 302: a sector stuck in Commit2). A trigger logs every status written.
func TestEarlyResultNeverPersistedRunning(t *testing.T) {
	path := t.TempDir() + "/calls.db"
	ct := newTestTracker(t, path)
	ctx := context.Background()
	for _, q := range []string{`CREATE TABLE status_log (work_id TEXT, status TEXT)`,
		`CREATE TRIGGER log_insert AFTER INSERT ON manager_calls BEGIN INSERT INTO status_log VALUES (new.work_id, new.status); END`,
		`CREATE TRIGGER log_update AFTER UPDATE ON manager_calls BEGIN INSERT INTO status_log VALUES (new.work_id, new.status); END`,
	} {
		if _, err := ct.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	ref, err := ct.getWork(ctx, storiface.TTCommit2, testSector, "early")
	if err != nil {
		t.Fatal(err)
	}
	id := storiface.NewCallID(testSector.ID)
	if err := ct.returnResult(id, storiface.Proof("p"), nil); err != nil {
		t.Fatal(err)
	}
	if err := ct.started(ctx, ref.wid, storiface.WorkerID{}, "box", id, nil, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := ct.db.QueryContext(ctx, `SELECT status FROM status_log WHERE work_id = ?`, ref.wid.key())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	rows.Close()
	if want := []string{"started", "done"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses written %v, want %v", got, want)
	}
	// A restart now finds the result.
	ct2 := newTestTracker(t, path)
	ref2, err := ct2.getWork(ctx, storiface.TTCommit2, testSector, "early")
	if err != nil || !ref2.join {
		t.Fatalf("re-issued op did not join: %v", err)
	}
	res, err := ref2.wait(ctx)
	if err != nil || res.err != nil || string(res.value) != `"cA=="` {
		t.Fatalf("after restart: %q %v %v", res.value, res.err, err)
	}
	ref.release()
}

func TestStartedWithWorkerError(t *testing.T) {
	ct := newTestTracker(t, ":memory:")
	ctx := context.Background()
	ref, _ := ct.getWork(ctx, storiface.TTCommit2, testSector, "y")
	err := ct.started(ctx, ref.wid, storiface.WorkerID{}, "box", storiface.UndefCall,
		storiface.Errf(storiface.ErrTempAllocateSpace, "full"), nil)
	if storiface.CodeOf(err) != storiface.ErrTempAllocateSpace {
		t.Fatalf("started returned %v", err)
	}
	ref.release()
	if left := ct.list(); len(left) != 0 {
		t.Fatalf("failed work still tracked: %+v", left)
	}
}

func TestOldDoneWorkDroppedAtLoad(t *testing.T) {
	path := t.TempDir() + "/calls.db"
	ct := newTestTracker(t, path) // its clock reads 1700000000
	ctx := context.Background()
	ref, _ := ct.getWork(ctx, storiface.TTCommit2, testSector, "old")
	id := storiface.NewCallID(testSector.ID)
	if err := ct.started(ctx, ref.wid, storiface.WorkerID{}, "box", id, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := ct.returnResult(id, storiface.Proof("p"), nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		age  time.Duration
		kept int
	}{
		{"within retention", DefaultDoneRetention - time.Hour, 1},
		{"past retention", DefaultDoneRetention + time.Hour, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := db.OpenSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			later := func() time.Time { return time.Unix(1700000000, 0).Add(tc.age) }
			ct2, err := newCallTrackerRetention(ctx, d, quiet, later, DefaultDoneRetention)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(ct2.list()); got != tc.kept {
				t.Fatalf("kept %d, want %d", got, tc.kept)
			}
		})
	}
}
