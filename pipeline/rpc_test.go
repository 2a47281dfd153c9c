package pipeline

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-state-types/abi"
)

// rpcClient is the client side of RPC, as go-jsonrpc fills it in.
type rpcClient struct {
	SectorsPledge      func(context.Context) (abi.SectorNumber, error)
	SectorsList        func(context.Context) ([]SectorInfo, error)
	SectorsStatus      func(context.Context, abi.SectorNumber) (SectorInfo, error)
	SectorsEvents      func(context.Context, abi.SectorNumber) ([]Event, error)
	SectorsRemove      func(context.Context, abi.SectorNumber) error
	SectorsUpdateState func(context.Context, abi.SectorNumber, SectorState) error
	SectorsUnseal      func(context.Context, abi.SectorNumber) error
	SectorsCounts      func(context.Context) (map[SectorState]int, error)
}

// TestRPCRoundTrip serves RPC with go-jsonrpc on loopback and checks that sector records, events and errors
// survive JSON (CIDs defined and undefined, times, opaque bytes).
func TestRPCRoundTrip(t *testing.T) {
	cfg := testConfig()
	cfg.WaitSeedDelay = 0
	h := newHarness(t, cfg, nil)
	srv := jsonrpc.NewServer()
	srv.Register("Sealfleet", RPC{P: h.p})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	var c rpcClient
	ctx := context.Background()
	closer, err := jsonrpc.NewMergeClient(ctx, "http://"+strings.TrimPrefix(hs.URL, "http://"), "Sealfleet", []any{&c}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closer()

	h.sealer.gate("PreCommit2")
	n, err := c.SectorsPledge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.sealer.waitCall(t, "PreCommit2")
	remote, err := c.SectorsStatus(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := h.p.Status(ctx, n)
	if remote.State != PreCommit2 || string(remote.Ticket) != string(local.Ticket) || remote.CommD.Defined() ||
		remote.Pieces[0].CID != local.Pieces[0].CID || !remote.Created.Equal(local.Created) || !remote.HasPC1Out {
		t.Errorf("over RPC %+v\nlocal %+v", remote, local)
	}
	if err := c.SectorsUpdateState(ctx, n, "Bogus"); err == nil || !strings.Contains(err.Error(), "accepted are") {
		t.Errorf("bad state over RPC: %v", err)
	}
	if _, err := c.SectorsStatus(ctx, 42); err == nil || !strings.Contains(err.Error(), "unknown sector") {
		t.Errorf("unknown sector over RPC: %v", err)
	}
	if err := c.SectorsRemove(ctx, n); err != nil {
		t.Fatal(err)
	}
	h.waitState(n, Removed, false)
	evs, err := c.SectorsEvents(ctx, n)
	if err != nil || evs[len(evs)-1].To != Removed {
		t.Errorf("events over RPC: %v %v", evs, err)
	}
	if counts, err := c.SectorsCounts(ctx); err != nil || counts[Removed] != 1 {
		t.Errorf("counts over RPC: %v %v", counts, err)
	}
	if list, err := c.SectorsList(ctx); err != nil || len(list) != 1 {
		t.Errorf("list over RPC: %v %v", list, err)
	}
	if err := c.SectorsUnseal(ctx, n); err == nil {
		t.Error("unseal of a removed sector succeeded")
	}
}
