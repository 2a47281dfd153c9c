package node

import (
	"context"

	"github.com/filecoin-project/go-jsonrpc/auth"
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/pipeline"
)

// sectorsAPI is the pipeline's part of the node's JSON-RPC API (pipeline.RPC implements it). The sectors CLI
// calls these methods under api.Namespace at /rpc/v0; piece bytes go over /pieces instead.
type sectorsAPI interface {
	SectorsPledge(ctx context.Context) (abi.SectorNumber, error)
	SectorsList(ctx context.Context) ([]pipeline.SectorInfo, error)
	SectorsStatus(ctx context.Context, n abi.SectorNumber) (pipeline.SectorInfo, error)
	SectorsEvents(ctx context.Context, n abi.SectorNumber) ([]pipeline.Event, error)
	SectorsCounts(ctx context.Context) (map[pipeline.SectorState]int, error)
	SectorsRemove(ctx context.Context, n abi.SectorNumber) error
	SectorsUpdateState(ctx context.Context, n abi.SectorNumber, state pipeline.SectorState) error
	SectorsUnseal(ctx context.Context, n abi.SectorNumber) error
}

var _ sectorsAPI = pipeline.RPC{}

// sectorsStruct is the permission-checking proxy of sectorsAPI: auth.PermissionedProxy fills Internal, and the
// methods (what go-jsonrpc registers) forward to it. Reading needs "read", pledging and unsealing "write",
// removing a sector or forcing its state "admin".
type sectorsStruct struct {
	Internal struct {
		SectorsPledge      func(ctx context.Context) (abi.SectorNumber, error)                             `perm:"write"`
		SectorsList        func(ctx context.Context) ([]pipeline.SectorInfo, error)                        `perm:"read"`
		SectorsStatus      func(ctx context.Context, n abi.SectorNumber) (pipeline.SectorInfo, error)      `perm:"read"`
		SectorsEvents      func(ctx context.Context, n abi.SectorNumber) ([]pipeline.Event, error)         `perm:"read"`
		SectorsCounts      func(ctx context.Context) (map[pipeline.SectorState]int, error)                 `perm:"read"`
		SectorsRemove      func(ctx context.Context, n abi.SectorNumber) error                             `perm:"admin"`
		SectorsUpdateState func(ctx context.Context, n abi.SectorNumber, state pipeline.SectorState) error `perm:"admin"`
		SectorsUnseal      func(ctx context.Context, n abi.SectorNumber) error                             `perm:"write"`
	}
}

var _ sectorsAPI = (*sectorsStruct)(nil)

// newSectorsProxy wraps impl in permission checks.
func newSectorsProxy(impl sectorsAPI) *sectorsStruct {
	var s sectorsStruct
	auth.PermissionedProxy(api.AllPermissions, api.DefaultPerms, impl, &s.Internal)
	return &s
}

func (s *sectorsStruct) SectorsPledge(ctx context.Context) (abi.SectorNumber, error) {
	return s.Internal.SectorsPledge(ctx)
}

func (s *sectorsStruct) SectorsList(ctx context.Context) ([]pipeline.SectorInfo, error) {
	return s.Internal.SectorsList(ctx)
}

func (s *sectorsStruct) SectorsStatus(ctx context.Context, n abi.SectorNumber) (pipeline.SectorInfo, error) {
	return s.Internal.SectorsStatus(ctx, n)
}

func (s *sectorsStruct) SectorsEvents(ctx context.Context, n abi.SectorNumber) ([]pipeline.Event, error) {
	return s.Internal.SectorsEvents(ctx, n)
}

func (s *sectorsStruct) SectorsCounts(ctx context.Context) (map[pipeline.SectorState]int, error) {
	return s.Internal.SectorsCounts(ctx)
}

func (s *sectorsStruct) SectorsRemove(ctx context.Context, n abi.SectorNumber) error {
	return s.Internal.SectorsRemove(ctx, n)
}

func (s *sectorsStruct) SectorsUpdateState(ctx context.Context, n abi.SectorNumber, state pipeline.SectorState) error {
	return s.Internal.SectorsUpdateState(ctx, n, state)
}

func (s *sectorsStruct) SectorsUnseal(ctx context.Context, n abi.SectorNumber) error {
	return s.Internal.SectorsUnseal(ctx, n)
}
