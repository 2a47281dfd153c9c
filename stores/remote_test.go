package stores

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sealfleet/storiface"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRemoteFetchBetweenNodes(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	a := newTestNode(t, idx, LocalStorageMeta{ID: "a", Weight: 10, CanSeal: true, CanStore: true})
	b := newTestNode(t, idx, LocalStorageMeta{ID: "b", Weight: 10, CanSeal: true, CanStore: true})
	sealed := pattern(300_000, 1)
	cache := map[string][]byte{"p_aux": pattern(64, 2), "sub/tree.dat": pattern(50_000, 3)}
	a.put(t, "a", storiface.FTSealed, map[string][]byte{"": sealed}, true)
	a.put(t, "a", storiface.FTCache, cache, true)

	t.Run("b copies sealed and cache from a", func(t *testing.T) {
		paths, ids, err := b.remote.AcquireSector(ctx, ref8M, storiface.FTSealed|storiface.FTCache, 0, storiface.PathStorage, storiface.AcquireCopy)
		if err != nil {
			t.Fatal(err)
		}
		if ids.Sealed != "b" || ids.Cache != "b" {
			t.Fatalf("ids %+v", ids)
		}
		if !bytes.Equal(readFile(t, paths.Sealed), sealed) || !bytes.Equal(readFile(t, filepath.Join(paths.Cache, "sub/tree.dat")), cache["sub/tree.dat"]) {
			t.Fatal("fetched content differs")
		}
		found, _ := idx.StorageFindSector(ctx, sec1, storiface.FTSealed, 0, false)
		if !slices.Equal(foundIDs(found), []storiface.ID{"a", "b"}) || found[1].Primary {
			t.Fatalf("after copy: %+v", found)
		}
		hits := a.hits.Load()
		if _, _, err := b.remote.AcquireSector(ctx, ref8M, storiface.FTSealed, 0, storiface.PathStorage, storiface.AcquireCopy); err != nil || a.hits.Load() != hits {
			t.Fatalf("second acquire fetched again (%v)", err)
		}
	})
	t.Run("a moves unsealed from b", func(t *testing.T) {
		unsealed := pattern(20_000, 7)
		srcName := b.put(t, "b", storiface.FTUnsealed, map[string][]byte{"": unsealed}, true)
		paths, _, err := a.remote.AcquireSector(ctx, ref8M, storiface.FTUnsealed, 0, storiface.PathSealing, storiface.AcquireMove)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readFile(t, paths.Unsealed), unsealed) {
			t.Fatal("moved content differs")
		}
		found, _ := idx.StorageFindSector(ctx, sec1, storiface.FTUnsealed, 0, false)
		if !slices.Equal(foundIDs(found), []storiface.ID{"a"}) || !found[0].Primary {
			t.Fatalf("after move: %+v", found)
		}
		if _, err := os.Stat(srcName); !os.IsNotExist(err) {
			t.Fatalf("source not deleted: %v", err)
		}
	})
	t.Run("remove everywhere", func(t *testing.T) {
		if err := b.remote.Remove(ctx, sec1, storiface.FTSealed, false, nil); err != nil {
			t.Fatal(err)
		}
		if found, _ := idx.StorageFindSector(ctx, sec1, storiface.FTSealed, 0, false); len(found) != 0 {
			t.Fatalf("left: %+v", found)
		}
	})
	t.Run("remote stat", func(t *testing.T) {
		st, err := b.remote.FsStat(ctx, "a")
		if err != nil || st.Capacity <= 0 {
			t.Fatalf("%+v %v", st, err)
		}
	})
}

func TestRemoteMoveWhoseSourceCannotDelete(t *testing.T) {
	// A moves b's cache while b cannot delete (it went down): b's declaration is dropped at once, so no task is
	// placed on the stale copy, and when b opens its path again the copy, primary in a now, stays undeclared.
	// A copy whose other declarations are all non-primary is still declared on reopening.
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	a := newTestNode(t, idx, LocalStorageMeta{ID: "a", Weight: 10, CanSeal: true})
	b := newTestNode(t, idx, LocalStorageMeta{ID: "b", Weight: 10, CanSeal: true})
	srcName := b.put(t, "b", storiface.FTCache, map[string][]byte{"t_aux": pattern(64, 5)}, true)
	b.put(t, "b", storiface.FTSealed, map[string][]byte{"": pattern(4096, 6)}, true)
	b.failDeletes.Store(true)
	if _, _, err := a.remote.AcquireSector(ctx, ref8M, storiface.FTCache, 0, storiface.PathSealing, storiface.AcquireMove); err != nil {
		t.Fatal(err)
	}
	found, _ := idx.StorageFindSector(ctx, sec1, storiface.FTCache, 0, false)
	if !slices.Equal(foundIDs(found), []storiface.ID{"a"}) || !found[0].Primary {
		t.Fatalf("after the move: %+v", found)
	}
	if _, err := os.Stat(srcName); err != nil {
		t.Fatalf("the source copy should still be on disk (its node could not delete it): %v", err)
	}
	// a copies b's sealed file (non-primary in a); then b's node restarts and redeclares.
	if _, _, err := a.remote.AcquireSector(ctx, ref8M, storiface.FTSealed, 0, storiface.PathSealing, storiface.AcquireCopy); err != nil {
		t.Fatal(err)
	}
	if err := idx.StorageDropSector(ctx, "b", sec1, storiface.FTSealed); err != nil {
		t.Fatal(err)
	}
	if err := b.local.Redeclare(ctx, nil, false); err != nil {
		t.Fatal(err)
	}
	found, _ = idx.StorageFindSector(ctx, sec1, storiface.FTCache, 0, false)
	if !slices.Equal(foundIDs(found), []storiface.ID{"a"}) {
		t.Fatalf("the leftover cache was declared again: %+v", found)
	}
	found, _ = idx.StorageFindSector(ctx, sec1, storiface.FTSealed, 0, false)
	if !slices.Contains(foundIDs(found), "b") {
		t.Fatalf("b's sealed file (only a non-primary copy elsewhere) was not declared again: %+v", found)
	}
}

