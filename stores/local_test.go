package stores

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// ref8M is a sector of 8 MiB (v1.1 proof): sealing needs 8 MiB sealed + 112 MiB cache.
var ref8M = storiface.SectorRef{ID: sec1, ProofType: abi.RegisteredSealProof_StackedDrg8MiBV1_1}

const MiB = 1 << 20

func TestMetaValidate(t *testing.T) {
	ok := LocalStorageMeta{ID: "x", CanSeal: true}
	tests := []struct {
		name    string
		edit    func(m *LocalStorageMeta)
		wantErr string
	}{
		{"valid", func(m *LocalStorageMeta) {}, ""},
		{"no id", func(m *LocalStorageMeta) { m.ID = "" }, "ID is empty"},
		{"slash in id", func(m *LocalStorageMeta) { m.ID = "a/b" }, "separator"},
		{"neither seal nor store", func(m *LocalStorageMeta) { m.CanSeal = false }, "CanSeal and CanStore"},
		{"bad allow type", func(m *LocalStorageMeta) { m.AllowTypes = []string{"seal"} }, "AllowTypes"},
		{"bad deny miner", func(m *LocalStorageMeta) { m.DenyMiners = []string{"t0x"} }, "DenyMiners"},
		{"leading zero miner", func(m *LocalStorageMeta) { m.AllowMiners = []string{"t001"} }, "AllowMiners"},
		{"empty group", func(m *LocalStorageMeta) { m.Groups = []string{" "} }, "Groups"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := ok
			tc.edit(&m)
			err := m.Validate()
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestInitPathAndReadMeta(t *testing.T) {
	root := filepath.Join(t.TempDir(), "p")
	m, err := InitPath(root, LocalStorageMeta{Weight: 10, CanSeal: true, MaxStorage: 5 * GiB})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == "" {
		t.Fatal("no ID generated")
	}
	got, err := ReadMeta(root)
	if err != nil || got.ID != m.ID || got.MaxStorage != 5*GiB {
		t.Fatalf("read back %+v %v", got, err)
	}
	for _, ft := range storiface.PathTypes {
		if fi, err := os.Stat(filepath.Join(root, ft.String())); err != nil || !fi.IsDir() {
			t.Fatalf("%s dir: %v", ft, err)
		}
	}
	if _, err := InitPath(root, LocalStorageMeta{CanSeal: true}); err == nil {
		t.Fatal("second init must fail")
	}
	if _, err := InitPath(filepath.Join(t.TempDir(), "q"), LocalStorageMeta{}); err == nil {
		t.Fatal("init without seal/store must fail")
	}
	if err := os.WriteFile(filepath.Join(root, MetaFile), []byte(`{"ID":"x","CanSeal":true,"Wieght":3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMeta(root); err == nil || !strings.Contains(err.Error(), "Wieght") {
		t.Fatalf("unknown field accepted: %v", err)
	}
}

func TestLocalOpenDeclareDetachRedeclare(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	fs := newFixedFS(t)
	root := newTestPath(t, fs, LocalStorageMeta{ID: "p1", Weight: 5, CanSeal: true, CanStore: true}, 0)
	// Files present before the path is attached are declared; junk and fetch leftovers are not.
	writeFile(t, storiface.SectorPathIn(root, storiface.FTSealed, sec1), 100)
	writeFile(t, filepath.Join(root, "sealed", "notasector"), 1)
	writeFile(t, filepath.Join(root, "sealed", FetchTempSubdir, storiface.SectorName(sec2)), 1)
	l := newTestLocal(t, fs, idx, []string{"http://n1/remote"}, root)

	list, _ := idx.StorageList(ctx)
	if want := []storiface.Decl{{SectorID: sec1, SectorFileType: storiface.FTSealed}}; !slices.Equal(list["p1"], want) {
		t.Fatalf("declared %v, want %v", list["p1"], want)
	}
	if _, err := os.Stat(filepath.Join(root, "sealed", FetchTempSubdir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("fetch temp dir not cleaned: %v", err)
	}
	found, _ := idx.StorageFindSector(ctx, sec1, storiface.FTSealed, 0, false)
	if len(found) != 1 || !found[0].Primary {
		t.Fatalf("found %+v", found)
	}
	cfg, _ := fs.GetStorage()
	if len(cfg.StoragePaths) != 1 || cfg.StoragePaths[0].Path != root {
		t.Fatalf("storage.json %+v", cfg)
	}

	t.Run("attach twice refused", func(t *testing.T) {
		if err := l.AttachPath(ctx, root); err == nil {
			t.Fatal("want error")
		}
	})
	t.Run("redeclare picks up new files and drops missing", func(t *testing.T) {
		writeFile(t, storiface.SectorPathIn(root, storiface.FTUnsealed, sec2), 10)
		if err := os.Remove(storiface.SectorPathIn(root, storiface.FTSealed, sec1)); err != nil {
			t.Fatal(err)
		}
		id := storiface.ID("p1")
		if err := l.Redeclare(ctx, &id, true); err != nil {
			t.Fatal(err)
		}
		list, _ := idx.StorageList(ctx)
		if want := []storiface.Decl{{SectorID: sec2, SectorFileType: storiface.FTUnsealed}}; !slices.Equal(list["p1"], want) {
			t.Fatalf("after redeclare %v, want %v", list["p1"], want)
		}
	})
	t.Run("redeclare sees new settings", func(t *testing.T) {
		m, _ := ReadMeta(root)
		m.Weight = 99
		if err := writeJSONAtomic(filepath.Join(root, MetaFile), m); err != nil {
			t.Fatal(err)
		}
		if err := l.Redeclare(ctx, nil, false); err != nil {
			t.Fatal(err)
		}
		if si, _ := idx.StorageInfo(ctx, "p1"); si.Weight != 99 {
			t.Fatalf("weight %d", si.Weight)
		}
	})
	t.Run("detach", func(t *testing.T) {
		if err := l.DetachPath(ctx, root); err != nil {
			t.Fatal(err)
		}
		if _, err := idx.StorageInfo(ctx, "p1"); !errors.Is(err, ErrStorageNotFound) {
			t.Fatalf("still in index: %v", err)
		}
		cfg, _ := fs.GetStorage()
		if len(cfg.StoragePaths) != 0 {
			t.Fatalf("storage.json %+v", cfg)
		}
		// Reopening the node opens nothing.
		l2 := newTestLocal(t, fs, idx, nil)
		if ps, _ := l2.Local(ctx); len(ps) != 0 {
			t.Fatalf("reopened %v", ps)
		}
	})
}

func writeFile(t testing.TB, name string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReserveConcurrentNeverOvercommits(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	fs := newFixedFS(t)
	const slots = 4
	root := newTestPath(t, fs, LocalStorageMeta{ID: "p", Weight: 1, CanSeal: true}, 0)
	fs.setCapacity(root, slots*8*MiB+64*1024) // room for four sealed files, plus metadata blocks
	l := newTestLocal(t, fs, idx, nil, root)
	ids := storiface.SectorPaths{Sealed: "p"}

	const n = 32
	var wg sync.WaitGroup
	releases := make(chan func(), n)
	var failures sync.Map
	for k := range n {
		wg.Go(func() {
			ref := storiface.SectorRef{ID: abi.SectorID{Miner: 1, Number: abi.SectorNumber(k)}, ProofType: ref8M.ProofType}
			rel, err := l.Reserve(ctx, ref, storiface.FTSealed, ids, storiface.PathSealing)
			if err != nil {
				if storiface.CodeOf(err) != storiface.ErrTempAllocateSpace {
					failures.Store(k, err)
				}
				return
			}
			releases <- rel
		})
	}
	wg.Wait()
	close(releases)
	failures.Range(func(k, v any) bool { t.Errorf("reserve %v: unexpected error %v", k, v); return true })
	var got []func()
	for r := range releases {
		got = append(got, r)
	}
	if len(got) != slots {
		t.Fatalf("%d reservations granted, want exactly %d", len(got), slots)
	}
	st, _ := l.FsStat(ctx, "p")
	if st.Reserved != slots*8*MiB || st.FSAvailable >= 8*MiB {
		t.Fatalf("stat after reserving: %+v", st)
	}
	for _, r := range got {
		r()
		r() // idempotent
	}
	p, _ := l.path("p")
	if p.reservedTotal() != 0 {
		t.Fatalf("reserved %d after release", p.reservedTotal())
	}
}

func TestReserveCountsWrittenBytesOnce(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	fs := newFixedFS(t)
	root := newTestPath(t, fs, LocalStorageMeta{ID: "p", Weight: 1, CanSeal: true, MaxStorage: 20 * MiB}, 0)
	l := newTestLocal(t, fs, idx, nil, root)
	rel, err := l.Reserve(ctx, ref8M, storiface.FTSealed, storiface.SectorPaths{Sealed: "p"}, storiface.PathSealing)
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	before, _ := l.FsStat(ctx, "p")
	writeFile(t, storiface.SectorPathIn(root, storiface.FTSealed, sec1)+TempSuffix, 4*MiB) // half written, in place
	after, _ := l.FsStat(ctx, "p")
	if after.Reserved != before.Reserved-4*MiB {
		t.Fatalf("reserved %d -> %d, want it to shrink by what is written", before.Reserved, after.Reserved)
	}
	if d := before.FSAvailable - after.FSAvailable; d < 0 || d > 64*1024 {
		t.Fatalf("available changed by %d while writing into a reservation (MaxStorage applies)", d)
	}
	// MaxStorage: 20 MiB cap, 8 MiB promised: another 8 MiB fits, a third does not.
	ref2 := storiface.SectorRef{ID: sec2, ProofType: ref8M.ProofType}
	rel2, err := l.Reserve(ctx, ref2, storiface.FTSealed, storiface.SectorPaths{Sealed: "p"}, storiface.PathSealing)
	if err != nil {
		t.Fatal(err)
	}
	defer rel2()
	ref3 := storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: 3}, ProofType: ref8M.ProofType}
	if _, err := l.Reserve(ctx, ref3, storiface.FTSealed, storiface.SectorPaths{Sealed: "p"}, storiface.PathSealing); storiface.CodeOf(err) != storiface.ErrTempAllocateSpace {
		t.Fatalf("over MaxStorage: %v", err)
	}
}

func TestReserveAllOrNothing(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	fs := newFixedFS(t)
	big := newTestPath(t, fs, LocalStorageMeta{ID: "big", Weight: 1, CanSeal: true}, GiB)
	small := newTestPath(t, fs, LocalStorageMeta{ID: "small", Weight: 1, CanSeal: true}, MiB)
	l := newTestLocal(t, fs, idx, nil, big, small)
	_, err := l.Reserve(ctx, ref8M, storiface.FTSealed|storiface.FTCache, storiface.SectorPaths{Sealed: "big", Cache: "small"}, storiface.PathSealing)
	if storiface.CodeOf(err) != storiface.ErrTempAllocateSpace || !strings.Contains(err.Error(), "small") {
		t.Fatalf("err %v", err)
	}
	p, _ := l.path("big")
	if p.reservedTotal() != 0 {
		t.Fatal("partial reservation left behind")
	}
}

func TestAllocateAndReserveSpreadsOverPaths(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	fs := newFixedFS(t)
	a := newTestPath(t, fs, LocalStorageMeta{ID: "a", Weight: 10, CanSeal: true}, 3*8*MiB+64*1024)
	b := newTestPath(t, fs, LocalStorageMeta{ID: "b", Weight: 10, CanSeal: true}, 2*8*MiB+64*1024)
	l := newTestLocal(t, fs, idx, nil, a, b)
	var mu sync.Mutex
	perPath := map[string]int{}
	var wg sync.WaitGroup
	for k := range 10 {
		wg.Go(func() {
			ref := storiface.SectorRef{ID: abi.SectorID{Miner: 1, Number: abi.SectorNumber(k)}, ProofType: ref8M.ProofType}
			_, ids, _, err := l.AllocateAndReserve(ctx, ref, storiface.FTSealed, storiface.PathSealing)
			if err != nil {
				return
			}
			mu.Lock()
			perPath[ids.Sealed]++
			mu.Unlock()
		})
	}
	wg.Wait()
	// The index's figures may be stale, so callers that lose a race on one path move on to the next.
	if perPath["a"] != 3 || perPath["b"] != 2 {
		t.Fatalf("allocations per path %v, want a:3 b:2", perPath)
	}
}

func TestLocalAcquireAndMove(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	fs := newFixedFS(t)
	seal := newTestPath(t, fs, LocalStorageMeta{ID: "seal", Weight: 10, CanSeal: true}, 0)
	store := newTestPath(t, fs, LocalStorageMeta{ID: "store", Weight: 10, CanStore: true}, 0)
	l := newTestLocal(t, fs, idx, nil, seal, store)

	paths, ids, err := l.AcquireSector(ctx, ref8M, 0, storiface.FTSealed|storiface.FTCache, storiface.PathSealing, storiface.AcquireMove)
	if err != nil {
		t.Fatal(err)
	}
	if ids.Sealed != "seal" || ids.Cache != "seal" || paths.Sealed != storiface.SectorPathIn(seal, storiface.FTSealed, sec1) {
		t.Fatalf("allocated %+v %+v", paths, ids)
	}
	writeFile(t, paths.Sealed, 1000)
	writeFile(t, filepath.Join(paths.Cache, "p_aux"), 64)
	for _, ft := range []storiface.SectorFileType{storiface.FTSealed, storiface.FTCache} {
		if err := idx.StorageDeclareSector(ctx, "seal", sec1, ft, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := l.AcquireSector(ctx, ref8M, storiface.FTSealed, storiface.FTSealed, storiface.PathSealing, storiface.AcquireMove); storiface.CodeOf(err) != storiface.ErrBadInput {
		t.Fatalf("existing and allocate overlap: %v", err)
	}
	if err := l.MoveStorage(ctx, ref8M, storiface.FTSealed|storiface.FTCache); err != nil {
		t.Fatal(err)
	}
	found, _ := idx.StorageFindSector(ctx, sec1, storiface.FTSealed|storiface.FTCache, 0, false)
	if !slices.Equal(foundIDs(found), []storiface.ID{"store"}) || !found[0].Primary {
		t.Fatalf("after move: %+v", found)
	}
	if _, err := os.Stat(filepath.Join(storiface.SectorPathIn(store, storiface.FTCache, sec1), "p_aux")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(paths.Sealed); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("source left: %v", err)
	}
	if err := l.Remove(ctx, sec1, storiface.FTSealed|storiface.FTCache, false, nil); err != nil {
		t.Fatal(err)
	}
	if found, _ := idx.StorageFindSector(ctx, sec1, storiface.FTSealed|storiface.FTCache, 0, false); len(found) != 0 {
		t.Fatalf("after remove: %+v", found)
	}
	if err := l.Remove(ctx, sec1, storiface.FTSealed, false, nil); err == nil {
		t.Fatal("removing an undeclared file without force must fail")
	}
}

func TestLocalRunReportsHealth(t *testing.T) {
	idx, clk, _ := newTestIndex(t)
	fs := newFixedFS(t)
	root := newTestPath(t, fs, LocalStorageMeta{ID: "p", Weight: 1, CanSeal: true}, GiB)
	rec := &recordingIndex{Index: idx, reports: make(chan storiface.HealthReport, 16)}
	ticks := make(chan time.Time)
	l, err := NewLocal(context.Background(), fs, rec, LocalOptions{Logger: testLogger, NewTicker: func(time.Duration) (<-chan time.Time, func()) {
		return ticks, func() {}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AttachPath(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	<-rec.reports // at start
	drain(rec.reports)

	clk.Advance(2 * time.Minute) // stale now
	if _, err := idx.StorageBestAlloc(ctx, storiface.FTSealed, 2048, storiface.PathSealing, 1); err == nil {
		t.Fatal("stale path offered")
	}
	ticks <- clk.Now()
	if r := <-rec.reports; r.Err != "" || r.Stat.Capacity != GiB {
		t.Fatalf("report %+v", r)
	}
	if _, err := idx.StorageBestAlloc(ctx, storiface.FTSealed, 2048, storiface.PathSealing, 1); err != nil {
		t.Fatalf("after heartbeat: %v", err)
	}

	fs.setStatErr(root, errors.New("I/O error"))
	ticks <- clk.Now()
	if r := <-rec.reports; !strings.Contains(r.Err, "I/O error") {
		t.Fatalf("report %+v", r)
	}
	if _, err := idx.StorageBestAlloc(ctx, storiface.FTSealed, 2048, storiface.PathSealing, 1); err == nil || !strings.Contains(err.Error(), "I/O error") {
		t.Fatalf("failing path offered: %v", err)
	}
	fs.setStatErr(root, nil)
	rel, err := l.Reserve(ctx, ref8M, storiface.FTSealed, storiface.SectorPaths{Sealed: "p"}, storiface.PathSealing)
	if err != nil {
		t.Fatal(err)
	}
	if r := <-rec.reports; r.Stat.Reserved != 8*MiB { // early report after a reservation, no tick needed
		t.Fatalf("report after reserve %+v", r)
	}
	rel()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// recordingIndex passes through to an Index and records health reports.
type recordingIndex struct {
	*Index
	reports chan storiface.HealthReport
}

func (r *recordingIndex) StorageReportHealth(ctx context.Context, id storiface.ID, rep storiface.HealthReport) error {
	err := r.Index.StorageReportHealth(ctx, id, rep)
	r.reports <- rep
	return err
}

func drain[T any](c chan T) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// walkCountingFS counts the walks of path roots (DiskUsage of a root).
type walkCountingFS struct {
	*fixedFS
	root  string
	walks atomic.Int64
}

func (w *walkCountingFS) DiskUsage(p string) (int64, error) {
	if p == w.root {
		w.walks.Add(1)
	}
	return w.fixedFS.DiskUsage(p)
}

func TestMaxStorageUsedWithoutWalks(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	base := newFixedFS(t)
	root := newTestPath(t, base, LocalStorageMeta{ID: "p", Weight: 1, CanSeal: true, MaxStorage: 100 * MiB}, 0)
	fs := &walkCountingFS{fixedFS: base, root: root}
	l, err := NewLocal(ctx, fs, idx, LocalOptions{Logger: testLogger})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AttachPath(ctx, root); err != nil {
		t.Fatal(err)
	}
	st0, _ := l.FsStat(ctx, "p")
	walks := fs.walks.Load()

	rel, err := l.Reserve(ctx, ref8M, storiface.FTSealed, storiface.SectorPaths{Sealed: "p"}, storiface.PathSealing)
	if err != nil {
		t.Fatal(err)
	}
	name := storiface.SectorPathIn(root, storiface.FTSealed, sec1)
	writeFile(t, name+TempSuffix, 5*MiB)
	st1, _ := l.FsStat(ctx, "p")
	if d := st1.Used - st0.Used; d < 5*MiB || d > 5*MiB+64*1024 {
		t.Fatalf("used grew by %d while writing 5 MiB (%+v -> %+v)", d, st0, st1)
	}
	if st1.FSAvailable != st0.FSAvailable-8*MiB-(st1.Used-st0.Used-5*MiB) {
		t.Fatalf("available %d -> %d: the reservation must count once", st0.FSAvailable, st1.FSAvailable)
	}
	if err := os.Rename(name+TempSuffix, name); err != nil {
		t.Fatal(err)
	}
	rel()
	st2, _ := l.FsStat(ctx, "p")
	if st2.Used != st1.Used || st2.Reserved != 0 {
		t.Fatalf("after release: used %d (was %d), reserved %d", st2.Used, st1.Used, st2.Reserved)
	}
	if fs.walks.Load() != walks {
		t.Fatalf("%d walks of the path during reservations", fs.walks.Load()-walks)
	}
	if err := idx.StorageDeclareSector(ctx, "p", sec1, storiface.FTSealed, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(ctx, sec1, storiface.FTSealed, false, nil); err != nil {
		t.Fatal(err)
	}
	st3, _ := l.FsStat(ctx, "p")
	if st3.Used != st0.Used || fs.walks.Load() != walks+1 {
		t.Fatalf("after remove: used %d (want %d), walks %d", st3.Used, st0.Used, fs.walks.Load()-walks)
	}
}

func TestMovePathAcrossFilesystems(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "sealfleet-move-")
	if err != nil {
		t.Skip("no /dev/shm to move across filesystems from")
	}
	defer os.RemoveAll(shm)
	dst := t.TempDir()
	tests := []struct {
		name  string
		files map[string]int // relative name -> size; "" is the source itself as a file
	}{
		{"file", map[string]int{"": 3000}},
		{"directory", map[string]int{"p_aux": 64, "sub/tree.dat": 5000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := filepath.Join(shm, tc.name)
			for rel, size := range tc.files {
				writeBytes(t, filepath.Join(from, rel), pattern(size, byte(size)))
			}
			to := filepath.Join(dst, "final", tc.name)
			if err := movePath(from, to, filepath.Join(dst, FetchTempSubdir, tc.name)); err != nil {
				t.Fatal(err)
			}
			for rel, size := range tc.files {
				if got := readFile(t, filepath.Join(to, rel)); !bytes.Equal(got, pattern(size, byte(size))) {
					t.Fatalf("%s differs", rel)
				}
			}
			if _, err := os.Stat(from); !os.IsNotExist(err) {
				t.Fatalf("source left: %v", err)
			}
			if ents, _ := os.ReadDir(filepath.Join(dst, FetchTempSubdir)); len(ents) != 0 {
				t.Fatalf("temp left: %v", ents)
			}
		})
	}
}
