//go:build linux

package worker

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/db"
	"sealfleet/seal"
	"sealfleet/seal/native"
	"sealfleet/stores"
	"sealfleet/storiface"
	"sealfleet/worker/workertest"
)

// fillingBackend is the native backend with a hook run as PreCommit1 starts (after the space was reserved).
type fillingBackend struct {
	seal.Backend
	beforePC1 func()
}

func (b fillingBackend) SealPreCommit1(ctx context.Context, s storiface.SectorRef, p storiface.SectorPaths,
	ticket abi.SealRandomness, pieces []abi.PieceInfo) (storiface.PreCommit1Out, error) {
	b.beforePC1()
	return b.Backend.SealPreCommit1(ctx, s, p, ticket, pieces)
}

// TestPreCommit1OnAFillingPath runs a real PreCommit1 (native backend, real stores) on a worker whose best
// sealing path is a 128 KiB tmpfs. The space is reserved, then another process fills the path so that only two
// pages stay free: the sealed copy and layer 1 fit, layer 2 fails with ENOSPC. The call must return that error
// to the manager, remove every file it wrote (sealed, cache, temporaries), release its reservation and declare
// nothing; the retried call must put the cache (which no longer fits) on the other path and succeed.
func TestPreCommit1OnAFillingPath(t *testing.T) {
	ctx := context.Background()
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=128k"); err != nil {
		t.Skipf("disk-full test needs a tmpfs mount (root with CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	d, err := db.OpenSQLite(filepath.Join(t.TempDir(), "worker.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	log := slog.New(slog.DiscardHandler)
	idx, err := stores.NewIndex(ctx, d, stores.IndexOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	local, err := stores.NewLocal(ctx, stores.NewFileLocalStorage(filepath.Join(t.TempDir(), "storage.json")), idx,
		stores.LocalOptions{URLs: []string{"http://127.0.0.1:1/remote"}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	tiny, big := filepath.Join(mnt, "tiny"), filepath.Join(t.TempDir(), "big")
	for root, meta := range map[string]stores.LocalStorageMeta{
		tiny: {ID: "tiny", Weight: 1 << 30, CanSeal: true}, big: {ID: "big", Weight: 1, CanSeal: true},
	} {
		if _, err := stores.InitPath(root, meta); err != nil {
			t.Fatal(err)
		}
		if err := local.AttachPath(ctx, root); err != nil {
			t.Fatal(err)
		}
	}
	remote := stores.NewRemote(local, idx, stores.RemoteOptions{Auth: http.Header{}, Logger: log})
	var once sync.Once
	nb := native.New(native.Config{ParentsCacheDir: t.TempDir()})
	t.Cleanup(func() { nb.Close() })
	backend := fillingBackend{Backend: nb, beforePC1: func() {
		once.Do(func() { fillLeaving(t, filepath.Join(mnt, "other-process"), 8<<10) })
	}}
	ret := workertest.NewReturns()
	w, err := New(ctx, Config{Name: "fault", TaskTypes: storiface.AllTaskTypes(), Clock: workertest.NewClock(), ParallelFetchLimit: 1},
		Deps{Backend: backend, Store: remote, Index: idx, Local: local, Return: ret, DB: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })

	id, err := w.AddPiece(ctx, testSector, nil, abi.PaddedPieceSize(2048).Unpadded(), storiface.PieceData{})
	if err != nil {
		t.Fatal(err)
	}
	ap := waitAcked(t, ret, id)
	if ap.Err != nil {
		t.Fatal(ap.Err)
	}
	pieces := []abi.PieceInfo{ap.Value.(abi.PieceInfo)}
	ticket := make([]byte, 32)

	id, err = w.SealPreCommit1(ctx, testSector, ticket, pieces)
	if err != nil {
		t.Fatal(err)
	}
	got := waitAcked(t, ret, id)
	if got.Err == nil || !strings.Contains(got.Err.Message, "no space left") {
		t.Fatalf("PreCommit1 on a full path returned %v, want a no-space error", got.Err)
	}
	checkClean(t, ctx, local, idx, tiny)

	id, err = w.SealPreCommit1(ctx, testSector, ticket, pieces)
	if err != nil {
		t.Fatal(err)
	}
	if got := waitAcked(t, ret, id); got.Err != nil {
		t.Fatalf("retried PreCommit1: %v", got.Err)
	}
	// The path's free 8 KiB still fit the 2 KiB sealed file but not the cache's 28 KiB reservation: the cache
	// (where layer 2 failed) must now be in the other path; whatever the call left in the small one is declared.
	cache, _ := idx.StorageFindSector(ctx, testSector.ID, storiface.FTCache, 0, false)
	if len(cache) != 1 || cache[0].ID != "big" {
		t.Fatalf("retry declared the cache in %v, want big", cache)
	}
	st, _ := local.FsStat(ctx, "tiny")
	if st.Reserved != 0 {
		t.Fatalf("%d bytes still reserved in the full path after the retry", st.Reserved)
	}
	sealed, _ := idx.StorageFindSector(ctx, testSector.ID, storiface.FTSealed, 0, false)
	sealedInTiny := len(sealed) == 1 && sealed[0].ID == "tiny"
	_ = filepath.WalkDir(tiny, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == stores.MetaFile || inTypeDir(p, "unsealed") || (sealedInTiny && inTypeDir(p, "sealed") && !strings.HasSuffix(p, tmpSuffix)) {
			return nil
		}
		t.Errorf("undeclared file in the full path after the retry: %s", p)
		return nil
	})
}

// inTypeDir reports whether p lies in a path's directory for file type dir ("sealed", "unsealed").
func inTypeDir(p, dir string) bool {
	sep := string(filepath.Separator)
	return strings.Contains(p, sep+dir+sep)
}

// fillLeaving fills the file system of name until it is full, then frees leave bytes.
func fillLeaving(t *testing.T, name string, leave int64) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var n int64
	for {
		k, err := f.Write(buf)
		n += int64(k)
		if err != nil {
			break
		}
	}
	if err := f.Truncate(max(n-leave, 0)); err != nil {
		t.Fatal(err)
	}
}

// checkClean asserts that the tiny path holds no reservation, no sealed or cache file of the sector, and has
// nothing of them declared (after the failed call).
func checkClean(t *testing.T, ctx context.Context, local *stores.Local, idx *stores.Index, root string) {
	t.Helper()
	st, err := local.FsStat(ctx, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if st.Reserved != 0 {
		t.Fatalf("%d bytes still reserved in the full path", st.Reserved)
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !inTypeDir(p, "unsealed") && d.Name() != stores.MetaFile {
			t.Errorf("left behind in the full path: %s", p)
		}
		return nil
	})
	found, _ := idx.StorageFindSector(ctx, testSector.ID, storiface.FTSealed|storiface.FTCache, 0, false)
	for _, f := range found {
		if f.ID == "tiny" {
			t.Fatalf("sealed/cache declared in the full path")
		}
	}
}
