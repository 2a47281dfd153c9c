package stores

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"sealfleet/db"
	"sealfleet/storiface"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestIndex opens an index on a fresh SQLite file with a fake clock.
func newTestIndex(t testing.TB) (*Index, *fakeClock, string) {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "index.db")
	d, err := db.OpenSQLite(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	clk := newFakeClock()
	idx, err := NewIndex(context.Background(), d, IndexOptions{Now: clk.Now, StaleAfter: time.Minute, Logger: testLogger})
	if err != nil {
		t.Fatal(err)
	}
	return idx, clk, dbPath
}

// pathSpec builds a StorageInfo for tests.
type pathSpec struct {
	id         string
	weight     uint64
	seal       bool
	store      bool
	avail      int64
	groups     []string
	allowTo    []string
	allowTypes []string
	denyTypes  []string
	allowMin   []string
	denyMin    []string
}

func (p pathSpec) info() storiface.StorageInfo {
	return storiface.StorageInfo{
		ID: storiface.ID(p.id), URLs: []string{"http://" + p.id + ".example:2345/remote"}, Weight: p.weight,
		CanSeal: p.seal, CanStore: p.store, Groups: p.groups, AllowTo: p.allowTo,
		AllowTypes: p.allowTypes, DenyTypes: p.denyTypes, AllowMiners: p.allowMin, DenyMiners: p.denyMin,
	}
}

func attachAll(t testing.TB, idx *Index, specs ...pathSpec) {
	t.Helper()
	for _, p := range specs {
		st := storiface.FsStat{Capacity: 1 << 50, Available: p.avail, FSAvailable: p.avail}
		if err := idx.StorageAttach(context.Background(), p.info(), st); err != nil {
			t.Fatalf("attach %s: %v", p.id, err)
		}
	}
}

func foundIDs(xs []storiface.SectorStorageInfo) []storiface.ID {
	out := []storiface.ID{}
	for _, x := range xs {
		out = append(out, x.ID)
	}
	return out
}

func allocIDs(xs []storiface.StorageInfo) []storiface.ID {
	out := []storiface.ID{}
	for _, x := range xs {
		out = append(out, x.ID)
	}
	return out
}

// yieldCPU lets other goroutines run while a test polls state that they change (not a timed sleep).
func yieldCPU() { runtime.Gosched() }

// fixedFS is a LocalStorage whose filesystem has a fixed capacity per path root: what the files under the root
// occupy is what is used (storage.json is kept in a real file).
type fixedFS struct {
	*FileLocalStorage
	mu       sync.Mutex
	capacity map[string]int64
	failStat map[string]error
}

func newFixedFS(t testing.TB) *fixedFS {
	return &fixedFS{FileLocalStorage: NewFileLocalStorage(filepath.Join(t.TempDir(), "storage.json")),
		capacity: map[string]int64{}, failStat: map[string]error{}}
}

func (f *fixedFS) setCapacity(root string, c int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.capacity[root] = c
}

func (f *fixedFS) setStatErr(root string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failStat[root] = err
}

func (f *fixedFS) Stat(root string) (storiface.FsStat, error) {
	f.mu.Lock()
	c, ok := f.capacity[root]
	err := f.failStat[root]
	f.mu.Unlock()
	if err != nil {
		return storiface.FsStat{}, err
	}
	if !ok {
		return StatFS(root)
	}
	used, err := DiskUsage(root)
	if err != nil {
		return storiface.FsStat{}, err
	}
	return storiface.FsStat{Capacity: c, Available: max(c-used, 0), FSAvailable: max(c-used, 0)}, nil
}

// newTestPath initialises a storage path in a temp dir with meta and a capacity in fs.
func newTestPath(t testing.TB, fs *fixedFS, meta LocalStorageMeta, capacity int64) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), string(meta.ID))
	if _, err := InitPath(root, meta); err != nil {
		t.Fatal(err)
	}
	if capacity > 0 {
		fs.setCapacity(root, capacity)
	}
	return root
}

// newTestLocal makes a Local on fs and idx and attaches roots.
func newTestLocal(t testing.TB, fs *fixedFS, idx SectorIndex, urls []string, roots ...string) *Local {
	t.Helper()
	l, err := NewLocal(context.Background(), fs, idx, LocalOptions{URLs: urls, Logger: testLogger})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roots {
		if err := l.AttachPath(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func writeBytes(t testing.TB, name string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pattern returns n deterministic, non-repeating-looking bytes.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for k := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[k] = byte(x)
	}
	return b
}

// testLogger drops the stores' logs in tests (set SEALFLEET_TEST_LOGS=1 to see them).
var testLogger = func() *slog.Logger {
	if os.Getenv("SEALFLEET_TEST_LOGS") != "" {
		return slog.Default()
	}
	return slog.New(slog.DiscardHandler)
}()