// attachSource registers a path served by an arbitrary URL and declares sec1's sealed file in it.
func attachSource(t *testing.T, idx *Index, id string, weight uint64, u string) {
	t.Helper()
	si := storiface.StorageInfo{ID: storiface.ID(id), URLs: []string{u}, Weight: weight, CanStore: true}
	if err := idx.StorageAttach(context.Background(), si, storiface.FsStat{Capacity: GiB, Available: GiB, FSAvailable: GiB}); err != nil {
		t.Fatal(err)
	}
	if err := idx.StorageDeclareSector(context.Background(), storiface.ID(id), sec1, storiface.FTSealed, false); err != nil {
		t.Fatal(err)
	}
}

func TestRemoteSourceOrderAndFallback(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	low := newTestNode(t, idx, LocalStorageMeta{ID: "low", Weight: 5, CanStore: true})
	high := newTestNode(t, idx, LocalStorageMeta{ID: "high", Weight: 50, CanStore: true})
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/remote"
	dead.Close()
	attachSource(t, idx, "dead", 100, deadURL)
	content := pattern(10_000, 5)
	low.put(t, "low", storiface.FTSealed, map[string][]byte{"": content}, false)
	high.put(t, "high", storiface.FTSealed, map[string][]byte{"": content}, false)
	f := newTestNode(t, idx, LocalStorageMeta{ID: "f", Weight: 1, CanSeal: true, CanStore: true})

	paths, _, err := f.remote.AcquireSector(ctx, ref8M, storiface.FTSealed, 0, storiface.PathSealing, storiface.AcquireCopy)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, paths.Sealed), content) {
		t.Fatal("content differs")
	}
	if high.hits.Load() != 1 || low.hits.Load() != 0 {
		t.Fatalf("hits high=%d low=%d: want the highest-weight live source only", high.hits.Load(), low.hits.Load())
	}
}

func TestRemoteInterruptedFetch(t *testing.T) {
	const size = 1 << 20
	tests := []struct {
		name   string
		cancel bool // cancel the caller's ctx mid-transfer; otherwise the source drops the connection
	}{
		{"source drops the connection", false},
		{"caller cancels", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idx, _, _ := newTestIndex(t)
			started := make(chan struct{})
			src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", contentTypeFile)
				w.Header().Set("Content-Length", strconv.Itoa(size))
				if r.Method == http.MethodHead {
					return
				}
				w.Write(pattern(size/2, 1)) //nolint:errcheck // the test reads the failure on the other side
				w.(http.Flusher).Flush()
				close(started)
				if tc.cancel {
					<-r.Context().Done()
					return
				}
				panic(http.ErrAbortHandler)
			}))
			defer src.Close()
			attachSource(t, idx, "src", 100, src.URL+"/remote")
			f := newTestNode(t, idx, LocalStorageMeta{ID: "f", Weight: 1, CanSeal: true})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				go func() { <-started; cancel() }()
			}
			_, _, err := f.remote.AcquireSector(ctx, ref8M, storiface.FTSealed, 0, storiface.PathSealing, storiface.AcquireCopy)
			if err == nil {
				t.Fatal("fetch of a truncated transfer succeeded")
			}
			if tc.cancel && !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			if !tc.cancel && storiface.CodeOf(err) != storiface.ErrTempUnknown {
				t.Fatalf("err %v, want a temporary error code", err)
			}
			found, _ := idx.StorageFindSector(context.Background(), sec1, storiface.FTSealed, 0, false)
			if !slices.Equal(foundIDs(found), []storiface.ID{"src"}) {
				t.Fatalf("partial file declared: %v", foundIDs(found))
			}
			root, _ := f.local.root("f")
			for _, name := range []string{filepath.Join(root, "sealed", FetchTempSubdir, "s-t01000-1"), storiface.SectorPathIn(root, storiface.FTSealed, sec1)} {
				if _, err := os.Stat(name); !os.IsNotExist(err) {
					t.Fatalf("%s left behind: %v", name, err)
				}
			}
			p, _ := f.local.path("f")
			if p.reservedTotal() != 0 {
				t.Fatalf("%d bytes still reserved", p.reservedTotal())
			}
		})
	}
}

