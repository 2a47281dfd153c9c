package sched

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/storiface"
)

const spt32 = abi.RegisteredSealProof_StackedDrg32GiBV1_1

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// box describes a test worker's resources.
type box struct {
	name      string
	cpus      uint64
	memGiB    uint64
	swapGiB   uint64
	gpus      int
	tasks     []storiface.TaskType
	paths     []storiface.ID
	overrides map[storiface.TaskType]map[abi.RegisteredSealProof]storiface.Resources
}

func (b box) info() storiface.WorkerInfo {
	wr := storiface.WorkerResources{MemPhysical: b.memGiB << 30, MemSwap: b.swapGiB << 30, CPUs: b.cpus,
		Resources: b.overrides}
	for i := 0; i < b.gpus; i++ {
		wr.GPUs = append(wr.GPUs, fmt.Sprintf("gpu%d", i))
	}
	return storiface.WorkerInfo{Hostname: b.name, Name: b.name, Resources: wr}
}

func (b box) taskSet() map[storiface.TaskType]struct{} {
	m := map[storiface.TaskType]struct{}{}
	for _, tt := range b.tasks {
		m[tt] = struct{}{}
	}
	return m
}

func (b box) storagePaths() []storiface.StoragePath {
	var out []storiface.StoragePath
	for _, id := range b.paths {
		out = append(out, storiface.StoragePath{ID: id, CanSeal: true, CanStore: true})
	}
	return out
}

// wid derives a stable worker ID from a name, so tests are deterministic.
func wid(name string) storiface.WorkerID {
	return storiface.WorkerID(uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)))
}

var allTasks = []storiface.TaskType{storiface.TTAddPiece, storiface.TTPreCommit1, storiface.TTPreCommit2,
	storiface.TTCommit1, storiface.TTCommit2, storiface.TTFinalize}

// harness drives a core with a virtual clock and records what runs where.
type harness struct {
	t       *testing.T
	c       *Core
	now     time.Time
	n       int
	running map[uuid.UUID]storiface.WorkerID // preparing or running
	log     []Action
	prep    bool // new requests have a prepare step
}

func newHarness(t *testing.T, cfg CoreConfig, boxes ...box) *harness {
	t.Helper()
	c, err := NewCore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, c: c, now: t0, running: map[uuid.UUID]storiface.WorkerID{}}
	for _, b := range boxes {
		h.addWorker(b)
	}
	return h
}

func (h *harness) addWorker(b box) {
	h.t.Helper()
	if err := h.c.AddWorker(wid(b.name), b.info(), b.taskSet(), b.storagePaths()); err != nil {
		h.t.Fatal(err)
	}
}

// req queues a request with a task selector unless sel is given.
func (h *harness) req(task storiface.TaskType, prio int, sel Selector) *Request {
	h.t.Helper()
	h.n++
	if sel == nil {
		sel = NewTaskSelector()
	}
	r := &Request{ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte(fmt.Sprint(h.n))),
		Sector: storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: abi.SectorNumber(h.n)}, ProofType: spt32},
		Task:   task, Priority: prio, Sel: sel, Added: h.now, Ctx: context.Background(), HasPrepare: h.prep}
	if err := h.c.AddRequest(r); err != nil {
		h.t.Fatal(err)
	}
	return r
}

// step runs the core and applies its actions: prepare steps complete at once (so tasks go straight to running).
func (h *harness) step() []Action {
	h.t.Helper()
	var all []Action
	for i := 0; i < 10; i++ {
		acts := h.c.Step(h.now)
		if len(acts) == 0 {
			break
		}
		for _, a := range acts {
			all = append(all, a)
			h.running[a.Req.ID] = a.Worker
			if a.Kind == ActPrepare {
				if err := h.c.PrepareDone(a.Req.ID, nil); err != nil {
					h.t.Fatal(err)
				}
			}
		}
	}
	h.log = append(h.log, all...)
	return all
}

func (h *harness) finish(r *Request) {
	h.t.Helper()
	if err := h.c.WorkDone(r.ID); err != nil {
		h.t.Fatal(err)
	}
	delete(h.running, r.ID)
}

// perWorker counts started requests per worker name.
func (h *harness) perWorker(boxes ...box) map[string]int {
	out := map[string]int{}
	for _, w := range h.running {
		for _, b := range boxes {
			if wid(b.name) == w {
				out[b.name]++
			}
		}
	}
	return out
}

func (h *harness) workerOf(r *Request) string {
	w, ok := h.running[r.ID]
	if !ok {
		return ""
	}
	for _, wh := range h.c.Workers() {
		if wh.ID == w {
			return wh.Info.Hostname
		}
	}
	return "?"
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fakeIndex is an in-memory Index for tests: which paths hold which sector files, which paths BestAlloc offers,
// and (optionally) free space per path. Test-only.
type fakeIndex struct {
	holds map[abi.SectorID][]storiface.ID
	alloc []storiface.ID
	free  map[storiface.ID]int64 // nil: not a SpaceReporter answer (see spaceIndex)
	calls int
}

func (f *fakeIndex) StorageFindSector(_ context.Context, s abi.SectorID, _ storiface.SectorFileType, _ abi.SectorSize, allowFetch bool) ([]storiface.SectorStorageInfo, error) {
	f.calls++
	var out []storiface.SectorStorageInfo
	seen := map[storiface.ID]bool{}
	for _, id := range f.holds[s] {
		out = append(out, storiface.SectorStorageInfo{ID: id, CanSeal: true})
		seen[id] = true
	}
	if allowFetch {
		for _, id := range f.alloc {
			if !seen[id] {
				out = append(out, storiface.SectorStorageInfo{ID: id, CanSeal: true})
			}
		}
	}
	return out, nil
}

func (f *fakeIndex) StorageBestAlloc(context.Context, storiface.SectorFileType, abi.SectorSize, storiface.PathType, abi.ActorID) ([]storiface.StorageInfo, error) {
	f.calls++
	var out []storiface.StorageInfo
	for _, id := range f.alloc {
		out = append(out, storiface.StorageInfo{ID: id, CanSeal: true, CanStore: true})
	}
	return out, nil
}

func (f *fakeIndex) StorageInfo(_ context.Context, id storiface.ID) (storiface.StorageInfo, error) {
	return storiface.StorageInfo{ID: id}, nil
}

// spaceIndex adds free-space reports to fakeIndex.
type spaceIndex struct{ *fakeIndex }

func (s spaceIndex) StorageStat(_ context.Context, id storiface.ID) (storiface.FsStat, error) {
	return storiface.FsStat{FSAvailable: s.free[id]}, nil
}

var _ SpaceReporter = spaceIndex{}
