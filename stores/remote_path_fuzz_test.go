package stores

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// FuzzRemotePath sends arbitrary GET/HEAD paths and queries through the /remote handler of a node holding one
// declared sealed file, an undeclared file and a declared symlink out of its path. Nothing may panic, no answer
// may be a 5xx, and no answer may carry the undeclared file, the symlink's target or the path's metadata file.
func FuzzRemotePath(f *testing.F) {
	idx, _, _ := newTestIndex(f)
	n := newTestNode(f, idx, LocalStorageMeta{ID: "p", Weight: 1, CanSeal: true, CanStore: true})
	n.put(f, "p", storiface.FTSealed, map[string][]byte{"": pattern(4096, 1)}, true)
	n.put(f, "p", storiface.FTUnsealed, map[string][]byte{"": pattern(2048, 9)}, true)
	root, _ := n.local.root("p")
	writeBytes(f, storiface.SectorPathIn(root, storiface.FTSealed, abi.SectorID{Miner: 1000, Number: 2}), []byte("UNDECLARED-SECRET"))
	outside := filepath.Join(f.TempDir(), "outside")
	writeBytes(f, outside, []byte("OUTSIDE-SECRET"))
	sec3 := abi.SectorID{Miner: 1000, Number: 3}
	if err := os.Symlink(outside, storiface.SectorPathIn(root, storiface.FTSealed, sec3)); err != nil {
		f.Fatal(err)
	}
	if err := idx.StorageDeclareSector(context.Background(), "p", sec3, storiface.FTSealed, true); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"/remote/sealed/s-t01000-1", "/remote/sealed/s-t01000-2", "/remote/sealed/s-t01000-3",
		"/remote/stat/p", "/remote/sectorstore.json", "/remote/sealed/../sectorstore.json",
		"/remote/%2e%2e/sealed/s-t01000-2", "/remote/sealed/s-t01000-1%00", "/remote/unsealed/s-t01000-1/5/allocated/0/1016",
		"/remote/unsealed/s-t01000-1/5/allocated/18446744073709551615/1016", "/remote//sealed//s-t01000-1",
		"/remote/cache/s-t01000-1?x=1", "/remote/sealed/s-t01000-1/..", `/remote/sealed\..\sectorstore.json`,
	} {
		f.Add(s, false)
	}
	leaks := [][]byte{[]byte("UNDECLARED-SECRET"), []byte("OUTSIDE-SECRET"), []byte("CanSeal")}
	f.Fuzz(func(t *testing.T, target string, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		req, err := http.NewRequest(method, "http://node"+target, nil)
		if err != nil {
			return // not a URL a client could send
		}
		req.Header.Set("Authorization", testToken)
		rec := httptest.NewRecorder()
		n.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", method, target, rec.Code, rec.Body.Bytes())
		}
		for _, l := range leaks {
			if bytes.Contains(rec.Body.Bytes(), l) {
				t.Fatalf("%s %q leaked %q", method, target, l)
			}
		}
	})
}
