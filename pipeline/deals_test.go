package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"
)

// dirStore starts a DirPieceStore served over a loopback HTTP server that requires a token header.
func dirStore(t *testing.T) (*DirPieceStore, string) {
	t.Helper()
	dir := t.TempDir()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ps, err := NewDirPieceStore(dir, srv.URL+"/piece-data", map[string]string{"Authorization": "Bearer ok"})
	if err != nil {
		t.Fatal(err)
	}
	auth := func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer ok" {
			return errors.New("bad token")
		}
		return nil
	}
	mux.Handle("/piece-data/", http.StripPrefix("/piece-data", ps.Handler(auth)))
	return ps, dir
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%251)
	}
	return b
}

// TestDealPiecesFilled adds three payloads of different sizes to one 2KiB sector and checks the layout: each
// piece aligned to its own size with zero fillers in the gaps, the rest filled at packing time.
func TestDealPiecesFilled(t *testing.T) {
	ps, dir := dirStore(t)
	h := newHarness(t, testConfig(), ps)
	ctx := context.Background()

	datas := [][]byte{payload(100, 1), payload(300, 2), payload(200, 3)}
	wantLoc := []SectorPieceLocation{
		{Sector: 0, Offset: 0, Size: 127, DataSize: 100},    // padded 128 @ 0
		{Sector: 0, Offset: 508, Size: 508, DataSize: 300},  // padded 512 @ 512, after fillers 128@128, 256@256
		{Sector: 0, Offset: 1016, Size: 254, DataSize: 200}, // padded 256 @ 1024
	}
	for i, d := range datas {
		loc, err := h.p.AddPiece(ctx, bytes.NewReader(d), uint64(len(d)))
		if err != nil {
			t.Fatal(err)
		}
		if loc != wantLoc[i] {
			t.Errorf("piece %d at %+v, want %+v", i, loc, wantLoc[i])
		}
	}
	// Status never shows the fetch headers (they may carry a worker token).
	if st, _ := h.p.Status(ctx, 0); len(st.Pieces) == 0 {
		t.Fatal("no pieces")
	} else {
		for _, pc := range st.Pieces {
			if pc.Data.Headers != nil {
				t.Errorf("Status shows piece headers %v", pc.Data.Headers)
			}
		}
	}
	// Deal pieces are added while the sector waits for more; then the wait-deals delay packs it.
	info := h.waitState(0, Proving, true)

	// Padded layout: 128 deal, 128+256 fillers, 512 deal, 256 deal, then 256+512 fillers = 2048.
	wantSizes := []abi.UnpaddedPieceSize{127, 127, 254, 508, 254, 254, 508}
	wantDeal := []bool{true, false, false, true, true, false, false}
	var sizes []abi.UnpaddedPieceSize
	var deals []bool
	for _, p := range info.Pieces {
		sizes = append(sizes, p.Size)
		deals = append(deals, p.Deal)
		if !p.Added() || p.Data.URL != "" {
			t.Errorf("piece %+v: want added and its data released", p)
		}
	}
	if !slices.Equal(sizes, wantSizes) || !slices.Equal(deals, wantDeal) {
		t.Errorf("pieces sizes %v deal %v, want %v %v", sizes, deals, wantSizes, wantDeal)
	}
	// Each AddPiece call got the sizes of every earlier piece.
	aps := h.sealer.callsOf("AddPiece")
	if len(aps) != len(wantSizes) {
		t.Fatalf("%d AddPiece calls, want %d", len(aps), len(wantSizes))
	}
	for i, c := range aps {
		prefix := fmt.Sprint(wantSizes[:i], " ", wantSizes[i])
		if c.Args[:len(prefix)] != prefix {
			t.Errorf("AddPiece %d args %q, want prefix %q", i, c.Args, prefix)
		}
	}
	// The worker fetched each payload, zero-padded to the piece size, over HTTP with the store's headers.
	fetched := h.sealer.pieces
	if len(fetched) != 3 {
		t.Fatalf("fetched %d pieces, want 3", len(fetched))
	}
	for url, b := range fetched {
		ok := false
		for _, d := range datas {
			want := append(append([]byte{}, d...), make([]byte, int(PieceSizeFor(uint64(len(d))))-len(d))...)
			ok = ok || bytes.Equal(b, want)
		}
		if !ok {
			t.Errorf("%s: fetched bytes are not a zero-padded payload", url)
		}
	}
	if mv := h.sealer.callsOf("MoveStorage")[0]; mv.Args != "unsealed|sealed|cache" {
		t.Errorf("MoveStorage of a deal sector = %q, want unsealed|sealed|cache", mv.Args)
	}
	if left := dirEntries(t, dir); len(left) != 0 {
		t.Errorf("piece store still holds %v", left)
	}
	if info.DealBytes() != 600 {
		t.Errorf("DealBytes = %d, want 600", info.DealBytes())
	}
}