func TestRemoteOneFetchPerSector(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	a := newTestNode(t, idx, LocalStorageMeta{ID: "a", Weight: 10, CanStore: true})
	a.put(t, "a", storiface.FTSealed, map[string][]byte{"": pattern(200_000, 3)}, true)
	b := newTestNode(t, idx, LocalStorageMeta{ID: "b", Weight: 10, CanSeal: true})
	var wg sync.WaitGroup
	got := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			paths, _, err := b.remote.AcquireSector(ctx, ref8M, storiface.FTSealed, 0, storiface.PathSealing, storiface.AcquireCopy)
			if err != nil {
				t.Error(err)
				return
			}
			got <- paths.Sealed
		})
	}
	wg.Wait()
	close(got)
	var first string
	for p := range got {
		if first == "" {
			first = p
		}
		if p != first {
			t.Fatalf("different paths %s and %s", first, p)
		}
	}
	if n := a.hits.Load(); n != 1 {
		t.Fatalf("%d fetches of one sector, want 1", n)
	}
}

func TestRemoteParallelRanges(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	a := newTestNode(t, idx, LocalStorageMeta{ID: "a", Weight: 10, CanStore: true})
	content := pattern(6<<20-1000, 4)
	a.put(t, "a", storiface.FTSealed, map[string][]byte{"": content}, true)
	b := newTestNode(t, idx, LocalStorageMeta{ID: "b", Weight: 10, CanSeal: true})
	b.remote = NewRemote(b.local, idx, RemoteOptions{Auth: http.Header{"Authorization": {testToken}}, Streams: 3,
		ParallelMin: 1 << 20, Logger: testLogger})
	paths, _, err := b.remote.AcquireSector(ctx, ref8M, storiface.FTSealed, 0, storiface.PathSealing, storiface.AcquireCopy)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, paths.Sealed), content) {
		t.Fatal("content differs")
	}
	if n := a.hits.Load(); n != 3 {
		t.Fatalf("%d range GETs, want 3", n)
	}
}

func TestRemoteParallelRangeFailure(t *testing.T) {
	const size = 4 << 20
	idx, _, _ := newTestIndex(t)
	content := pattern(size, 6)
	var gets atomic.Int64
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentTypeFile)
		if r.Method == http.MethodGet && gets.Add(1) == 2 {
			w.Header().Set("Content-Range", "bytes 0-1/2") // a wrong range: must be refused
			w.WriteHeader(http.StatusPartialContent)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
	}))
	defer src.Close()
	attachSource(t, idx, "src", 100, src.URL+"/remote")
	f := newTestNode(t, idx, LocalStorageMeta{ID: "f", Weight: 1, CanSeal: true})
	f.remote = NewRemote(f.local, idx, RemoteOptions{Streams: 4, ParallelMin: 1 << 20, Logger: testLogger})
	if _, _, err := f.remote.AcquireSector(context.Background(), ref8M, storiface.FTSealed, 0, storiface.PathSealing, storiface.AcquireCopy); err == nil {
		t.Fatal("a fetch with a bad range succeeded")
	}
	root, _ := f.local.root("f")
	if ents, _ := os.ReadDir(filepath.Join(root, "sealed", FetchTempSubdir)); len(ents) != 0 {
		t.Fatalf("temp files left: %v", ents)
	}
	if found, _ := idx.StorageFindSector(context.Background(), sec1, storiface.FTSealed, 0, false); len(found) != 1 {
		t.Fatalf("declared: %v", foundIDs(found))
	}
}

func TestRemoteRemoveCopiesKeepsPrimary(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	a := newTestNode(t, idx, LocalStorageMeta{ID: "a", Weight: 10, CanStore: true})
	b := newTestNode(t, idx, LocalStorageMeta{ID: "b", Weight: 10, CanSeal: true})
	c := newTestNode(t, idx, LocalStorageMeta{ID: "c", Weight: 10, CanSeal: true})
	content := map[string][]byte{"": pattern(1000, 1)}
	primary := a.put(t, "a", storiface.FTSealed, content, true)
	copyB := b.put(t, "b", storiface.FTSealed, content, false)
	copyC := c.put(t, "c", storiface.FTSealed, content, false)
	if err := b.remote.RemoveCopies(ctx, sec1, storiface.FTSealed); err != nil {
		t.Fatal(err)
	}
	found, _ := idx.StorageFindSector(ctx, sec1, storiface.FTSealed, 0, false)
	if !slices.Equal(foundIDs(found), []storiface.ID{"a"}) {
		t.Fatalf("left: %v", foundIDs(found))
	}
	for name, want := range map[string]bool{primary: true, copyB: false, copyC: false} {
		if _, err := os.Stat(name); (err == nil) != want {
			t.Fatalf("%s exists=%v, want %v", name, err == nil, want)
		}
	}
}
