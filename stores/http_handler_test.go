package stores

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

func doReq(t *testing.T, method, u, token string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestFetchHandler(t *testing.T) {
	idx, _, _ := newTestIndex(t)
	n := newTestNode(t, idx, LocalStorageMeta{ID: "p", Weight: 1, CanSeal: true, CanStore: true})
	sealed := pattern(100_000, 1)
	n.put(t, "p", storiface.FTSealed, map[string][]byte{"": sealed}, true)
	n.put(t, "p", storiface.FTUnsealed, map[string][]byte{"": pattern(2048, 9)}, true)
	cache := map[string][]byte{"p_aux": pattern(64, 2), "t_aux": pattern(300, 3), "sc-02-data-tree-r-last.dat": pattern(70_000, 4)}
	n.put(t, "p", storiface.FTCache, cache, true)
	root, _ := n.local.root("p")
	// On disk but not declared: must not be served.
	writeBytes(t, storiface.SectorPathIn(root, storiface.FTSealed, sec2), []byte("secret"))
	// A symlink out of the path, declared: must not be served.
	outside := filepath.Join(t.TempDir(), "outside")
	writeBytes(t, outside, []byte("outside"))
	sec3 := abi.SectorID{Miner: 1000, Number: 3}
	if err := os.Symlink(outside, storiface.SectorPathIn(root, storiface.FTSealed, sec3)); err != nil {
		t.Fatal(err)
	}
	if err := idx.StorageDeclareSector(context.Background(), "p", sec3, storiface.FTSealed, true); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		method   string
		path     string
		token    string
		hdr      map[string]string
		want     int
		wantBody []byte
	}{
		{"whole file", "GET", "/remote/sealed/s-t01000-1", testToken, nil, 200, sealed},
		{"range", "GET", "/remote/sealed/s-t01000-1", testToken, map[string]string{"Range": "bytes=1000-1999"}, 206, sealed[1000:2000]},
		{"range past end", "GET", "/remote/sealed/s-t01000-1", testToken, map[string]string{"Range": "bytes=200000-"}, 416, nil},
		{"no token", "GET", "/remote/sealed/s-t01000-1", "", nil, 401, nil},
		{"bad token", "GET", "/remote/sealed/s-t01000-1", "Bearer nope", nil, 401, nil},
		{"no token for stat", "GET", "/remote/stat/p", "", nil, 401, nil},
		{"undeclared file", "GET", "/remote/sealed/s-t01000-2", testToken, nil, 404, nil},
		{"symlink out of the path", "GET", "/remote/sealed/s-t01000-3", testToken, nil, 404, nil},
		{"unknown type", "GET", "/remote/bogus/s-t01000-1", testToken, nil, 400, nil},
		{"bad sector name", "GET", "/remote/sealed/s-t01000-01", testToken, nil, 400, nil},
		{"dot dot", "GET", "/remote/sealed/../sectorstore.json", testToken, nil, 400, nil},
		{"encoded slash", "GET", "/remote/sealed/..%2Fsectorstore.json", testToken, nil, 400, nil},
		{"encoded dots", "GET", "/remote/%2e%2e/sectorstore.json", testToken, nil, 400, nil},
		{"backslash", "GET", `/remote/sealed/..\sectorstore.json`, testToken, nil, 400, nil},
		{"meta file", "GET", "/remote/sectorstore.json", testToken, nil, 404, nil},
		{"range on dir", "GET", "/remote/cache/s-t01000-1", testToken, map[string]string{"Range": "bytes=0-1"}, 416, nil},
		{"stat unknown", "GET", "/remote/stat/nope", testToken, nil, 404, nil},
		{"allocated", "GET", "/remote/unsealed/s-t01000-1/5/allocated/0/1016", testToken, nil, 200, nil},
		{"allocated on sealed", "GET", "/remote/sealed/s-t01000-1/5/allocated/0/1016", testToken, nil, 400, nil},
		{"allocated bad offset", "GET", "/remote/unsealed/s-t01000-1/5/allocated/1/1016", testToken, nil, 400, nil},
		{"allocated beyond sector", "GET", "/remote/unsealed/s-t01000-1/5/allocated/2032/1016", testToken, nil, 400, nil},
		{"allocated bad proof", "GET", "/remote/unsealed/s-t01000-1/999/allocated/0/1016", testToken, nil, 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doReq(t, tc.method, n.srv.URL+tc.path, tc.token, tc.hdr)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.want, body)
			}
			if tc.wantBody != nil && !bytes.Equal(body, tc.wantBody) {
				t.Fatalf("body of %d bytes differs from the expected %d", len(body), len(tc.wantBody))
			}
			if bytes.Contains(body, []byte("secret")) || bytes.Contains(body, []byte("outside")) {
				t.Fatal("leaked a file that is not a declared sector file")
			}
		})
	}

	t.Run("stat", func(t *testing.T) {
		resp, body := doReq(t, "GET", n.srv.URL+"/remote/stat/p", testToken, nil)
		var st storiface.FsStat
		if resp.StatusCode != 200 || json.Unmarshal(body, &st) != nil || st.Capacity <= 0 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("cache dir as tar", func(t *testing.T) {
		resp, body := doReq(t, "GET", n.srv.URL+"/remote/cache/s-t01000-1", testToken, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != contentTypeTar || resp.Header.Get(HeaderTarFiles) != "3" {
			t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
		}
		if resp.Trailer.Get(TrailerChecksum) == "" {
			t.Fatal("no checksum trailer")
		}
		tr := tar.NewReader(bytes.NewReader(body))
		got := map[string][]byte{}
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(tr)
			got[h.Name] = b
		}
		for name, want := range cache {
			if !bytes.Equal(got[name], want) {
				t.Fatalf("%s differs", name)
			}
		}
	})
	t.Run("allocated hook", func(t *testing.T) {
		var gotPath string
		n.handler.Allocated = func(p string, ssize abi.SectorSize, off storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) (bool, error) {
			gotPath = p
			return off == 0, nil
		}
		defer func() { n.handler.Allocated = nil }()
		if resp, _ := doReq(t, "GET", n.srv.URL+"/remote/unsealed/s-t01000-1/5/allocated/1016/1016", testToken, nil); resp.StatusCode != 416 {
			t.Fatalf("status %d, want 416", resp.StatusCode)
		}
		if !strings.HasSuffix(gotPath, "/unsealed/s-t01000-1") {
			t.Fatalf("hook got path %q", gotPath)
		}
	})
	t.Run("delete keeps what is asked", func(t *testing.T) {
		if resp, body := doReq(t, "DELETE", n.srv.URL+"/remote/sealed/s-t01000-1?keep=p", testToken, nil); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if _, err := os.Stat(storiface.SectorPathIn(root, storiface.FTSealed, sec1)); err != nil {
			t.Fatal("kept file deleted")
		}
		if resp, body := doReq(t, "DELETE", n.srv.URL+"/remote/sealed/s-t01000-1", testToken, nil); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if _, err := os.Stat(storiface.SectorPathIn(root, storiface.FTSealed, sec1)); !os.IsNotExist(err) {
			t.Fatal("file not deleted")
		}
		if resp, _ := doReq(t, "GET", n.srv.URL+"/remote/sealed/s-t01000-1", testToken, nil); resp.StatusCode != 404 {
			t.Fatalf("deleted file still served: %d", resp.StatusCode)
		}
	})
}

func TestFetchHandlerLimitsTransfers(t *testing.T) {
	idx, _, _ := newTestIndex(t)
	n := newTestNode(t, idx, LocalStorageMeta{ID: "p", Weight: 1, CanStore: true})
	n.put(t, "p", storiface.FTSealed, map[string][]byte{"": pattern(1000, 1)}, true)
	n.handler.SetMaxServing(1)
	n.handler.serving <- struct{}{} // a transfer in progress holds the only slot

	type result struct {
		status int
		n      int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", n.srv.URL+"/remote/sealed/s-t01000-1", nil)
		req.Header.Set("Authorization", testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, n: len(b), err: err}
	}()
	for {
		if _, waiting := n.handler.Transfers(); waiting == 1 {
			break
		}
		yieldCPU()
	}
	select {
	case r := <-done:
		t.Fatalf("served while the only slot was taken: %+v", r)
	default:
	}
	<-n.handler.serving // the transfer in progress ends
	if r := <-done; r.err != nil || r.status != 200 || r.n != 1000 {
		t.Fatalf("after the slot freed: %+v", r)
	}
	for { // the slot is given back when the handler returns, just after the client has the body
		if serving, waiting := n.handler.Transfers(); serving == 0 && waiting == 0 {
			break
		}
		yieldCPU()
	}
	if resp, _ := doReq(t, "HEAD", n.srv.URL+"/remote/sealed/s-t01000-1", testToken, nil); resp.StatusCode != 200 || resp.ContentLength != 1000 {
		t.Fatalf("HEAD: %d, length %d", resp.StatusCode, resp.ContentLength)
	}
}
