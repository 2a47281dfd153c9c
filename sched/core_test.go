package sched

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/storiface"
)

var (
	bigBox = box{name: "big", cpus: 64, memGiB: 512, tasks: allTasks}
	pc1Box = func(name string) box {
		return box{name: name, cpus: 64, memGiB: 512, tasks: []storiface.TaskType{storiface.TTPreCommit1}}
	}
)

func TestOnePC1(t *testing.T) {
	h := newHarness(t, CoreConfig{}, bigBox)
	r := h.req(storiface.TTPreCommit1, 0, nil)
	acts := h.step()
	if len(acts) != 1 || acts[0].Kind != ActWork || acts[0].Worker != wid("big") {
		t.Fatalf("actions = %+v", acts)
	}
	if r.State() != StateRunning {
		t.Fatalf("state = %v", r.State())
	}
	h.finish(r)
	if h.c.Live() != 0 {
		t.Fatal("request still live")
	}
}

func TestPC1OnOnlyCapableWorker(t *testing.T) {
	capable := box{name: "capable", cpus: 16, memGiB: 128, tasks: []storiface.TaskType{storiface.TTPreCommit1}}
	other := box{name: "other", cpus: 16, memGiB: 128, tasks: []storiface.TaskType{storiface.TTPreCommit2}}
	for _, tc := range []struct {
		name  string
		order []box
	}{{"capable first", []box{capable, other}}, {"capable second", []box{other, capable}}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, CoreConfig{}, tc.order...)
			r := h.req(storiface.TTPreCommit1, 0, nil)
			h.step()
			if got := h.workerOf(r); got != "capable" {
				t.Fatalf("PC1 ran on %q", got)
			}
		})
	}
}

func TestThreadsBlock(t *testing.T) {
	// 12 cores: PC2 takes 92 % = 11 threads. PC1 overridden to 4 threads (multicore SDR): 11+4 > 12 both ways.
	b := box{name: "w", cpus: 12, memGiB: 512, tasks: allTasks,
		overrides: map[storiface.TaskType]map[abi.RegisteredSealProof]storiface.Resources{
			storiface.TTPreCommit1: {spt32: {MinMemory: 56 << 30, MaxMemory: 64 << 30, MaxParallelism: 4,
				BaseMinMemory: 10 << 20}}}}
	for _, tc := range []struct {
		name          string
		first, second storiface.TaskType
	}{
		{"PC1 blocks PC2", storiface.TTPreCommit1, storiface.TTPreCommit2},
		{"PC2 blocks PC1", storiface.TTPreCommit2, storiface.TTPreCommit1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, CoreConfig{}, b)
			first := h.req(tc.first, 0, nil)
			h.step()
			second := h.req(tc.second, 0, nil)
			h.step()
			if first.State() != StateRunning || second.State() == StateRunning {
				t.Fatalf("first %v, second %v", first.State(), second.State())
			}
			h.finish(first)
			h.step()
			if second.State() != StateRunning {
				t.Fatalf("second did not start after first finished: %v", second.State())
			}
		})
	}
}

func TestOnlyAsManyPC1AsFit(t *testing.T) {
	// 128GiB, no swap: PC1 32GiB needs 64GiB of memory+swap → 1 fits (the 10MiB base tips the second).
	for _, tc := range []struct {
		name    string
		b       box
		want    int
		windows int
	}{
		{"128GiB takes 1", box{name: "w", cpus: 16, memGiB: 128, tasks: allTasks}, 1, 2},
		{"256GiB takes 3", box{name: "w", cpus: 16, memGiB: 256, tasks: allTasks}, 3, 2},
		{"16 cores 1TiB takes 16", box{name: "w", cpus: 16, memGiB: 1200, tasks: allTasks}, 16, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, CoreConfig{Windows: tc.windows}, tc.b)
			for i := 0; i < 40; i++ {
				h.req(storiface.TTPreCommit1, 0, nil)
			}
			h.step()
			if got := len(h.running); got != tc.want {
				t.Fatalf("running %d PC1s, want %d", got, tc.want)
			}
			// Windows hold at most one worker's worth each; the rest stays queued.
			if got, want := h.c.Queued(), max(0, 40-tc.want*(1+tc.windows)); got != want {
				t.Fatalf("queued %d, want %d", got, want)
			}
		})
	}
}

