package worker_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/manager"
	"sealfleet/sched"
	"sealfleet/stores"
	"sealfleet/storiface"
	"sealfleet/worker"
	"sealfleet/worker/workertest"
)

// TestTwoNodeSealing seals a sector across two nodes built from the real parts on loopback: a manager node
// (SQL index, a long-term storage path, /remote, an embedded worker that may only fetch, finalize and run C1)
// and a remote worker daemon with a sealing path. AP, PC1, PC2, C1, C2 and FIN run on the remote worker; the
// move to long-term storage runs on the manager node, which fetches the sealed and cache files from the
// worker's /remote with its token.
func TestTwoNodeSealing(t *testing.T) {
	ctx := context.Background()
	secret := bytes.Repeat([]byte{5}, api.SecretSize)
	tok, _ := api.NewToken(secret, api.AllPermissions)
	auth := api.Info{Token: tok}.Header()
	backend := workertest.NewBackend()

	mdb, err := db.OpenSQLite(t.TempDir() + "/manager.db")
	if err != nil {
		t.Fatal(err)
	}
	defer mdb.Close()
	idx, err := stores.NewIndex(ctx, mdb, stores.IndexOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	lst, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mURL := "http://" + lst.Addr().String()
	mrepo := t.TempDir()
	local, err := stores.NewLocal(ctx, stores.NewFileLocalStorage(filepath.Join(mrepo, "storage.json")), idx,
		stores.LocalOptions{URLs: []string{mURL + "/remote"}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(mrepo, "store")
	if _, err := stores.InitPath(storePath, stores.LocalStorageMeta{Weight: 10, CanStore: true}); err != nil {
		t.Fatal(err)
	}
	if err := local.AttachPath(ctx, storePath); err != nil {
		t.Fatal(err)
	}
	s, err := sched.New(sched.Config{Clock: sched.NewFakeClock(time.Unix(0, 0)), SessionInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stopSched := context.WithCancel(ctx)
	defer stopSched()
	go s.Run(sctx)
	defer s.Close(ctx)
	m, err := manager.New(ctx, manager.Config{Logger: quiet, Sealer: manager.SealerConfig{ParallelFetchLimit: 2}},
		manager.Deps{Index: idx, Local: local, Store: stores.NewRemote(local, idx, stores.RemoteOptions{Auth: auth}),
			Sched: s, DB: mdb, Secret: secret, Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := &http.Server{Handler: m.Handler(local, nil)}
	go srv.Serve(lst)
	defer srv.Close()

	clock := workertest.NewClock()
	d, err := worker.StartDaemon(ctx, worker.DaemonConfig{
		Manager: api.Info{Token: tok, URL: mURL}, Listen: "127.0.0.1:0", Repo: t.TempDir(), Logger: quiet,
		Worker: worker.Config{Name: "sealer", TaskTypes: storiface.AllTaskTypes(), IgnoreResources: true, Clock: clock},
	}, worker.DaemonDeps{Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	clock.WaitAfter() // connected

	sector := storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: 9}, ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1}
	size := abi.PaddedPieceSize(2048).Unpadded()
	pi, err := m.AddPiece(ctx, sector, nil, size, storiface.PieceData{})
	if err != nil {
		t.Fatal("AP:", err)
	}
	pieces := []abi.PieceInfo{pi}
	ticket, seed := abi.SealRandomness{1}, abi.InteractiveSealRandomness{2}
	pc1o, err := m.SealPreCommit1(ctx, sector, ticket, pieces)
	if err != nil {
		t.Fatal("PC1:", err)
	}
	cids, err := m.SealPreCommit2(ctx, sector, pc1o)
	if err != nil {
		t.Fatal("PC2:", err)
	}
	c1o, err := m.SealCommit1(ctx, sector, ticket, seed, pieces, cids)
	if err != nil {
		t.Fatal("C1:", err)
	}
	if _, err := m.SealCommit2(ctx, sector, c1o); err != nil {
		t.Fatal("C2:", err)
	}
	if err := m.FinalizeSector(ctx, sector); err != nil {
		t.Fatal("FIN:", err)
	}
	if err := m.MoveStorage(ctx, sector, storiface.FTSealed|storiface.FTCache); err != nil {
		t.Fatal("move to storage:", err)
	}
	storeID, err := storeIDOf(ctx, local, storePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, ft := range []storiface.SectorFileType{storiface.FTSealed, storiface.FTCache} {
		found, err := idx.StorageFindSector(ctx, sector.ID, ft, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].ID != storeID {
			t.Fatalf("%s after finalize is declared in %+v, want only the manager's storage path %s", ft, found, storeID)
		}
	}
}

func storeIDOf(ctx context.Context, local *stores.Local, root string) (storiface.ID, error) {
	paths, err := local.Local(ctx)
	if err != nil {
		return "", err
	}
	for _, p := range paths {
		if p.LocalPath == root {
			return p.ID, nil
		}
	}
	return "", nil
}
