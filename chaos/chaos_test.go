package chaos

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
	"sealfleet/worker"
)

func TestAuditExecutions(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	sector := func(n int) abi.SectorID { return abi.SectorID{Miner: 1000, Number: abi.SectorNumber(n)} }
	// ex fabricates an execution: sector n's task under WorkID wid, started at ms, in state st.
	// exd fabricates an execution: sector n's task under WorkID wid, started at ms, in state st, finished (if it
	// did) dur ms later; ex is exd with a 500 ms execution.
	exd := func(n int, task storiface.TaskType, wid string, ms, dur int, st worker.ExecState) worker.Execution {
		e := worker.Execution{Call: storiface.NewCallID(sector(n)), WorkID: wid, Task: task, Sector: sector(n),
			Started: at(ms), State: st}
		if st == worker.ExecFinished || st == worker.ExecFailed {
			e.Finished = at(ms + dur)
		}
		return e
	}
	ex := func(n int, task storiface.TaskType, wid string, ms int, st worker.ExecState) worker.Execution {
		return exd(n, task, wid, ms, 500, st)
	}
	pc1, pc2 := storiface.TTPreCommit1, storiface.TTPreCommit2
	fin, cut, failed := worker.ExecFinished, worker.ExecCut, worker.ExecFailed
	kill := func(victim string, ms int) Kill { return Kill{Victim: victim, AfterMs: int64(ms), At: at(ms)} }
	tests := []struct {
		name     string
		records  []workerRecord
		kills    []Kill
		fails    int // failures expected
		reissued int
		maxFin   int
		cutN     int
	}{
		{"each WorkID once", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, fin), ex(1, pc2, "pc2/a", 1000, fin)}},
			{Name: "w2", Boots: 1, Execs: []worker.Execution{ex(2, pc1, "pc1/b", 0, fin)}},
		}, nil, 0, 0, 1, 0},
		{"cut by a kill, then finished elsewhere", []workerRecord{
			{Name: "w1", Boots: 2, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, cut)}},
			{Name: "w2", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 2000, fin)}},
		}, []Kill{kill("w1", 1000)}, 0, 0, 1, 1},
		{"one WorkID finished twice, no kill", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, fin)}},
			{Name: "w2", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 3000, fin)}},
		}, nil, 1, 0, 2, 0},
		{"one WorkID finished twice in one worker, a worker kill between", []workerRecord{
			{Name: "w1", Boots: 2, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, fin), ex(1, pc1, "pc1/a", 3000, fin)}},
		}, []Kill{kill("w1", 2000)}, 1, 0, 2, 0},
		{"manager killed just after the first call started: re-issued", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, fin)}},
			{Name: "w2", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 4000, fin)}},
		}, []Kill{kill("manager", 300)}, 0, 1, 2, 0},
		{"manager killed long after the first call started", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, fin)}},
			{Name: "w2", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 30000, fin)}},
		}, []Kill{kill("manager", 20000)}, 1, 0, 2, 0},
		{"manager killed just after a long first call finished: re-issued", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{exd(1, pc1, "pc1/a", 0, 60000, fin), ex(1, pc1, "pc1/a", 70000, fin)}},
		}, []Kill{kill("manager", 60300)}, 0, 1, 2, 0},
		{"manager killed in the middle of a long first call", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{exd(1, pc1, "pc1/a", 0, 60000, fin), ex(1, pc1, "pc1/a", 70000, fin)}},
		}, []Kill{kill("manager", 30000)}, 1, 0, 2, 0},
		{"manager killed just before the first call started", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, fin), ex(1, pc1, "pc1/a", 3000, fin)}},
		}, []Kill{kill("manager", -3000)}, 1, 0, 2, 0},
		{"failed, then finished", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, failed), ex(1, pc1, "pc1/a", 2000, fin)}},
		}, nil, 0, 0, 1, 0},
		{"a sector's PC1 under two WorkIDs, no kill between", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, fin), ex(1, pc1, "pc1/b", 2000, fin)}},
		}, []Kill{kill("w2", 5000)}, 1, 0, 1, 0},
		{"a sector's PC1 under two WorkIDs, a kill between", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, fin), ex(1, pc1, "pc1/b", 2000, fin)}},
		}, []Kill{kill("w2", 1000)}, 0, 0, 1, 0},
		{"fetches without a WorkID may repeat", []workerRecord{
			{Name: "w1", Boots: 1, Execs: []worker.Execution{ex(1, storiface.TTFetch, "", 0, fin), ex(1, storiface.TTFetch, "", 100, fin)}},
		}, nil, 0, 0, 0, 0},
		{"a worker restarted more often than it was killed", []workerRecord{
			{Name: "w1", Boots: 3, Execs: []worker.Execution{ex(1, pc1, "pc1/a", 0, fin)}},
		}, []Kill{kill("w1", 1000)}, 1, 0, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := newReport(1, 1)
			auditExecutions(tc.records, tc.kills, &rep)
			if len(rep.Failures) != tc.fails || len(rep.Reissued) != tc.reissued || rep.MaxFinishedPerWorkID != tc.maxFin ||
				rep.CutExecutions != tc.cutN {
				t.Fatalf("failures %q, reissued %q, max finished %d, cut %d; want %d, %d, %d, %d", rep.Failures,
					rep.Reissued, rep.MaxFinishedPerWorkID, rep.CutExecutions, tc.fails, tc.reissued, tc.maxFin, tc.cutN)
			}
			n := 0
			for _, r := range tc.records {
				n += len(r.Execs)
			}
			if rep.Executions != n || rep.FinishedExecutions+rep.FailedExecutions+rep.CutExecutions+rep.RunningExecutions != n {
				t.Fatalf("counts %+v do not add up to %d executions", rep, n)
			}
		})
	}
}