func TestPriorityOrdering(t *testing.T) {
	h := newHarness(t, CoreConfig{}, box{name: "w", cpus: 16, memGiB: 128, tasks: allTasks})
	low := h.req(storiface.TTPreCommit1, 0, nil)
	h.now = h.now.Add(time.Second)
	deal := h.req(storiface.TTPreCommit1, DealSectorPriority, nil)
	h.step()
	if deal.State() != StateRunning || low.State() == StateRunning {
		t.Fatalf("deal %v, low %v", deal.State(), low.State())
	}
	// Same priority: task order (PC2 before PC1), then age.
	h2 := newHarness(t, CoreConfig{}, box{name: "w", cpus: 16, memGiB: 128, tasks: allTasks,
		overrides: map[storiface.TaskType]map[abi.RegisteredSealProof]storiface.Resources{
			storiface.TTPreCommit2: {spt32: {MinMemory: 64 << 30, MaxMemory: 100 << 30, MaxParallelism: 1}}}})
	pc1 := h2.req(storiface.TTPreCommit1, 0, nil)
	h2.now = h2.now.Add(time.Second)
	pc2 := h2.req(storiface.TTPreCommit2, 0, nil)
	h2.step()
	if pc2.State() != StateRunning || pc1.State() == StateRunning {
		t.Fatalf("pc2 %v, pc1 %v", pc2.State(), pc1.State())
	}
}

func TestWindowCompaction(t *testing.T) {
	// One PC1 fits at a time; window 0 and window 1 hold one waiting PC1 each.
	h := newHarness(t, CoreConfig{}, box{name: "w", cpus: 16, memGiB: 128, tasks: allTasks})
	var rs []*Request
	for i := 0; i < 3; i++ {
		rs = append(rs, h.req(storiface.TTPreCommit1, 0, nil))
	}
	h.step()
	if rs[1].window != 0 || rs[2].window != 1 {
		t.Fatalf("windows: %d %d", rs[1].window, rs[2].window)
	}
	h.finish(rs[0])
	h.step()
	if rs[1].State() != StateRunning {
		t.Fatalf("window 0 task did not start: %v", rs[1].State())
	}
	if rs[2].State() != StateWaiting || rs[2].window != 0 {
		t.Fatalf("window 1 task not compacted into window 0: %v window %d", rs[2].State(), rs[2].window)
	}
}

func TestDisableReturnsTasksThenReenable(t *testing.T) {
	a := box{name: "a", cpus: 16, memGiB: 128, tasks: allTasks}
	b := box{name: "b", cpus: 16, memGiB: 128, tasks: allTasks}
	h := newHarness(t, CoreConfig{}, a)
	r1 := h.req(storiface.TTPreCommit1, 0, nil)
	r2 := h.req(storiface.TTPreCommit1, 0, nil)
	h.step()
	if r2.State() != StateWaiting {
		t.Fatalf("r2 %v", r2.State())
	}
	h.addWorker(b)
	if err := h.c.DisableWorker(wid("a")); err != nil {
		t.Fatal(err)
	}
	h.step()
	if got := h.workerOf(r2); got != "b" {
		t.Fatalf("r2 went to %q, want b", got)
	}
	// r1 keeps running on the disabled worker until it reports done; nothing new goes there.
	r3 := h.req(storiface.TTPreCommit1, 0, nil)
	h.finish(r1)
	h.step()
	if r3.State() != StateWaiting || r3.Worker() != wid("b") {
		t.Fatalf("r3 %v on %v", r3.State(), r3.Worker())
	}
	if err := h.c.EnableWorker(wid("a")); err != nil {
		t.Fatal(err)
	}
	h.step()
	if got := h.workerOf(r3); got != "a" {
		t.Fatalf("r3 went to %q after re-enable, want a", got)
	}
}

