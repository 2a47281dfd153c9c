package stores

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"sealfleet/storiface"
)

const testToken = "Bearer admin-token"

// fakeAuth accepts only the test's admin token (a stand-in for the API package's JWT check).
func fakeAuth(r *http.Request) error {
	switch r.Header.Get("Authorization") {
	case testToken:
		return nil
	case "":
		return errors.New("no token")
	default:
		return errors.New("token refused")
	}
}

// testNode is one node of an in-process cluster: storage paths, Local, /remote server and Remote store.
type testNode struct {
	local   *Local
	remote  *Remote
	handler *FetchHandler
	srv     *httptest.Server
	url     string
	hits    atomic.Int64 // GETs of sector files served
	// failDeletes makes the node answer every DELETE with 503, as a node that went down after serving a fetch.
	failDeletes atomic.Bool
	fs          *fixedFS
}

// newTestNode starts a node on a real loopback HTTP server, its paths attached to the shared index.
func newTestNode(t testing.TB, idx SectorIndex, metas ...LocalStorageMeta) *testNode {
	t.Helper()
	n := &testNode{fs: newFixedFS(t)}
	var h atomic.Pointer[FetchHandler]
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			n.hits.Add(1)
		}
		if r.Method == http.MethodDelete && n.failDeletes.Load() {
			http.Error(w, "node down", http.StatusServiceUnavailable)
			return
		}
		h.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(n.srv.Close)
	n.url = n.srv.URL + "/remote"
	var roots []string
	for _, m := range metas {
		roots = append(roots, newTestPath(t, n.fs, m, 0))
	}
	n.local = newTestLocal(t, n.fs, idx, []string{n.url}, roots...)
	n.handler = NewFetchHandler(n.local, fakeAuth, nil)
	h.Store(n.handler)
	n.remote = NewRemote(n.local, idx, RemoteOptions{Auth: http.Header{"Authorization": {testToken}}, Logger: testLogger})
	return n
}

// put writes a sector file (or a cache dir with files) into a node's path and declares it.
func (n *testNode) put(t testing.TB, id storiface.ID, ft storiface.SectorFileType, content map[string][]byte, primary bool) string {
	t.Helper()
	name, err := n.local.LocalPathOf(id, sec1, ft)
	if err != nil {
		t.Fatal(err)
	}
	if ft == storiface.FTCache {
		for f, b := range content {
			writeBytes(t, name+"/"+f, b)
		}
	} else {
		writeBytes(t, name, content[""])
	}
	if err := n.local.index.StorageDeclareSector(context.Background(), id, sec1, ft, primary); err != nil {
		t.Fatal(err)
	}
	return name
}
