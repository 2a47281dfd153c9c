//go:build linux

package stores

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"sealfleet/storiface"
)

// mountTinyFS mounts a tmpfs of size (e.g. "12m") on a fresh temp dir, or skips the test when mounting is not
// permitted (not root, or no CAP_SYS_ADMIN in this container).
func mountTinyFS(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("disk-full test needs a tmpfs mount (run as root with CAP_SYS_ADMIN): mount: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// fillUp writes into name until the file system is full and returns the bytes written.
func fillUp(t *testing.T, name string, max int) int {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n := 0
	for n < max {
		k, err := f.Write(buf)
		n += k
		if err != nil {
			break
		}
	}
	return n
}

// TestFetchIntoAFillingPath fetches an 8MiB sealed file into a node whose best path is a 12 MiB tmpfs. The path
// has room when the space is reserved, but another process fills it as the transfer starts, so the write fails
// with ENOSPC part-way. The fetch must fail with a temporary error, release its reservation, leave no partial
// file (neither in the fetch temp dir nor at the final name) and declare nothing; the retry must then skip the
// full path and land the file, intact, on the other one.
func TestFetchIntoAFillingPath(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	content := pattern(8<<20, 3)
	src := newTestNode(t, idx, LocalStorageMeta{ID: "src", Weight: 1, CanStore: true})
	src.put(t, "src", storiface.FTSealed, map[string][]byte{"": content}, true)

	tinyMount := mountTinyFS(t, "12m")
	tinyRoot := filepath.Join(tinyMount, "tiny")
	if _, err := InitPath(tinyRoot, LocalStorageMeta{ID: "tiny", Weight: 1000, CanSeal: true}); err != nil {
		t.Fatal(err)
	}
	dfs := newFixedFS(t)
	bigRoot := newTestPath(t, dfs, LocalStorageMeta{ID: "big", Weight: 1, CanSeal: true}, 64<<20)
	dst := newTestLocal(t, dfs, idx, []string{"http://127.0.0.1:1/remote"}, tinyRoot, bigRoot)
	remote := NewRemote(dst, idx, RemoteOptions{Auth: http.Header{"Authorization": {testToken}}, Logger: testLogger})

	// The source, reached through a hook that fills the tiny path (leaving ~4 MiB) on the first transfer.
	var once sync.Once
	filled := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			once.Do(func() { filled = fillUp(t, filepath.Join(tinyMount, "other-process"), 8<<20) })
		}
		src.handler.ServeHTTP(w, r)
	}))
	defer hook.Close()
	info, err := idx.StorageInfo(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	info.URLs = []string{hook.URL + "/remote"} // re-attaching puts the hook's URL first
	if err := idx.StorageAttach(ctx, info, storiface.FsStat{Capacity: GiB, Available: GiB, FSAvailable: GiB}); err != nil {
		t.Fatal(err)
	}

	_, _, err = remote.AcquireSector(ctx, ref8M, storiface.FTSealed, 0, storiface.PathSealing, storiface.AcquireCopy)
	if err == nil {
		t.Fatal("fetch into a full path succeeded")
	}
	if filled == 0 {
		t.Fatal("the hook never filled the path")
	}
	if !errors.Is(err, syscall.ENOSPC) && !bytes.Contains([]byte(err.Error()), []byte("no space left")) {
		t.Fatalf("error %v does not say the disk is full", err)
	}
	if storiface.CodeOf(err) != storiface.ErrTempUnknown {
		t.Fatalf("error code %v, want a temporary code so the call is retried", storiface.CodeOf(err))
	}
	tiny, _ := dst.path("tiny")
	if r := tiny.reservedTotal(); r != 0 {
		t.Fatalf("%d bytes still reserved in the full path", r)
	}
	assertNoSectorFiles(t, tinyRoot)
	found, _ := idx.StorageFindSector(ctx, sec1, storiface.FTSealed, 0, false)
	if ids := foundIDs(found); len(ids) != 1 || ids[0] != "src" {
		t.Fatalf("after the failed fetch the sector is declared in %v, want only src", ids)
	}

	// The retry: the tiny path no longer has room for the reservation, so the file goes to the other path.
	paths, ids, err := remote.AcquireSector(ctx, ref8M, storiface.FTSealed, 0, storiface.PathSealing, storiface.AcquireCopy)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if ids.Sealed != "big" {
		t.Fatalf("retry landed in %q, want big", ids.Sealed)
	}
	if !bytes.Equal(readFile(t, paths.Sealed), content) {
		t.Fatal("retried fetch: content differs")
	}
	big, _ := dst.path("big")
	if tiny.reservedTotal() != 0 || big.reservedTotal() != 0 {
		t.Fatalf("reservations left after the retry: tiny %d, big %d", tiny.reservedTotal(), big.reservedTotal())
	}
	assertNoSectorFiles(t, tinyRoot)
}

// assertNoSectorFiles fails if any regular file other than the path's metadata is under root.
func assertNoSectorFiles(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() != MetaFile {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
