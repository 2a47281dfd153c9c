package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/pipeline"
)

// httpDo sends a request with a bearer token and returns the status and body.
func httpDo(t *testing.T, method, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestDealPiecesReadBack sends deal pieces of different sizes over /pieces, seals their sector and reads each
// piece back over /pieces/read byte for byte. It also checks the rest of the node's HTTP surface on the way:
// the Sectors* methods over JSON-RPC with their permissions, the dashboard and the metrics.
func TestDealPiecesReadBack(t *testing.T) {
	cfg := testConfig("2KiB")
	cfg.Sealing.WaitDealsDelay = Duration(time.Hour) // the test packs the sector itself
	n := startNode(t, t.TempDir(), cfg, t.TempDir())
	ctx := context.Background()
	write, _ := n.Token("write")
	read, _ := n.Token("read")

	// 300 B pads to 508, 100 B to 127, 1000 B to 1016 at offset 1016: together they fill the 2032 B sector.
	rng := rand.New(rand.NewPCG(1, 2))
	payloads := [][]byte{make([]byte, 300), make([]byte, 100), make([]byte, 1000)}
	var locs []pipeline.SectorPieceLocation
	for _, p := range payloads {
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		url := fmt.Sprintf("%s%s?size=%d", n.URL(), pipeline.PiecesPath, len(p))
		if code, _ := httpDo(t, http.MethodPost, url, read, p); code != http.StatusUnauthorized &&
			code != http.StatusForbidden {
			t.Fatalf("POST /pieces with a read token: status %d, want 401/403", code)
		}
		code, body := httpDo(t, http.MethodPost, url, write, p)
		if code != http.StatusOK {
			t.Fatalf("POST /pieces: %d %s", code, body)
		}
		var loc pipeline.SectorPieceLocation
		if err := json.Unmarshal(body, &loc); err != nil {
			t.Fatal(err)
		}
		locs = append(locs, loc)
	}
	sector := locs[0].Sector
	for _, l := range locs {
		if l.Sector != sector {
			t.Fatalf("pieces landed in sectors %v, want one sector", locs)
		}
	}

	var rpc struct {
		SectorsList        func(context.Context) ([]pipeline.SectorInfo, error)
		SectorsUpdateState func(context.Context, abi.SectorNumber, pipeline.SectorState) error
	}
	closer, err := jsonrpc.NewMergeClient(ctx, n.URL()+api.RPCPath, api.Namespace, []any{&rpc},
		api.Info{Token: read}.Header())
	if err != nil {
		t.Fatal(err)
	}
	defer closer()
	if list, err := rpc.SectorsList(ctx); err != nil || len(list) != 1 || list[0].State != pipeline.WaitDeals {
		t.Fatalf("SectorsList with a read token = %v, %v; want the WaitDeals sector", list, err)
	}
	if err := rpc.SectorsUpdateState(ctx, sector, pipeline.Packing); err == nil ||
		!strings.Contains(err.Error(), "permission") {
		t.Fatalf("SectorsUpdateState with a read token: %v, want a permission error", err)
	}
	if err := n.Pipeline().UpdateState(ctx, sector, pipeline.Packing); err != nil {
		t.Fatal(err)
	}
	waitStates(t, n.Pipeline(), []abi.SectorNumber{sector}, pipeline.Proving, 2*time.Minute)

	for i, l := range locs {
		url := fmt.Sprintf("%s%s/%d?offset=%d&size=%d", n.URL(), pipeline.ReadPath, sector, l.Offset, l.Size)
		code, got := httpDo(t, http.MethodGet, url, read, nil)
		if code != http.StatusOK {
			t.Fatalf("piece %d: GET: %d %s", i, code, got)
		}
		want := append(append([]byte{}, payloads[i]...), make([]byte, int(l.Size)-len(payloads[i]))...)
		if !bytes.Equal(got, want) {
			t.Fatalf("piece %d (%d B at %d): read back differs", i, len(payloads[i]), l.Offset)
		}
	}
	checkDashboardAndMetrics(t, n.Node, read)
}

// checkDashboardAndMetrics checks that the dashboard answers with the token only and reflects the pipeline, and
// that /metrics reports the sectors.
func checkDashboardAndMetrics(t *testing.T, n *Node, read string) {
	t.Helper()
	if code, _ := httpDo(t, http.MethodGet, n.URL()+"/api/overview", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("/api/overview without a token: %d, want 401", code)
	}
	for _, tc := range []struct{ path, want string }{
		{"/api/overview", ""},
		{"/api/sectors", `"state":"Proving"`},
		{"/api/storage", `"canStore":true`},
		{"/api/workers?limit=10", `"PC1"`},
		{"/api/sectors/s-t01000-0/events", `"to":"Proving"`},
	} {
		code, body := httpDo(t, http.MethodGet, n.URL()+tc.path, read, nil)
		if code != http.StatusOK || !strings.Contains(string(body), tc.want) {
			t.Fatalf("%s: %d %s; want 200 containing %s", tc.path, code, body, tc.want)
		}
	}
	code, body := httpDo(t, http.MethodGet, n.URL()+"/metrics", "", nil)
	if code != http.StatusOK || !strings.Contains(string(body), "sealfleet_worker_cpu_total") {
		t.Fatalf("/metrics: %d, worker resources missing", code)
	}
}
