package worker

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/storiface"
	"sealfleet/worker/workertest"
)

// readExecs reads the rig's execution record.
func (r *rig) readExecs(t *testing.T) ExecutionLog {
	t.Helper()
	log, err := ReadExecutions(r.ctx, r.db)
	if err != nil {
		t.Fatal(err)
	}
	return log
}

func TestExecutionRecordStartToFinish(t *testing.T) {
	r := newRig(t)
	w, id, release := r.runningC2(t)
	// While the work runs, the row is there, unfinished, in the current boot.
	log := r.readExecs(t)
	if len(log.Boots) != 1 || log.CurrentBoot != log.Boots[0].ID || log.Boots[0].PID != os.Getpid() {
		t.Fatalf("boots %+v, current %q", log.Boots, log.CurrentBoot)
	}
	if len(log.Executions) != 1 {
		t.Fatalf("%d executions while running, want 1", len(log.Executions))
	}
	e := log.Executions[0]
	wantKey, err := newWorkKey(storiface.TTCommit2, testSector, storiface.Commit1Out("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Call != id || e.WorkID != string(wantKey) || e.Task != storiface.TTCommit2 || e.Sector != testSector.ID ||
		e.Boot != log.CurrentBoot || e.PID != os.Getpid() || e.State != ExecRunning || !e.Finished.IsZero() {
		t.Fatalf("running execution %+v (want work %s)", e, wantKey)
	}
	release()
	waitAcked(t, r.ret, id)
	if err := w.WaitQuiet(r.ctx); err != nil {
		t.Fatal(err)
	}
	// The tracker forgot the acknowledged call; the execution record keeps it, finished.
	if recs, err := w.ct.unfinished(r.ctx); err != nil || len(recs) != 0 {
		t.Fatalf("tracker holds %d calls after the ack, err %v", len(recs), err)
	}
	log = r.readExecs(t)
	if len(log.Executions) != 1 || log.Executions[0].State != ExecFinished || log.Executions[0].Finished.IsZero() ||
		log.Executions[0].Finished.Before(log.Executions[0].Started) {
		t.Fatalf("after the ack: %+v", log.Executions)
	}
}

func TestExecutionRecordAbortedCallFailed(t *testing.T) {
	r := newRig(t)
	w, id, _ := r.runningC2(t)
	if err := w.AbortCall(r.ctx, id); err != nil {
		t.Fatal(err)
	}
	waitAcked(t, r.ret, id)
	log := r.readExecs(t)
	if len(log.Executions) != 1 || log.Executions[0].State != ExecFailed ||
		log.Executions[0].ErrCode == nil || *log.Executions[0].ErrCode != storiface.ErrCallAborted ||
		!strings.Contains(log.Executions[0].ErrMsg, "aborted") {
		t.Fatalf("aborted call: %+v", log.Executions)
	}
}

func TestExecutionRecordRestartLeavesCutRow(t *testing.T) {
	r := newRig(t)
	w1, id, _ := r.runningC2(t)
	first := r.readExecs(t).CurrentBoot
	if err := w1.Close(); err != nil { // the "crash": the work is cut short, its row stays unfinished
		t.Fatal(err)
	}
	w2 := r.worker(t, r.ret)
	got := waitAcked(t, r.ret, id) // the restarted worker reports the call lost…
	if got.Err == nil || got.Err.Code != storiface.ErrTempWorkerRestart {
		t.Fatalf("after restart returned %+v", got)
	}
	if err := w2.WaitQuiet(r.ctx); err != nil {
		t.Fatal(err)
	}
	log := r.readExecs(t) // …and the record shows the execution cut, not finished
	if len(log.Boots) != 2 || log.Boots[0].ID != first || log.CurrentBoot != log.Boots[1].ID ||
		log.Boots[0].Seq != 1 || log.Boots[1].Seq != 2 {
		t.Fatalf("boots %+v, current %q, first %q", log.Boots, log.CurrentBoot, first)
	}
	if len(log.Executions) != 1 || log.Executions[0].State != ExecCut || log.Executions[0].Boot != first ||
		!log.Executions[0].Finished.IsZero() {
		t.Fatalf("after restart: %+v", log.Executions)
	}
	if n := r.backend.Calls("SealCommit2"); n != 1 {
		t.Fatalf("Commit2 entered %d times, want 1", n)
	}
}

func TestExecutionRecordRetention(t *testing.T) {
	r := newRig(t)
	w := r.worker(t, r.ret)
	id, err := w.SealCommit2(r.ctx, testSector, storiface.Commit1Out("c1"))
	if err != nil {
		t.Fatal(err)
	}
	waitAcked(t, r.ret, id)
	if err := w.WaitQuiet(r.ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		after     time.Duration
		execs     int
		boots     int
		wantBoots []int64
	}{
		{"restart within retention keeps the row", time.Hour, 1, 2, []int64{1, 2}},
		{"restart after retention drops it and the empty boots", ExecutionRetention + 2*time.Hour, 0, 1, []int64{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := newCallTracker(r.ctx, r.db, r.clock.Now().Add(tc.after)); err != nil {
				t.Fatal(err)
			}
			log := r.readExecs(t)
			var seqs []int64
			for _, b := range log.Boots {
				seqs = append(seqs, b.Seq)
			}
			if len(log.Executions) != tc.execs || !reflect.DeepEqual(seqs, tc.wantBoots) {
				t.Fatalf("%d executions, boots %v; want %d and %v", len(log.Executions), seqs, tc.execs, tc.wantBoots)
			}
		})
	}
}

func TestWorkKey(t *testing.T) {
	c, err := cid.Parse("baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy")
	if err != nil {
		t.Fatal(err)
	}
	pieces := []abi.PieceInfo{{Size: 2048, PieceCID: c}}
	cids := storiface.SectorCids{Unsealed: c, Sealed: c}
	tests := []struct {
		name   string
		task   storiface.TaskType
		params []any
		fields []string // the JSON field names decode reads, in parameter order
		// decode re-reads the parameters from their JSON, as the worker's RPC server does.
		decode func([]byte) ([]any, error)
	}{
		{"PC1", storiface.TTPreCommit1, []any{abi.SealRandomness{1, 2, 3}, pieces}, []string{"T", "P"}, func(b []byte) ([]any, error) {
			var v struct {
				T abi.SealRandomness
				P []abi.PieceInfo
			}
			err := json.Unmarshal(b, &v)
			return []any{v.T, v.P}, err
		}},
		{"C1", storiface.TTCommit1, []any{abi.SealRandomness{1}, abi.InteractiveSealRandomness{2}, pieces, cids},
			[]string{"T", "S", "P", "C"}, func(b []byte) ([]any, error) {
				var v struct {
					T abi.SealRandomness
					S abi.InteractiveSealRandomness
					P []abi.PieceInfo
					C storiface.SectorCids
				}
				err := json.Unmarshal(b, &v)
				return []any{v.T, v.S, v.P, v.C}, err
			}},
		{"AP of a pledge piece", storiface.TTAddPiece, []any{[]abi.UnpaddedPieceSize(nil), abi.UnpaddedPieceSize(2032), storiface.PieceData{}},
			[]string{"E", "S", "D"}, func(b []byte) ([]any, error) {
				var v struct {
					E []abi.UnpaddedPieceSize
					S abi.UnpaddedPieceSize
					D storiface.PieceData
				}
				err := json.Unmarshal(b, &v)
				return []any{v.E, v.S, v.D}, err
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k1, err := newWorkKey(tc.task, testSector, tc.params...)
			if err != nil {
				t.Fatal(err)
			}
			cut := strings.LastIndex(string(k1), "/")
			if cut < 0 || string(k1)[:cut] != string(tc.task) || len(string(k1)[cut+1:]) != 64 {
				t.Fatalf("key %q: want <task>/<64 hex digits>", k1)
			}
			// Encode the parameters as named fields (in order), then decode them as the RPC server would.
			obj := map[string]json.RawMessage{}
			for i, p := range tc.params {
				b, err := json.Marshal(p)
				if err != nil {
					t.Fatal(err)
				}
				obj[tc.fields[i]] = b
			}
			b, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			decoded, err := tc.decode(b)
			if err != nil {
				t.Fatal(err)
			}
			k2, err := newWorkKey(tc.task, testSector, decoded...)
			if err != nil {
				t.Fatal(err)
			}
			if k1 != k2 {
				t.Fatalf("key changed across a JSON round trip: %s then %s", k1, k2)
			}
			other := testSector
			other.ID.Number++
			if k3, _ := newWorkKey(tc.task, other, tc.params...); k3 == k1 {
				t.Fatal("another sector gave the same key")
			}
		})
	}
}

func TestReadExecutionsRepoWithoutDB(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadExecutionsRepo(t.Context(), dir)
	if !errors.Is(err, ErrNoWorkerDB) {
		t.Fatalf("got %v, want ErrNoWorkerDB", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "worker.db")); !os.IsNotExist(err) {
		t.Fatalf("reading created a database: %v", err)
	}
}

func TestParseCallID(t *testing.T) {
	id := storiface.NewCallID(abi.SectorID{Miner: 1000, Number: 42})
	tests := []struct {
		in   string
		want storiface.CallID
		ok   bool
	}{
		{id.String(), id, true},
		{"1000-42", storiface.UndefCall, false},
		{"1000-42-not-a-uuid", storiface.UndefCall, false},
		{"x-1-" + id.ID.String(), storiface.UndefCall, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseCallID(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("parseCallID(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestExecutionSummary(t *testing.T) {
	ex := func(wid string, st ExecState) Execution { return Execution{WorkID: wid, State: st} }
	tests := []struct {
		name string
		log  ExecutionLog
		want ExecutionSummary
	}{
		{"empty", ExecutionLog{}, ExecutionSummary{FinishedTwice: []string{}}},
		{"each state once", ExecutionLog{Executions: []Execution{ex("a", ExecFinished), ex("b", ExecFailed),
			ex("c", ExecCut), ex("d", ExecRunning), ex("", ExecFinished)}},
			ExecutionSummary{Executions: 5, Finished: 2, Failed: 1, Cut: 1, Running: 1, WorkIDs: 4,
				MaxFinishedPerWorkID: 1, FinishedTwice: []string{}}},
		{"cut then finished", ExecutionLog{Executions: []Execution{ex("a", ExecCut), ex("a", ExecFinished)}},
			ExecutionSummary{Executions: 2, Finished: 1, Cut: 1, WorkIDs: 1, MaxFinishedPerWorkID: 1, FinishedTwice: []string{}}},
		{"finished twice", ExecutionLog{Executions: []Execution{ex("a", ExecFinished), ex("b", ExecFinished), ex("a", ExecFinished)}},
			ExecutionSummary{Executions: 3, Finished: 3, WorkIDs: 2, MaxFinishedPerWorkID: 2, FinishedTwice: []string{"a"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.log.Summary(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRestartRemovesTemporariesOfCutCalls(t *testing.T) {
	r := newRig(t)
	w1, _, _ := r.runningC2(t)
	// What a PreCommit1 of the same sector cut by a kill leaves: temporaries in two paths; and the temporary
	// of another sector, which belongs to no cut call of this worker.
	seal := filepath.Join(r.store.Root, string(workertest.SealPathID))
	other := storiface.SectorName(abi.SectorID{Miner: 1000, Number: 8}) + tmpSuffix
	mine := []string{
		filepath.Join(seal, "cache", storiface.SectorName(testSector.ID)+tmpSuffix, "sc-02-data-layer-1.dat.tmp"),
		filepath.Join(seal, "sealed", storiface.SectorName(testSector.ID)+tmpSuffix),
		// the sealer's own temporary next to the call's (chaos seed 503 left one behind)
		filepath.Join(seal, "sealed", storiface.SectorName(testSector.ID)+tmpSuffix+".tmp"),
	}
	keep := filepath.Join(seal, "sealed", other)
	for _, p := range append(mine, keep) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := w1.Close(); err != nil {
		t.Fatal(err)
	}
	r.worker(t, r.ret)
	for _, p := range []string{filepath.Dir(mine[0]), mine[1], mine[2]} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived the restart (%v)", p, err)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the temporary of another sector was removed: %v", err)
	}
}
