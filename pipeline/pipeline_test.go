package pipeline

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/db"
)

// happyStates is the sequence of states a pledged sector passes through.
var happyStates = []SectorState{Packing, PreCommit1, PreCommit2, WaitSeed, Commit1, Commit2, Finalize, MoveStorage,
	Proving}

func TestPledgeHappyPath(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	ctx := context.Background()
	n, err := h.p.Pledge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := h.clock.Now()
	info := h.waitState(n, Proving, true)

	if got := h.states(n); !slices.Equal(got, happyStates) {
		t.Errorf("states = %v, want %v", got, happyStates)
	}
	var methods []string
	for _, c := range h.sealer.callsOf("") {
		methods = append(methods, c.Method)
	}
	want := []string{"AddPiece", "PreCommit1", "PreCommit2", "Commit1", "Commit2", "Finalize", "MoveStorage"}
	if !slices.Equal(methods, want) {
		t.Errorf("sealer calls = %v, want %v", methods, want)
	}
	// A pledge is one zero piece filling the 2KiB sector: 2032 unpadded bytes, no existing pieces.
	if ap := h.sealer.callsOf("AddPiece")[0]; ap.Args != "[] 2032" {
		t.Errorf("AddPiece args = %q, want \"[] 2032\" (no existing pieces, 2032 bytes, zero data)", ap.Args)
	}
	if mv := h.sealer.callsOf("MoveStorage")[0]; mv.Args != "sealed|cache" {
		t.Errorf("MoveStorage types = %q, want sealed|cache", mv.Args)
	}
	if len(info.Pieces) != 1 || info.Pieces[0].Deal || info.Pieces[0].Size != 2032 || !info.Pieces[0].Added() {
		t.Errorf("pieces = %+v, want one added 2032-byte filler", info.Pieces)
	}
	if len(info.Ticket) != 32 || info.Ticket[31]&0xc0 != 0 {
		t.Errorf("ticket %x: want 32 bytes with the top two bits of byte 31 clear", info.Ticket)
	}
	if len(info.Seed) != 32 || !info.CommD.Defined() || !info.CommR.Defined() || len(info.Proof) == 0 {
		t.Errorf("seed %x commD %s commR %s proof %d bytes: want all set", info.Seed, info.CommD, info.CommR, len(info.Proof))
	}
	if info.HasC1Out {
		t.Error("the C1 output is still stored after Commit2")
	}
	if got := info.SeedAt.Sub(start); got != h.cfg.WaitSeedDelay {
		t.Errorf("seed delay = %s, want %s", got, h.cfg.WaitSeedDelay)
	}
	// The ticket passed to PC1 and C1 is the persisted one.
	if c := h.sealer.callsOf("PreCommit1")[0]; c.Args[:64] != hex.EncodeToString(info.Ticket) {
		t.Errorf("PC1 ticket %s, persisted %x", c.Args[:64], info.Ticket)
	}
	if got := h.p.Counts(); got[Proving] != 1 || len(got) != 1 {
		t.Errorf("Counts = %v, want Proving:1", got)
	}
	list, err := h.p.List(ctx)
	if err != nil || len(list) != 1 || list[0].Number != n {
		t.Fatalf("List = %v, %v", list, err)
	}
	// Sector numbers come from the persisted counter.
	n2, err := h.p.Pledge(ctx)
	if err != nil || n2 != n+1 {
		t.Errorf("second pledge = %d, %v; want %d", n2, err, n+1)
	}
}

func TestFillers(t *testing.T) {
	tests := []struct {
		from, to abi.PaddedPieceSize
		want     []abi.PaddedPieceSize
	}{
		{0, 2048, []abi.PaddedPieceSize{2048}},
		{128, 512, []abi.PaddedPieceSize{128, 256}},
		{128, 2048, []abi.PaddedPieceSize{128, 256, 512, 1024}},
		{1280, 2048, []abi.PaddedPieceSize{256, 512}},
		{512, 512, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d-%d", tc.from, tc.to), func(t *testing.T) {
			got := fillers(tc.from, tc.to)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("fillers = %v, want %v", got, tc.want)
			}
			off := tc.from
			for _, f := range got {
				if off%f != 0 {
					t.Errorf("filler %d at %d is not aligned", f, off)
				}
				off += f
			}
		})
	}
}

func TestPieceSizeFor(t *testing.T) {
	tests := []struct {
		n    uint64
		want abi.UnpaddedPieceSize
	}{{1, 127}, {127, 127}, {128, 254}, {254, 254}, {255, 508}, {1000, 1016}, {2032, 2032}, {2033, 4064}}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			got := PieceSizeFor(tc.n)
			if got != tc.want {
				t.Fatalf("PieceSizeFor(%d) = %d, want %d", tc.n, got, tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	tests := []struct {
		in      string
		want    SectorState
		wantErr bool
	}{{"PreCommit1", PreCommit1, false}, {"precommit1", PreCommit1, false}, {" Proving ", Proving, false},
		{"PC1", "", true}, {"", "", true}}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseState(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("ParseState(%q) = %q, %v", tc.in, got, err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"default", func(*Config) {}, ""},
		{"proof", func(c *Config) { c.ProofType = 999 }, "ProofType"},
		{"maxsealing", func(c *Config) { c.MaxSealing = -1 }, "MaxSealing"},
		{"seed", func(c *Config) { c.WaitSeedDelay = -1 }, "WaitSeedDelay"},
		{"retries", func(c *Config) { c.MaxRetries = -1 }, "MaxRetries"},
		{"backoff", func(c *Config) { c.MaxRetryBackoff = c.RetryBackoff - 1 }, "MaxRetryBackoff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if (err == nil) != (tc.field == "") {
				t.Fatalf("Validate = %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("error %q does not name %s", err, tc.field)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	c := testConfig() // 10s doubling, capped at 1m
	want := []string{"10s", "20s", "40s", "1m0s", "1m0s"}
	for i, w := range want {
		if got := c.backoff(i + 1).String(); got != w {
			t.Errorf("backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
}

// TestInMemoryDB runs a pledge to Proving on an in-memory SQLite database (one shared connection).
func TestInMemoryDB(t *testing.T) {
	d, err := db.OpenSQLite(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cfg := testConfig()
	cfg.WaitSeedDelay = 0
	p, err := New(cfg, d, newFakeSealer(), newMemPieceStore(), newFakeClock(time.Unix(0, 0)),
		WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := p.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	n, err := p.Pledge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(testTimeout)
	for {
		if st, err := p.Status(ctx, n); err == nil && st.State == Proving {
			break
		}
		select {
		case <-sub:
		case <-deadline:
			t.Fatal("sector did not reach Proving")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