// TestDealPieceOverflowOpensNewSector checks that a piece that does not fit goes to a new sector, and a piece
// that fills a sector exactly packs it without waiting.
func TestDealPieceOverflowOpensNewSector(t *testing.T) {
	cfg := testConfig()
	cfg.WaitSeedDelay = 0
	h := newHarness(t, cfg, nil)
	ctx := context.Background()
	loc1, err := h.p.AddPiece(ctx, bytes.NewReader(payload(1000, 1)), 1000) // 1016 unpadded, half the sector
	if err != nil {
		t.Fatal(err)
	}
	loc2, err := h.p.AddPiece(ctx, bytes.NewReader(payload(1500, 2)), 1500) // 2032: the whole sector
	if err != nil {
		t.Fatal(err)
	}
	if loc1.Sector != 0 || loc2.Sector != 1 || loc2.Offset != 0 {
		t.Fatalf("locations %+v %+v: want sector 0, then sector 1 at 0", loc1, loc2)
	}
	h.waitState(1, Proving, false) // full: no wait-deals delay and no seed delay: time stands still
	if st, _ := h.p.Status(ctx, 0); st.State != WaitDeals {
		t.Errorf("sector 0 in %s, want WaitDeals", st.State)
	}
}

func TestAddPieceBadInput(t *testing.T) {
	ps, dir := dirStore(t)
	h := newHarness(t, testConfig(), ps)
	ctx := context.Background()
	tests := []struct {
		name string
		r    io.Reader
		size uint64
	}{
		{"zero size", bytes.NewReader(nil), 0},
		{"larger than sector", bytes.NewReader(payload(2033, 0)), 2033},
		{"reader ends early", bytes.NewReader(payload(100, 0)), 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := h.p.AddPiece(ctx, tc.r, tc.size); err == nil {
				t.Fatal("AddPiece succeeded")
			}
			if list, _ := h.p.List(ctx); len(list) != 0 {
				t.Errorf("a sector was created: %+v", list)
			}
			if left := dirEntries(t, dir); len(left) != 0 {
				t.Errorf("piece store holds %v", left)
			}
		})
	}
	_, err := h.p.AddPiece(ctx, bytes.NewReader(payload(2033, 0)), 2033)
	if !errors.Is(err, ErrBadInput) {
		t.Errorf("oversized piece error %v: want ErrBadInput", err)
	}
}

// TestAddedPieceSurvivesAStateChange: an operator moving a WaitDeals sector on (UpdateState) just as a deal
// piece's AddPiece returns — after the worker wrote the piece, before the pipeline recorded its CID — must not
// make the pipeline add the piece a second time: the worker would refuse it, its range being already written
// (node TestDealPiecesReadBack failed that way under load: "padded range … already has … allocated bytes").
func TestAddedPieceSurvivesAStateChange(t *testing.T) {
	ps, _ := dirStore(t)
	h := newHarness(t, testConfig(), ps)
	ctx := context.Background()
	var once sync.Once
	updated := make(chan error, 1)
	h.sealer.beforeAddPieceReturns = func(runCtx context.Context) {
		once.Do(func() {
			go func() { updated <- h.p.UpdateState(ctx, 0, Packing) }()
			<-runCtx.Done() // the operator's change has made this step stale and stops its runner
		})
	}
	d := payload(300, 7)
	if _, err := h.p.AddPiece(ctx, bytes.NewReader(d), uint64(len(d))); err != nil {
		t.Fatal(err)
	}
	if err := <-updated; err != nil {
		t.Fatal("UpdateState:", err)
	}
	info := h.waitState(0, Proving, true)
	deal := 0
	for _, c := range h.sealer.callsOf("AddPiece") {
		if strings.HasPrefix(c.Args, "[] ") { // no earlier piece: piece 0, the deal piece
			deal++
		}
	}
	if deal != 1 {
		t.Fatalf("the deal piece was added %d times, want once", deal)
	}
	if !info.Pieces[0].Added() {
		t.Fatalf("deal piece %+v not added", info.Pieces[0])
	}
}