func TestNoPileOnOneMachine(t *testing.T) {
	// 40 PC1s and 4 equal machines (7 PC1 fit on each): they must spread, 7 running on each, none left idle.
	boxes := []box{pc1Box("m1"), pc1Box("m2"), pc1Box("m3"), pc1Box("m4")}
	for _, assigner := range []string{AssignerUtilization, AssignerSpread} {
		t.Run(assigner, func(t *testing.T) {
			h := newHarness(t, CoreConfig{Assigner: assigner}, boxes...)
			for i := 0; i < 40; i++ {
				h.req(storiface.TTPreCommit1, 0, nil)
			}
			h.step()
			per := h.perWorker(boxes...)
			for _, b := range boxes {
				if per[b.name] != 7 {
					t.Fatalf("running per worker = %v, want 7 each", per)
				}
			}
		})
	}
	t.Run("one at a time", func(t *testing.T) {
		h := newHarness(t, CoreConfig{}, boxes...)
		for i := 0; i < 8; i++ {
			h.req(storiface.TTPreCommit1, 0, nil)
			h.step()
		}
		per := h.perWorker(boxes...)
		for _, b := range boxes {
			if per[b.name] != 2 {
				t.Fatalf("running per worker = %v, want 2 each", per)
			}
		}
	})
}

func TestStuckInBusyWindowMoves(t *testing.T) {
	// busy takes one PC1 at a time and has one waiting; when free joins (or frees up), the waiting one moves.
	busy := box{name: "busy", cpus: 16, memGiB: 128, tasks: allTasks}
	free := box{name: "free", cpus: 16, memGiB: 128, tasks: allTasks}
	h := newHarness(t, CoreConfig{}, busy, free)
	// Occupy free with a long PC2-like job so the second PC1 waits on busy, then release free.
	hog := h.req(storiface.TTPreCommit1, 0, nil)
	h.step()
	r1 := h.req(storiface.TTPreCommit1, 0, nil)
	h.step()
	r2 := h.req(storiface.TTPreCommit1, 0, nil)
	h.step()
	if r2.State() != StateWaiting {
		t.Fatalf("r2 %v", r2.State())
	}
	waitingOn := r2.Worker()
	// Finish the job on the worker r2 is NOT waiting on: r2 must move there and start.
	other := hog
	if h.running[hog.ID] == waitingOn {
		other = r1
	}
	h.finish(other)
	h.step()
	if r2.State() != StateRunning || h.running[r2.ID] == waitingOn {
		t.Fatalf("r2 %v on %v (was waiting on %v)", r2.State(), h.running[r2.ID], waitingOn)
	}
}

func TestQueuedWithOpenWindowsGetsAssigned(t *testing.T) {
	// Windows full and requests queued; as soon as anything frees up, the queue moves in the same step: no
	// state with a free worker, an open window and a queued request survives a Step.
	h := newHarness(t, CoreConfig{Windows: 1}, box{name: "w", cpus: 16, memGiB: 128, tasks: allTasks})
	var rs []*Request
	for i := 0; i < 5; i++ {
		rs = append(rs, h.req(storiface.TTPreCommit1, 0, nil))
	}
	h.step()
	if h.c.Queued() != 3 {
		t.Fatalf("queued %d, want 3", h.c.Queued())
	}
	for i := 0; i < 4; i++ {
		h.finish(rs[i])
		h.step()
		if rs[i+1].State() != StateRunning {
			t.Fatalf("request %d not started after %d finished: %v", i+1, i, rs[i+1].State())
		}
		wantQueued := max(0, 3-(i+1))
		if h.c.Queued() != wantQueued {
			t.Fatalf("after %d: queued %d, want %d", i, h.c.Queued(), wantQueued)
		}
	}
}

