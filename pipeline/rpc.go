package pipeline

import (
	"context"

	"github.com/filecoin-project/go-state-types/abi"
)

// RPC exposes a Pipeline under the manager API's method names (SectorsPledge, SectorsList, …), so the API
// implementation can embed it. Piece bytes do not go through RPC: see Handler.
type RPC struct {
	P *Pipeline
}

// SectorsPledge calls Pledge.
func (r RPC) SectorsPledge(ctx context.Context) (abi.SectorNumber, error) { return r.P.Pledge(ctx) }

// SectorsList calls List.
func (r RPC) SectorsList(ctx context.Context) ([]SectorInfo, error) { return r.P.List(ctx) }

// SectorsStatus calls Status.
func (r RPC) SectorsStatus(ctx context.Context, n abi.SectorNumber) (SectorInfo, error) {
	return r.P.Status(ctx, n)
}

// SectorsEvents calls Events.
func (r RPC) SectorsEvents(ctx context.Context, n abi.SectorNumber) ([]Event, error) {
	return r.P.Events(ctx, n)
}

// SectorsRemove calls Remove.
func (r RPC) SectorsRemove(ctx context.Context, n abi.SectorNumber) error { return r.P.Remove(ctx, n) }

// SectorsUpdateState calls UpdateState.
func (r RPC) SectorsUpdateState(ctx context.Context, n abi.SectorNumber, state SectorState) error {
	return r.P.UpdateState(ctx, n, state)
}

// SectorsUnseal calls Unseal.
func (r RPC) SectorsUnseal(ctx context.Context, n abi.SectorNumber) error { return r.P.Unseal(ctx, n) }

// SectorsCounts calls Counts.
func (r RPC) SectorsCounts(context.Context) (map[SectorState]int, error) { return r.P.Counts(), nil }
