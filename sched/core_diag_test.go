package sched

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/storiface"
)

// TestDiagGroupsReasons checks Diag answers one group per reason with the total count and at most DiagExamples
// examples in hostname order, however many workers gave the reason.
func TestDiagGroupsReasons(t *testing.T) {
	for _, n := range []int{1, DiagExamples, DiagExamples + 3} {
		t.Run(fmt.Sprintf("%d-workers", n), func(t *testing.T) {
			var boxes []box
			for i := 0; i < n; i++ {
				boxes = append(boxes, box{name: fmt.Sprintf("c2-%02d", i), cpus: 64, memGiB: 512,
					tasks: []storiface.TaskType{storiface.TTCommit2}})
			}
			h := newHarness(t, CoreConfig{Windows: 1}, boxes...)
			h.req(storiface.TTPreCommit1, 0, nil)
			h.step()
			d := h.c.Diag()
			if len(d.Requests) != 1 || len(d.Requests[0].Reasons) != 1 {
				t.Fatalf("requests %+v", d.Requests)
			}
			g := d.Requests[0].Reasons[0]
			wantEx := min(n, DiagExamples)
			if g.Reason != ReasonTaskUnsupported || g.Count != n || len(g.Workers) != wantEx ||
				len(g.Hostnames) != wantEx {
				t.Fatalf("group %+v, want %s ×%d with %d examples", g, ReasonTaskUnsupported, n, wantEx)
			}
			for i, host := range g.Hostnames {
				if want := fmt.Sprintf("c2-%02d", i); host != want {
					t.Errorf("example %d: %s, want %s", i, host, want)
				}
			}
			one, ok := h.c.DiagRequest(d.Requests[0].ID)
			if !ok || len(one.Rejections) != n {
				t.Fatalf("DiagRequest: ok %v, %d rejections, want %d", ok, len(one.Rejections), n)
			}
		})
	}
}

// checkDiagGroups checks Diag's grouping against the core: every queued or waiting request is counted in exactly
// one group, each group lists min(Count, DiagIDs) IDs in queue order, and every listed request, explained on its
// own by DiagRequest, gets the same answers as its group (reason, count and example workers; the detail too when
// its selector is Keyed, since other selectors' details name the sector).
func checkDiagGroups(t *testing.T, c *Core) DiagInfo {
	t.Helper()
	d := c.Diag()
	live := 0
	for _, r := range c.reqs {
		if r.state == StateQueued || r.state == StateWaiting {
			live++
		}
	}
	total := 0
	seen := map[uuid.UUID]bool{}
	for gi, g := range d.Requests {
		total += g.Count
		if want := min(g.Count, DiagIDs); len(g.IDs) != want || len(g.Sectors) != want || g.IDs[0] != g.ID {
			t.Errorf("group %d (%s ×%d): %d IDs, %d sectors, first %s; want %d starting with %s", gi, g.Task.Short(),
				g.Count, len(g.IDs), len(g.Sectors), g.IDs[0], want, g.ID)
		}
		for i, id := range g.IDs {
			r := c.Request(id)
			if r == nil || seen[id] {
				t.Fatalf("group %d: ID %s unknown or listed twice", gi, id)
			}
			seen[id] = true
			if r.Sector.ID != g.Sectors[i] {
				t.Errorf("group %d: ID %s with sector %v, want %v", gi, id, g.Sectors[i], r.Sector.ID)
			}
			if i > 0 && !c.Request(g.IDs[i-1]).before(r) {
				t.Errorf("group %d: IDs not in queue order at %d", gi, i)
			}
			one, ok := c.DiagRequest(id)
			if !ok {
				t.Fatalf("DiagRequest(%s): not waiting", id)
			}
			if one.Task != g.Task || one.Priority != g.Priority || one.State != g.State || one.Worker != g.Worker ||
				one.ProofType != g.ProofType || one.Count != 1 || len(one.IDs) != 1 || one.IDs[0] != id {
				t.Errorf("group %d: request %s is %+v, group %+v", gi, id, one, g)
			}
			_, keyed := r.Sel.(Keyed)
			if !sameReasons(one.Reasons, g.Reasons, keyed) {
				t.Errorf("group %d: request %s alone gets %+v, its group %+v", gi, id, one.Reasons, g.Reasons)
			}
		}
	}
	if total != live || d.Waiting != live {
		t.Errorf("groups count %d requests, Waiting %d, core has %d queued or waiting", total, d.Waiting, live)
	}
	return d
}