func TestStarvationReservation(t *testing.T) {
	// 16 cores; PC2 needs 14 threads. A stream of 1-thread APs keeps at least 3 threads busy forever, so without
	// a reservation PC2 never starts. With StarvationAfter it reserves and starts once enough APs drain.
	run := func(starve time.Duration, prep bool) (*harness, *Request) {
		h := newHarness(t, CoreConfig{StarvationAfter: starve, Windows: 1},
			box{name: "w", cpus: 16, memGiB: 512, tasks: allTasks})
		h.prep = prep // with prepare steps the APs could otherwise slip past the reservation while prefetching
		var aps []*Request
		for i := 0; i < 4; i++ {
			aps = append(aps, h.req(storiface.TTAddPiece, 0, nil))
		}
		h.step()
		// Same priority: PC2 ranks first (task order), does not fit, and the APs behind it backfill every time a
		// thread frees up. The reservation holds back what ranks after the holder (higher-ranked work, e.g. a
		// higher priority, still goes first: strict priority).
		pc2 := h.req(storiface.TTPreCommit2, 0, nil)
		for round := 0; round < 20; round++ {
			h.now = h.now.Add(time.Minute)
			aps = append(aps, h.req(storiface.TTAddPiece, 0, nil))
			h.finish(aps[0])
			aps = aps[1:]
			h.step()
			if pc2.State() == StateRunning {
				break
			}
			// drop APs that were not started to keep the stream bounded
			kept := aps[:0]
			for _, r := range aps {
				if r.State() == StateRunning {
					kept = append(kept, r)
				}
			}
			aps = kept
		}
		return h, pc2
	}
	for _, prep := range []bool{false, true} {
		t.Run(fmt.Sprintf("prepare steps %v", prep), func(t *testing.T) {
			if _, pc2 := run(0, prep); pc2.State() == StateRunning {
				t.Fatal("without a starvation bound PC2 started: the test does not starve it")
			}
			h, pc2 := run(5*time.Minute, prep)
			if pc2.State() != StateRunning {
				t.Fatalf("PC2 still %v after 20 minutes with a 5-minute starvation bound", pc2.State())
			}
			if waited := h.now.Sub(pc2.Added); waited > 10*time.Minute {
				t.Fatalf("PC2 waited %s", waited)
			}
		})
	}
}

func TestSpaceClaimRace(t *testing.T) {
	// Two workers share nothing; each has one sealing path. The index offers both paths (each has room for one
	// sector). Four PC1s arrive in one pass: without the ledger all four would pass the alloc filter on the first
	// worker; with it only one goes to each path and the rest wait for space.
	a := box{name: "a", cpus: 64, memGiB: 1024, tasks: allTasks, paths: []storiface.ID{"pa"}}
	b := box{name: "b", cpus: 64, memGiB: 1024, tasks: allTasks, paths: []storiface.ID{"pb"}}
	need := (storiface.FTSealed | storiface.FTCache).SealSpaceUse(32 << 30)
	for _, tc := range []struct {
		name string
		idx  Index
	}{
		{"no space reports: one claim per path", &fakeIndex{alloc: []storiface.ID{"pa", "pb"}}},
		{"byte-exact: room for one and a half", spaceIndex{&fakeIndex{alloc: []storiface.ID{"pa", "pb"},
			free: map[storiface.ID]int64{"pa": int64(need * 3 / 2), "pb": int64(need * 3 / 2)}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, CoreConfig{}, a, b)
			h.prep = true
			var rs []*Request
			for i := 0; i < 4; i++ {
				rs = append(rs, h.req(storiface.TTPreCommit1, 0,
					NewAllocSelector(tc.idx, storiface.FTSealed|storiface.FTCache, storiface.PathSealing)))
			}
			// Hold the prepare step open: claims are released only when the work starts.
			acts := h.c.Step(h.now)
			per := map[storiface.WorkerID]int{}
			for _, act := range acts {
				per[act.Worker]++
			}
			if len(acts) != 2 || per[wid("a")] != 1 || per[wid("b")] != 1 {
				t.Fatalf("actions %d, per worker %v; want one per path", len(acts), per)
			}
			if h.c.Queued() != 2 {
				t.Fatalf("queued %d, want 2", h.c.Queued())
			}
			d := h.c.Diag()
			found := false
			for _, dr := range d.Requests {
				for _, g := range dr.Reasons {
					found = found || g.Reason == ReasonSelector
				}
			}
			if !found {
				t.Fatalf("diag has no selector rejection: %+v", d.Requests)
			}
		})
	}
}