func TestAuditCountsPerSectorTask(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC)
	s1 := abi.SectorID{Miner: 1000, Number: 1}
	e := func(task storiface.TaskType, wid string, st worker.ExecState, ms int) worker.Execution {
		return worker.Execution{Call: storiface.NewCallID(s1), WorkID: wid, Task: task, Sector: s1,
			Started: t0.Add(time.Duration(ms) * time.Millisecond), State: st}
	}
	rep := newReport(1, 1)
	auditExecutions([]workerRecord{{Name: "w1", Boots: 2, Execs: []worker.Execution{
		e(storiface.TTPreCommit1, "a", worker.ExecCut, 0), e(storiface.TTPreCommit1, "a", worker.ExecFinished, 2000),
		e(storiface.TTPreCommit2, "b", worker.ExecFinished, 3000), e(storiface.TTFetch, "", worker.ExecRunning, 4000)}}},
		[]Kill{{Victim: "w1", At: t0.Add(time.Second)}}, &rep)
	wantFin := map[string]map[string]int{"s-t01000-1": {"PC1": 1, "PC2": 1}}
	wantCut := map[string]map[string]int{"s-t01000-1": {"PC1": 1}}
	if !reflect.DeepEqual(rep.FinishedBySectorTask, wantFin) || !reflect.DeepEqual(rep.CutBySectorTask, wantCut) {
		t.Fatalf("finished %v cut %v; want %v and %v", rep.FinishedBySectorTask, rep.CutBySectorTask, wantFin, wantCut)
	}
	if rep.WorkIDs != 2 || !maps.Equal(rep.ExecutionsPerWorkID, map[string]int{"2": 1, "1": 1}) ||
		!maps.Equal(rep.FinishedPerWorkID, map[string]int{"1": 2}) || rep.RunningExecutions != 1 || len(rep.Failures) != 0 {
		t.Fatalf("report %+v", rep)
	}
}

func TestTempFiles(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"store/sealed/s-t01000-1", "store/cache/s-t01000-1.sealfleet-tmp/p_aux",
		"store/sealed/fetching/s-t01000-2", "store/cache/s-t01000-3/sc-02-data-layer-1.dat.tmp", "storage.json"} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, p := range tempFiles(root) {
		rel, _ := filepath.Rel(root, p)
		got = append(got, rel)
	}
	want := []string{"store/cache/s-t01000-1.sealfleet-tmp", "store/cache/s-t01000-3/sc-02-data-layer-1.dat.tmp",
		"store/sealed/fetching/s-t01000-2"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"no binary", Config{Dir: "d", Sectors: 1}, false},
		{"no dir", Config{Binary: "b", Sectors: 1}, false},
		{"no sectors", Config{Binary: "b", Dir: "d"}, false},
		{"negative kills", Config{Binary: "b", Dir: "d", Sectors: 1, Kills: -1}, false},
		{"defaults", Config{Binary: "b", Dir: "d", Sectors: 1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.validate()
			if (err == nil) != tc.ok {
				t.Fatalf("validate: %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (tc.cfg.Workers != 3 || tc.cfg.SectorSize != "2KiB" || tc.cfg.Timeout == 0) {
				t.Fatalf("defaults not applied: %+v", tc.cfg)
			}
		})
	}
}

// TestRunShort is the CI-sized chaos run: 6 sectors of 2KiB, 3 kills, on a freshly built sealfleet binary.
// Skipped with -short.
func TestRunShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sealfleet and runs real processes")
	}
	bin := filepath.Join(t.TempDir(), "sealfleet")
	cmd := exec.Command("go", "build", "-o", bin, "sealfleet/cmd/sealfleet")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	seed := uint64(time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{Binary: bin, Dir: t.TempDir(), Seed: seed, Sectors: 6, Kills: 3})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	t.Logf("seed %d: %+v", seed, rep)
	if !rep.OK || rep.Proving != 6 || rep.ProofsVerified != 6 || len(rep.Kills) != 3 || rep.Executions == 0 {
		t.Fatalf("seed %d: %+v", seed, rep)
	}
}
