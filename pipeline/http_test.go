package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/storiface"
)

func TestDirPieceStore(t *testing.T) {
	ps, dir := dirStore(t)
	ctx := context.Background()
	data := payload(1016, 9)
	pd, cleanup, err := ps.Put(ctx, bytes.NewReader(data), 1016)
	if err != nil {
		t.Fatal(err)
	}
	get := func(url string, hdr map[string]string, rng string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	tests := []struct {
		name   string
		url    string
		hdr    map[string]string
		rng    string
		status int
		body   []byte
	}{
		{"whole piece", pd.URL, pd.Headers, "", 200, data},
		{"range", pd.URL, pd.Headers, "bytes=10-19", 206, data[10:20]},
		{"no token", pd.URL, nil, "", 401, nil},
		{"bad id", pd.URL[:strings.LastIndex(pd.URL, "/")] + "/..%2Fetc", pd.Headers, "", 400, nil},
		{"unknown id", pd.URL[:strings.LastIndex(pd.URL, "/")] + "/" + strings.Repeat("0", 32), pd.Headers, "", 404, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := get(tc.url, tc.hdr, tc.rng)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, b)
			}
			if tc.body != nil && !bytes.Equal(b, tc.body) {
				t.Fatalf("body differs (%d bytes, want %d)", len(b), len(tc.body))
			}
		})
	}
	cleanup()
	if resp, _ := get(pd.URL, pd.Headers, ""); resp.StatusCode != 404 {
		t.Errorf("after cleanup: status %d, want 404", resp.StatusCode)
	}
	if err := ps.Release(ctx, pd); err != nil {
		t.Errorf("releasing twice: %v", err)
	}
	if err := ps.Release(ctx, storiface.PieceData{URL: "http://elsewhere/x"}); err == nil {
		t.Error("releasing foreign data succeeded")
	}
	// A short reader leaves nothing behind.
	if _, _, err := ps.Put(ctx, bytes.NewReader(data[:10]), 127); err == nil {
		t.Error("short Put succeeded")
	}
	if left := dirEntries(t, dir); len(left) != 0 {
		t.Errorf("store holds %v", left)
	}
}

// fakeReader is a Reader whose unsealed sector is a deterministic byte pattern.
type fakeReader struct{ unsealed []storiface.SectorRef }

func (f *fakeReader) UnsealPiece(_ context.Context, s storiface.SectorRef, _ storiface.UnpaddedByteIndex, _ abi.UnpaddedPieceSize, _ abi.SealRandomness, _ cid.Cid) error {
	f.unsealed = append(f.unsealed, s)
	return nil
}

func (f *fakeReader) ReadPiece(_ context.Context, w io.Writer, _ storiface.SectorRef, off storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) error {
	if len(ticket) != 32 || !commD.Defined() {
		return errors.New("ticket and commD required")
	}
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(uint64(off) + uint64(i))
	}
	_, err := w.Write(b)
	return err
}

func TestHandler(t *testing.T) {
	fr := &fakeReader{}
	cfg := testConfig()
	cfg.WaitSeedDelay = 0
	h := newHarness(t, cfg, nil, WithReader(fr))
	auth := func(r *http.Request, perm string) error {
		if r.Header.Get("X-Perm") != perm {
			return fmt.Errorf("need %s", perm)
		}
		return nil
	}
	srv := httptest.NewServer(Handler(h.p, auth))
	defer srv.Close()
	do := func(method, path, perm string, body []byte) (int, []byte) {
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("X-Perm", perm)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	full := payload(2032, 4) // fills a sector: sealed without waiting for the wait-deals delay
	code, body := do("POST", "/pieces?size=2032", "write", full)
	if code != 200 {
		t.Fatalf("POST /pieces: %d %s", code, body)
	}
	var loc SectorPieceLocation
	if err := json.Unmarshal(body, &loc); err != nil || loc.Size != 2032 || loc.DataSize != 2032 {
		t.Fatalf("location %s: %v", body, err)
	}
	h.waitState(loc.Sector, Proving, false)

	tests := []struct {
		name, method, path, perm string
		body                     []byte
		status                   int
	}{
		{"add without permission", "POST", "/pieces?size=10", "read", payload(10, 0), 401},
		{"add without size", "POST", "/pieces", "write", payload(10, 0), 400},
		{"add size mismatch", "POST", "/pieces?size=11", "write", payload(10, 0), 400},
		{"add too large", "POST", "/pieces?size=5000", "write", payload(5000, 0), 400},
		{"read", "GET", "/pieces/read/0?offset=127&size=254", "read", nil, 200},
		{"read without permission", "GET", "/pieces/read/0?offset=0&size=127", "write", nil, 401},
		{"read unknown sector", "GET", "/pieces/read/7?offset=0&size=127", "read", nil, 404},
		{"read unaligned", "GET", "/pieces/read/0?offset=5&size=127", "read", nil, 400},
		{"read past end", "GET", "/pieces/read/0?offset=1905&size=254", "read", nil, 400},
		{"read bad number", "GET", "/pieces/read/x?offset=0&size=1", "read", nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(tc.method, tc.path, tc.perm, tc.body)
			if code != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, code, body, tc.status)
			}
			if tc.name == "read" && (len(body) != 254 || body[0] != 127) {
				t.Fatalf("read %d bytes starting %d, want 254 starting 127", len(body), body[0])
			}
		})
	}
	if err := h.p.Unseal(context.Background(), 0); err != nil || len(fr.unsealed) != 1 {
		t.Fatalf("Unseal: %v, %d calls", err, len(fr.unsealed))
	}
	if list, _ := h.p.List(context.Background()); len(list) != 1 {
		t.Errorf("rejected requests created sectors: %d", len(list))
	}
}