func TestDiagReasons(t *testing.T) {
	small := box{name: "small", cpus: 4, memGiB: 16, tasks: allTasks}
	noPC1 := box{name: "nopc1", cpus: 64, memGiB: 512, tasks: []storiface.TaskType{storiface.TTCommit2}}
	off := box{name: "off", cpus: 64, memGiB: 512, tasks: allTasks}
	full := box{name: "full", cpus: 16, memGiB: 128, tasks: allTasks}
	h := newHarness(t, CoreConfig{Windows: 1}, small, noPC1, off, full)
	if err := h.c.DisableWorker(wid("off")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		h.req(storiface.TTPreCommit1, 0, nil)
	}
	h.step()
	d := h.c.Diag()
	var queued *DiagRequest
	for i := range d.Requests {
		if d.Requests[i].State == "queued" {
			queued = &d.Requests[i]
		}
	}
	if queued == nil {
		t.Fatalf("no queued request in %+v", d.Requests)
	}
	want := map[string]Reason{"small": ReasonTooSmall, "nopc1": ReasonTaskUnsupported, "off": ReasonDisabled,
		"full": ReasonNoCapacity}
	if len(queued.Rejections) != 0 {
		t.Errorf("Diag lists %d per-worker rejections, want none (grouped only)", len(queued.Rejections))
	}
	groups := map[Reason][]string{}
	for _, g := range queued.Reasons {
		if g.Count != len(g.Hostnames) {
			t.Errorf("group %s: count %d, examples %v", g.Reason, g.Count, g.Hostnames)
		}
		groups[g.Reason] = g.Hostnames
	}
	for host, r := range want {
		if len(groups[r]) != 1 || groups[r][0] != host {
			t.Errorf("group %s: %v, want [%s]", r, groups[r], host)
		}
	}
	one, ok := h.c.DiagRequest(queued.ID)
	if !ok || len(one.Rejections) != len(want) {
		t.Fatalf("DiagRequest(%s): ok %v, rejections %+v", queued.ID, ok, one.Rejections)
	}
	for _, rej := range one.Rejections {
		if want[rej.Hostname] != rej.Reason {
			t.Errorf("%s: reason %s (%s), want %s", rej.Hostname, rej.Reason, rej.Detail, want[rej.Hostname])
		}
	}
	if _, ok := h.c.DiagRequest(uuid.New()); ok {
		t.Error("DiagRequest of an unknown ID: ok")
	}
	// One PC1 runs on "full", one waits in its window (listed in Requests and in that window, not in the started
	// Assignments), one is queued; the other workers' windows are empty and not listed.
	if len(d.OpenWindows) != 1 || len(d.OpenWindows[0].Tasks) != 1 || len(d.Assignments) != 1 || len(d.Requests) != 2 ||
		d.Waiting != 2 {
		t.Fatalf("windows %d assignments %d requests %d waiting %d", len(d.OpenWindows), len(d.Assignments),
			len(d.Requests), d.Waiting)
	}
}