func sameReasons(a, b []DiagReasonGroup, details bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Reason != b[i].Reason || a[i].Count != b[i].Count || !slices.Equal(a[i].Workers, b[i].Workers) ||
			!slices.Equal(a[i].Hostnames, b[i].Hostnames) || (details && a[i].Detail != b[i].Detail) {
			return false
		}
	}
	return true
}

// TestDiagMergesAlikeRequests checks which waiting requests Diag merges into one entry and that the merged answers
// are each member's own (checkDiagGroups).
func TestDiagMergesAlikeRequests(t *testing.T) {
	c2 := func(name string) box {
		return box{name: name, cpus: 64, memGiB: 512, tasks: []storiface.TaskType{storiface.TTCommit2}}
	}
	type group struct {
		task  storiface.TaskType
		prio  int
		state string
		count int
	}
	for _, tc := range []struct {
		name  string
		boxes []box
		queue func(h *harness)
		want  []group // in queue order
	}{
		{"identical requests merge, IDs capped", []box{c2("x"), c2("y")}, func(h *harness) {
			for range DiagIDs + 5 {
				h.req(storiface.TTPreCommit1, 0, nil)
			}
		}, []group{{storiface.TTPreCommit1, 0, "queued", DiagIDs + 5}}},
		{"priorities do not merge", []box{c2("x")}, func(h *harness) {
			for i := range 5 {
				h.req(storiface.TTPreCommit1, 5*(i%2), nil)
			}
		}, []group{{storiface.TTPreCommit1, 5, "queued", 2}, {storiface.TTPreCommit1, 0, "queued", 3}}},
		{"tasks do not merge", []box{c2("x")}, func(h *harness) {
			h.req(storiface.TTPreCommit1, 0, nil)
			h.req(storiface.TTPreCommit2, 0, nil)
			h.req(storiface.TTPreCommit1, 0, nil)
		}, []group{{storiface.TTPreCommit2, 0, "queued", 1}, {storiface.TTPreCommit1, 0, "queued", 2}}},
		{"proof types do not merge", []box{c2("x")}, func(h *harness) {
			h.req(storiface.TTPreCommit1, 0, nil)
			r := h.req(storiface.TTPreCommit1, 0, nil)
			h.c.CancelRequest(r.ID)
			r.ID, r.Sector.ProofType = uuid.New(), abi.RegisteredSealProof_StackedDrg2KiBV1_1
			if err := h.c.AddRequest(r); err != nil {
				t.Fatal(err)
			}
		}, []group{{storiface.TTPreCommit1, 0, "queued", 1}, {storiface.TTPreCommit1, 0, "queued", 1}}},
		{"selector classes do not merge", []box{c2("x"), {name: "small", cpus: 2, memGiB: 4, tasks: allTasks,
			paths: []storiface.ID{"pa"}}}, func(h *harness) {
			idx := &fakeIndex{alloc: []storiface.ID{"pa"}}
			h.req(storiface.TTPreCommit1, 0, nil)
			h.req(storiface.TTPreCommit1, 0, NewAllocSelector(idx, storiface.FTCache|storiface.FTSealed, storiface.PathSealing))
			h.req(storiface.TTPreCommit1, 0, nil)
			h.req(storiface.TTPreCommit1, 0, NewAllocSelector(idx, storiface.FTCache|storiface.FTSealed, storiface.PathSealing))
		}, []group{{storiface.TTPreCommit1, 0, "queued", 2}, {storiface.TTPreCommit1, 0, "queued", 2}}},
		{"alloc selector rejections merge", []box{c2("x"), {name: "a", cpus: 64, memGiB: 512, tasks: allTasks,
			paths: []storiface.ID{"pb"}}, {name: "a2", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pc"}},
			{name: "a3", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pd"}},
			{name: "a4", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pe"}},
			{name: "a5", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pf"}}}, func(h *harness) {
			idx := &fakeIndex{alloc: []storiface.ID{"pa"}}
			for range 3 {
				h.req(storiface.TTAddPiece, 0, NewAllocSelector(idx, storiface.FTUnsealed, storiface.PathSealing))
			}
		}, []group{{storiface.TTAddPiece, 0, "queued", 3}}},
		{"unkeyed selectors merge by outcome", []box{c2("x"),
			{name: "a", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pa"}},
			{name: "b", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pb"}}}, func(h *harness) {
			idx := &fakeIndex{holds: map[abi.SectorID][]storiface.ID{}}
			for _, held := range []storiface.ID{"pz", "pa-gone", "pz", "pz"} {
				s := abi.SectorID{Miner: 1000, Number: abi.SectorNumber(h.n + 1)}
				idx.holds[s] = []storiface.ID{held}
				h.req(storiface.TTPreCommit2, 0, NewExistingSelector(idx, s, storiface.FTCache|storiface.FTSealed, false))
			}
		}, []group{{storiface.TTPreCommit2, 0, "queued", 4}}},
		{"move selectors merge by held paths", []box{c2("x"),
			{name: "a", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pa"}},
			{name: "b", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pb"}}}, func(h *harness) {
			// Best destination pa (worker a); no remote moves. Held nowhere: every worker rejects. Held on pb:
			// every worker rejects too, but Diag keys move selectors by the held paths, so it is its own group.
			idx := &fakeIndex{holds: map[abi.SectorID][]storiface.ID{}, alloc: []storiface.ID{"pa"}}
			for _, held := range []storiface.ID{"pz", "pb", "pz-other"} {
				s := abi.SectorID{Miner: 1000, Number: abi.SectorNumber(h.n + 1)}
				idx.holds[s] = []storiface.ID{held}
				h.req(storiface.TTFinalize, 0, NewMoveSelector(idx, s, storiface.FTSealed|storiface.FTCache,
					storiface.PathStorage, 1000, false))
			}
		}, []group{{storiface.TTFinalize, 0, "queued", 2}, {storiface.TTFinalize, 0, "queued", 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, CoreConfig{Windows: 1}, tc.boxes...)
			tc.queue(h)
			h.step()
			d := checkDiagGroups(t, h.c)
			if len(d.Requests) != len(tc.want) {
				t.Fatalf("%d groups %+v, want %d", len(d.Requests), d.Requests, len(tc.want))
			}
			for i, w := range tc.want {
				g := d.Requests[i]
				if g.Task != w.task || g.Priority != w.prio || g.State != w.state || g.Count != w.count {
					t.Errorf("group %d: %s prio %d %s ×%d, want %s prio %d %s ×%d", i, g.Task.Short(), g.Priority,
						g.State, g.Count, w.task.Short(), w.prio, w.state, w.count)
				}
			}
		})
	}
}

// TestDiagGroupsWhileBusy checks the grouping where answers depend on more than the request's class: requests
// waiting in windows and in a starvation reservation, requests ranked before and after a reservation holder, and
// unkeyed selectors whose outcome differs by sector. checkDiagGroups compares every listed request with its
// group after each scheduling step.
func TestDiagGroupsWhileBusy(t *testing.T) {
	t.Run("starvation reservation", func(t *testing.T) {
		h := newHarness(t, CoreConfig{StarvationAfter: 5 * time.Minute, Windows: 1},
			box{name: "w", cpus: 16, memGiB: 512, tasks: allTasks}, box{name: "v", cpus: 16, memGiB: 512, tasks: allTasks})
		var running []*Request
		for range 8 {
			h.req(storiface.TTAddPiece, 0, nil)
		}
		h.req(storiface.TTPreCommit2, 0, nil)
		h.req(storiface.TTPreCommit2, 0, nil)
		h.req(storiface.TTPreCommit2, 0, nil)
		reserved := false
		for round := range 12 {
			h.now = h.now.Add(time.Minute)
			h.req(storiface.TTAddPiece, 0, nil)
			h.req(storiface.TTAddPiece, round%2, nil)
			for _, a := range h.step() {
				if a.Kind == ActWork {
					running = append(running, a.Req)
				}
			}
			d := checkDiagGroups(t, h.c)
			for _, g := range d.Requests {
				reserved = reserved || g.Reserved
			}
			if len(running) > 0 && round%3 == 0 {
				h.finish(running[0])
				running = running[1:]
			}
		}
		if !reserved {
			t.Error("no request ever held a reservation: the scenario does not test reservations")
		}
	})
	t.Run("reservation rank splits", func(t *testing.T) {
		// Worker a runs two 2-thread PC2s on 4 cores; H waits in its window, starved, and holds its reservation.
		// X (older than H) and Y (newer) are alike but for their rank against H: once a PC2 ends, X could start on
		// a, while Y is held back by H's reservation.
		small := map[storiface.TaskType]map[abi.RegisteredSealProof]storiface.Resources{storiface.TTPreCommit2: {
			spt32: {MinMemory: 1 << 30, MaxMemory: 1 << 30, MaxParallelism: 2}}}
		idx := &fakeIndex{holds: map[abi.SectorID][]storiface.ID{}}
		h := newHarness(t, CoreConfig{Windows: 1, StarvationAfter: 5 * time.Minute},
			box{name: "a", cpus: 4, memGiB: 64, tasks: allTasks, paths: []storiface.ID{"pa"}, overrides: small})
		var first []*Request
		for range 2 {
			first = append(first, h.req(storiface.TTPreCommit2, 0, nil))
		}
		h.step()
		existing := func() (*Request, abi.SectorID) {
			s := abi.SectorID{Miner: 1000, Number: abi.SectorNumber(h.n + 1)}
			idx.holds[s] = []storiface.ID{"pz"}
			return h.req(storiface.TTPreCommit2, 0, NewExistingSelector(idx, s, storiface.FTCache|storiface.FTSealed, false)), s
		}
		h.now = h.now.Add(time.Second)
		x, xs := existing()
		h.now = h.now.Add(time.Second)
		hold := h.req(storiface.TTPreCommit2, 0, nil)
		h.now = h.now.Add(time.Second)
		y, ys := existing()
		h.now = h.now.Add(10 * time.Minute)
		h.step() // H goes to a's window
		h.step() // and, starved there, reserves a
		if !hold.reserved || x.State() != StateQueued || y.State() != StateQueued {
			t.Fatalf("setup: holder %v reserved %v, X %v, Y %v", hold.State(), hold.reserved, x.State(), y.State())
		}
		idx.holds[xs], idx.holds[ys] = []storiface.ID{"pa"}, []storiface.ID{"pa"}
		h.finish(first[0]) // no Step: the core is between an event and its next pass
		d := checkDiagGroups(t, h.c)
		for _, g := range d.Requests {
			if slices.Contains(g.IDs, x.ID) && slices.Contains(g.IDs, y.ID) {
				t.Fatalf("X and Y in one group %+v: their ranks against the reservation differ", g)
			}
		}
	})
	t.Run("unkeyed outcomes split", func(t *testing.T) {
		idx := &fakeIndex{holds: map[abi.SectorID][]storiface.ID{}}
		h := newHarness(t, CoreConfig{Windows: 1},
			box{name: "a", cpus: 16, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pa"}},
			box{name: "b", cpus: 16, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pb"}})
		heldOn := map[uuid.UUID]storiface.ID{}
		for i := range 12 {
			s := abi.SectorID{Miner: 1000, Number: abi.SectorNumber(h.n + 1)}
			p := []storiface.ID{"pa", "pb", "pz"}[i%3]
			idx.holds[s] = []storiface.ID{p}
			r := h.req(storiface.TTPreCommit2, 0, NewExistingSelector(idx, s, storiface.FTCache|storiface.FTSealed, false))
			heldOn[r.ID] = p
		}
		h.step()
		d := checkDiagGroups(t, h.c)
		queuedOn := map[storiface.ID]int{}
		for _, g := range d.Requests {
			if g.State != "queued" {
				continue
			}
			for _, id := range g.IDs[1:] {
				if heldOn[id] != heldOn[g.ID] {
					t.Errorf("a request held on %s is grouped with one held on %s", heldOn[id], heldOn[g.ID])
				}
			}
			queuedOn[heldOn[g.ID]]++
		}
		for _, p := range []storiface.ID{"pa", "pb", "pz"} {
			if queuedOn[p] != 1 {
				t.Errorf("queued requests held on %s: %d groups, want 1 (%v)", p, queuedOn[p], queuedOn)
			}
		}
	})
}

// TestDiagFilterAgrees checks that the selectors' diagFilter (used by Diag for the workers whose rejection it
// does not word) accepts exactly the workers Filter accepts, across holders, fetch and remote-move settings,
// best paths and free space.
func TestDiagFilterAgrees(t *testing.T) {
	boxes := []box{
		{name: "a", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pa"}},
		{name: "b", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pb"}},
		{name: "ab", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pa", "pb"}},
		{name: "c", cpus: 64, memGiB: 512, tasks: allTasks, paths: []storiface.ID{"pc"}},
		{name: "none", cpus: 64, memGiB: 512, tasks: allTasks},
		{name: "c2", cpus: 64, memGiB: 512, tasks: []storiface.TaskType{storiface.TTCommit2}, paths: []storiface.ID{"pa"}},
	}
	sector := abi.SectorID{Miner: 1000, Number: 1}
	ft := storiface.FTSealed | storiface.FTCache
	for _, held := range [][]storiface.ID{nil, {"pa"}, {"pb", "pc"}} {
		for _, alloc := range [][]storiface.ID{nil, {"pa"}, {"pb", "pa"}} {
			for _, free := range []map[storiface.ID]int64{nil, {"pa": 0, "pb": 1 << 40, "pc": 1 << 40}} {
				fi := &fakeIndex{holds: map[abi.SectorID][]storiface.ID{sector: held}, alloc: alloc, free: free}
				var idx Index = fi
				if free != nil {
					idx = spaceIndex{fi}
				}
				sels := map[string]Selector{}
				for _, flag := range []bool{false, true} {
					sels[fmt.Sprint("existing fetch=", flag)] = NewExistingSelector(idx, sector, ft, flag)
					sels[fmt.Sprint("move remote=", flag)] = NewMoveSelector(idx, sector, ft, storiface.PathStorage, 1000, flag)
				}
				for name, sel := range sels {
					t.Run(fmt.Sprintf("%s held %v best %v space %v", name, held, alloc, free != nil), func(t *testing.T) {
						h := newHarness(t, CoreConfig{}, boxes...)
						for _, wh := range h.c.Workers() {
							ok, _, err := sel.Filter(context.Background(), storiface.TTFinalize, spt32, wh)
							dok, derr := sel.(diagFilterer).diagFilter(context.Background(), storiface.TTFinalize, spt32, wh)
							if ok != dok || (err != nil) != (derr != nil) {
								t.Errorf("worker %s: Filter %v %v, diagFilter %v %v", wh.Info.Hostname, ok, err, dok, derr)
							}
						}
					})
				}
			}
		}
	}
}
