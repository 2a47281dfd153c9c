package manager

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-jsonrpc/auth"

	"sealfleet/api"
	"sealfleet/sched"
	"sealfleet/stores"
	"sealfleet/storiface"
	"sealfleet/worker/workertest"
)

// storageNode is a manager over a real SQLite index and a real stores.Local, served over HTTP.
type storageNode struct {
	m     *Manager
	idx   *stores.Index
	local *stores.Local
	url   string
}

func newStorageNode(t *testing.T) *storageNode {
	t.Helper()
	ctx := context.Background()
	r := newRig(t)
	d := r.openDB()
	idx, err := stores.NewIndex(ctx, d, stores.IndexOptions{StaleAfter: time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	local, err := stores.NewLocal(ctx, stores.NewFileLocalStorage(filepath.Join(t.TempDir(), "storage.json")), idx,
		stores.LocalOptions{URLs: []string{"http://127.0.0.1:1/remote"}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sched.New(sched.Config{Clock: sched.NewFakeClock(time.Unix(0, 0)), SessionInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go s.Run(sctx)
	st, err := workertest.NewStore(ctx, t.TempDir(), workertest.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(ctx, Config{Sealer: DefaultSealerConfig(), Logger: quiet},
		Deps{Index: idx, Local: local, Store: st, Sched: s, DB: d, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	srv := httptest.NewServer(m.Handler(local, nil))
	t.Cleanup(srv.Close)
	return &storageNode{m: m, idx: idx, local: local, url: srv.URL}
}

// client dials the node's RPC API with a token carrying perms.
func (n *storageNode) client(t *testing.T, perms []auth.Permission) api.Manager {
	t.Helper()
	tok, err := api.NewToken(testSecret, perms)
	if err != nil {
		t.Fatal(err)
	}
	c, closer, err := api.NewManagerClient(context.Background(), api.Info{URL: n.url, Token: tok},
		api.ClientOptions{Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closer)
	return c
}

// newPath makes an initialised storage path directory with the given ID.
func newPath(t *testing.T, id string) string {
	t.Helper()
	root := t.TempDir()
	meta := `{"ID":"` + id + `","Weight":10,"CanSeal":true,"CanStore":true}`
	if err := os.WriteFile(filepath.Join(root, stores.MetaFile), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestStorageRedeclareAndPathsOverRPC(t *testing.T) {
	ctx := context.Background()
	n := newStorageNode(t)
	admin := n.client(t, api.AllPermissions)
	reader := n.client(t, []auth.Permission{api.PermRead})
	root := newPath(t, "p1")
	if err := admin.StorageAddLocal(ctx, root); err != nil {
		t.Fatal(err)
	}
	id := storiface.ID("p1")
	sealed := storiface.SectorPathIn(root, storiface.FTSealed, testSector.ID)
	declared := func(t *testing.T) []storiface.Decl {
		t.Helper()
		list, err := admin.StorageList(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return list[id]
	}
	files := func(t *testing.T) int {
		t.Helper()
		paths, err := reader.StoragePaths(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(paths) != 1 || paths[0].Info.ID != id {
			t.Fatalf("StoragePaths = %+v, want the one path p1", paths)
		}
		if !paths[0].Healthy || paths[0].Stat.Capacity == 0 {
			t.Fatalf("path p1 %+v: want healthy with a capacity", paths[0])
		}
		return paths[0].Files
	}

	t.Run("new file declared by redeclare", func(t *testing.T) {
		if err := os.WriteFile(sealed, make([]byte, 2048), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := files(t); got != 0 {
			t.Fatalf("files before redeclare %d, want 0", got)
		}
		if err := admin.StorageRedeclareLocal(ctx, &id, false); err != nil {
			t.Fatal(err)
		}
		want := []storiface.Decl{{SectorID: testSector.ID, SectorFileType: storiface.FTSealed}}
		if got := declared(t); len(got) != 1 || got[0] != want[0] {
			t.Fatalf("declared %v, want %v", got, want)
		}
		if got := files(t); got != 1 {
			t.Fatalf("files after redeclare %d, want 1", got)
		}
	})
	t.Run("missing file kept without dropMissing", func(t *testing.T) {
		if err := os.Remove(sealed); err != nil {
			t.Fatal(err)
		}
		if err := admin.StorageRedeclareLocal(ctx, nil, false); err != nil {
			t.Fatal(err)
		}
		if got := declared(t); len(got) != 1 {
			t.Fatalf("declared %v, want the old declaration kept", got)
		}
	})
	t.Run("missing file dropped with dropMissing", func(t *testing.T) {
		if err := admin.StorageRedeclareLocal(ctx, nil, true); err != nil {
			t.Fatal(err)
		}
		if got := declared(t); len(got) != 0 {
			t.Fatalf("declared %v, want none", got)
		}
		if got := files(t); got != 0 {
			t.Fatalf("files %d, want 0", got)
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		bad := storiface.ID("nope")
		if err := admin.StorageRedeclareLocal(ctx, &bad, false); err == nil {
			t.Fatal("redeclaring an unknown path succeeded")
		}
	})
	t.Run("read token cannot redeclare", func(t *testing.T) {
		err := reader.StorageRedeclareLocal(ctx, nil, false)
		if err == nil || !strings.Contains(err.Error(), "admin") {
			t.Fatalf("err %v, want a missing admin permission", err)
		}
	})
}

func TestStorageRedeclareWithoutLocal(t *testing.T) {
	r := newRig(t)
	n := r.startManager(false)
	n.m.deps.Local = nil
	if err := n.m.StorageRedeclareLocal(r.ctx, nil, false); err == nil {
		t.Fatal("redeclare on a manager without local paths succeeded")
	}
	if _, err := n.m.StoragePaths(r.ctx); err == nil {
		t.Fatal("StoragePaths on an index that cannot describe paths succeeded")
	}
}