func TestExistingSelectorPrefersHolder(t *testing.T) {
	idx := &fakeIndex{holds: map[abi.SectorID][]storiface.ID{}, alloc: []storiface.ID{"pa", "pb", "pc"}}
	boxes := []box{
		{name: "a", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pa"}},
		{name: "b", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pb"}},
		{name: "c", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pc"}},
	}
	for _, tc := range []struct {
		name       string
		holder     storiface.ID
		allowFetch bool
		want       string
	}{
		{"holder b, fetch allowed", "pb", true, "b"},
		{"holder c, no fetch", "pc", false, "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, CoreConfig{}, boxes...)
			sector := abi.SectorID{Miner: 1000, Number: abi.SectorNumber(h.n + 1)}
			idx.holds[sector] = []storiface.ID{tc.holder}
			r := h.req(storiface.TTPreCommit2, 0,
				NewExistingSelector(idx, sector, storiface.FTCache|storiface.FTSealed, tc.allowFetch))
			h.step()
			if got := h.workerOf(r); got != tc.want {
				t.Fatalf("ran on %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	boxes := []box{pc1Box("m1"), pc1Box("m2"), pc1Box("m3")}
	run := func() []storiface.WorkerID {
		h := newHarness(t, CoreConfig{Seed: 7}, boxes...)
		for i := 0; i < 10; i++ {
			h.req(storiface.TTPreCommit1, 0, nil)
		}
		var out []storiface.WorkerID
		for _, a := range h.step() {
			out = append(out, a.Worker)
		}
		return out
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("run differs at %d", i)
		}
	}
}

func TestMoveSelector(t *testing.T) {
	sector := abi.SectorID{Miner: 1000, Number: 1}
	idx := &fakeIndex{holds: map[abi.SectorID][]storiface.ID{sector: {"seal-a"}}, alloc: []storiface.ID{"store-a", "store-b"}}
	a := box{name: "a", cpus: 16, memGiB: 64, tasks: allTasks, paths: []storiface.ID{"seal-a", "store-a"}}
	b := box{name: "b", cpus: 16, memGiB: 64, tasks: allTasks, paths: []storiface.ID{"store-b"}}
	c := box{name: "c", cpus: 16, memGiB: 64, tasks: allTasks, paths: []storiface.ID{"other"}}
	for _, tc := range []struct {
		name        string
		allowRemote bool
		worker      box
		ok          bool
		score       float64
	}{
		{"local move", false, a, true, 1},
		{"remote not allowed", false, b, false, 0},
		{"remote allowed", true, b, true, 0.5},
		{"no destination path", true, c, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, CoreConfig{}, tc.worker)
			sel := NewMoveSelector(idx, sector, storiface.FTSealed|storiface.FTCache, storiface.PathStorage, 1000, tc.allowRemote)
			w := h.c.Worker(wid(tc.worker.name))
			ok, reason, err := sel.Filter(context.Background(), storiface.TTFinalize, spt32, w)
			if err != nil || ok != tc.ok || (!ok && reason == "") {
				t.Fatalf("Filter = %v %q %v", ok, reason, err)
			}
			if ok {
				if got := sel.Score(context.Background(), storiface.TTFinalize, spt32, w); got != tc.score {
					t.Fatalf("Score = %v, want %v", got, tc.score)
				}
				claims := sel.(SpaceClaimer).Claim(context.Background(), storiface.TTFinalize, spt32, w)
				if len(claims) != 1 {
					t.Fatalf("claims = %v", claims)
				}
			}
		})
	}
}

func TestAllocSelectorReasons(t *testing.T) {
	idx := &fakeIndex{alloc: []storiface.ID{"pa"}}
	h := newHarness(t, CoreConfig{},
		box{name: "a", cpus: 16, memGiB: 64, tasks: allTasks, paths: []storiface.ID{"pa"}},
		box{name: "b", cpus: 16, memGiB: 64, tasks: allTasks, paths: []storiface.ID{"pb"}},
		box{name: "c", cpus: 16, memGiB: 64, tasks: []storiface.TaskType{storiface.TTCommit2}, paths: []storiface.ID{"pa"}})
	sel := NewAllocSelector(idx, storiface.FTUnsealed, storiface.PathSealing)
	for _, tc := range []struct {
		name, worker, reason string
		ok                   bool
	}{
		{"best path", "a", "", true},
		{"no best path", "b", "none of the worker's paths", false},
		{"task unsupported", "c", "not in the worker's task list", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason, err := sel.Filter(context.Background(), storiface.TTAddPiece, spt32, h.c.Worker(wid(tc.worker)))
			if err != nil || ok != tc.ok || !strings.Contains(reason, tc.reason) {
				t.Fatalf("Filter = %v %q %v", ok, reason, err)
			}
		})
	}
}

func TestPrefetchWhileRunning(t *testing.T) {
	// One GPU: a PC2 prepares then runs; the next PC2 prepares (fetches) while the first runs, and is then staged
	// until the GPU frees up.
	h := newHarness(t, CoreConfig{}, box{name: "gpu", cpus: 64, memGiB: 512, gpus: 1, tasks: allTasks})
	h.prep = true
	first := h.req(storiface.TTPreCommit2, 0, nil)
	second := h.req(storiface.TTPreCommit2, 0, nil)
	if acts := h.c.Step(h.now); len(acts) != 1 || acts[0].Req != first || acts[0].Kind != ActPrepare {
		t.Fatalf("actions %+v: want the first preparing", acts)
	}
	if err := h.c.PrepareDone(first.ID, nil); err != nil {
		t.Fatal(err)
	}
	acts := h.c.Step(h.now)
	kinds := map[ActionKind]*Request{}
	for _, a := range acts {
		kinds[a.Kind] = a.Req
	}
	if len(acts) != 2 || kinds[ActWork] != first || kinds[ActPrepare] != second {
		t.Fatalf("actions %+v: want the first running and the second preparing", acts)
	}
	if err := h.c.PrepareDone(second.ID, nil); err != nil {
		t.Fatal(err)
	}
	if second.State() != StatePrepared {
		t.Fatalf("second %v, want prepared (waiting for the GPU)", second.State())
	}
	if jobs := h.c.Jobs()[wid("gpu")]; len(jobs) != 2 {
		t.Fatalf("jobs %+v", jobs)
	}
	if err := h.c.WorkDone(first.ID); err != nil {
		t.Fatal(err)
	}
	acts = h.c.Step(h.now)
	if len(acts) != 1 || acts[0].Kind != ActWork || acts[0].Req != second {
		t.Fatalf("actions %+v: want the staged PC2 to run", acts)
	}
}

func TestPrepareMaxConcurrent(t *testing.T) {
	// The prep type's MaxConcurrent (GET=1 on this worker) limits concurrent prepare steps, as the reference's
	// PrepResourceSpec does; the second waits in a window and starts preparing when the first is done preparing.
	get := map[abi.RegisteredSealProof]storiface.Resources{spt32: {MinMemory: 1 << 20, MaxMemory: 1 << 20, MaxConcurrent: 1}}
	h := newHarness(t, CoreConfig{}, box{name: "w", cpus: 64, memGiB: 1024, tasks: allTasks,
		overrides: map[storiface.TaskType]map[abi.RegisteredSealProof]storiface.Resources{storiface.TTFetch: get}})
	var reqs []*Request
	for i := 0; i < 2; i++ {
		r := &Request{ID: uuid.New(), Sector: storiface.SectorRef{ID: abi.SectorID{Miner: 1, Number: abi.SectorNumber(i)},
			ProofType: spt32}, Task: storiface.TTPreCommit1, PrepType: storiface.TTFetch, HasPrepare: true,
			Sel: NewTaskSelector(), Added: t0}
		if err := h.c.AddRequest(r); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	acts := h.c.Step(t0)
	if len(acts) != 1 || reqs[1].State() != StateWaiting {
		t.Fatalf("actions %d, second %v: want one prepare at a time", len(acts), reqs[1].State())
	}
	if err := h.c.PrepareDone(reqs[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	acts = h.c.Step(t0)
	kinds := map[ActionKind]int{}
	for _, a := range acts {
		kinds[a.Kind]++
	}
	if kinds[ActWork] != 1 || kinds[ActPrepare] != 1 {
		t.Fatalf("actions %+v: want the first to run and the second to prepare", acts)
	}
}

func TestIgnoreResources(t *testing.T) {
	b := box{name: "tiny", cpus: 1, memGiB: 1, tasks: allTasks}
	h := newHarness(t, CoreConfig{})
	info := b.info()
	info.IgnoreResources = true
	if err := h.c.AddWorker(wid("tiny"), info, b.taskSet(), nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		h.req(storiface.TTPreCommit1, 0, nil)
	}
	h.step()
	if len(h.running) != 5 {
		t.Fatalf("running %d, want all 5 on a worker that ignores resources", len(h.running))
	}
}

// countingSelector accepts workers supporting the task and counts Filter calls. Not Keyed: the core cannot share
// its answers between requests. Test-only.
type countingSelector struct{ calls *int }

func (s countingSelector) Filter(_ context.Context, tt storiface.TaskType, _ abi.RegisteredSealProof, w *WorkerHandle) (bool, string, error) {
	*s.calls++
	return w.Supports(tt), "", nil
}

func (s countingSelector) Score(context.Context, storiface.TaskType, abi.RegisteredSealProof, *WorkerHandle) float64 {
	return 1
}

func TestStarvedSaturatedPassIsBounded(t *testing.T) {
	// 100 workers, all full, 3000 requests all past the starvation bound: a pass must not evaluate every
	// (request, worker) pair looking for reservations.
	var boxes []box
	for i := 0; i < 100; i++ {
		boxes = append(boxes, box{name: fmt.Sprint("w", i), cpus: 16, memGiB: 128, tasks: allTasks})
	}
	h := newHarness(t, CoreConfig{StarvationAfter: time.Minute, Windows: 1}, boxes...)
	calls := 0
	for i := 0; i < 3000; i++ {
		h.req(storiface.TTPreCommit1, 0, countingSelector{&calls})
	}
	h.step()
	h.now = h.now.Add(time.Hour)
	calls = 0
	h.c.dirty = true
	h.c.Step(h.now)
	if limit := 20 * len(boxes); calls > limit {
		t.Fatalf("%d selector calls in one starved pass, want <= %d", calls, limit)
	}
	reserved := 0
	for _, wh := range h.c.Workers() {
		if wh.reservedBy != nil {
			reserved++
		}
	}
	if reserved != len(boxes) {
		t.Fatalf("%d of %d workers hold a reservation", reserved, len(boxes))
	}
}
