package manager

import (
	"context"
	"errors"
	"sync"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/storiface"
)

// switchReturn forwards a worker's returns to the manager currently running, and refuses them while none is
// (as an unreachable manager would). Test-only.
type switchReturn struct {
	mu sync.Mutex
	m  *Manager
}

var errManagerDown = errors.New("manager down")

var _ api.WorkerReturn = (*switchReturn)(nil)

func (s *switchReturn) set(m *Manager) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = m
}

func (s *switchReturn) get() (*Manager, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		return nil, errManagerDown
	}
	return s.m, nil
}

func fwd[T any](s *switchReturn, ctx context.Context, id storiface.CallID, v T, e *storiface.CallError,
	f func(*Manager, context.Context, storiface.CallID, T, *storiface.CallError) error) error {
	m, err := s.get()
	if err != nil {
		return err
	}
	return f(m, ctx, id, v, e)
}

func fwdErr(s *switchReturn, ctx context.Context, id storiface.CallID, e *storiface.CallError,
	f func(*Manager, context.Context, storiface.CallID, *storiface.CallError) error) error {
	m, err := s.get()
	if err != nil {
		return err
	}
	return f(m, ctx, id, e)
}

func (s *switchReturn) ReturnDataCid(ctx context.Context, id storiface.CallID, v abi.PieceInfo, e *storiface.CallError) error {
	return fwd(s, ctx, id, v, e, (*Manager).ReturnDataCid)
}
func (s *switchReturn) ReturnAddPiece(ctx context.Context, id storiface.CallID, v abi.PieceInfo, e *storiface.CallError) error {
	return fwd(s, ctx, id, v, e, (*Manager).ReturnAddPiece)
}
func (s *switchReturn) ReturnSealPreCommit1(ctx context.Context, id storiface.CallID, v storiface.PreCommit1Out, e *storiface.CallError) error {
	return fwd(s, ctx, id, v, e, (*Manager).ReturnSealPreCommit1)
}
func (s *switchReturn) ReturnSealPreCommit2(ctx context.Context, id storiface.CallID, v storiface.SectorCids, e *storiface.CallError) error {
	return fwd(s, ctx, id, v, e, (*Manager).ReturnSealPreCommit2)
}
func (s *switchReturn) ReturnSealCommit1(ctx context.Context, id storiface.CallID, v storiface.Commit1Out, e *storiface.CallError) error {
	return fwd(s, ctx, id, v, e, (*Manager).ReturnSealCommit1)
}
func (s *switchReturn) ReturnSealCommit2(ctx context.Context, id storiface.CallID, v storiface.Proof, e *storiface.CallError) error {
	return fwd(s, ctx, id, v, e, (*Manager).ReturnSealCommit2)
}
func (s *switchReturn) ReturnFinalizeSector(ctx context.Context, id storiface.CallID, e *storiface.CallError) error {
	return fwdErr(s, ctx, id, e, (*Manager).ReturnFinalizeSector)
}
func (s *switchReturn) ReturnFinalizeUnsealed(ctx context.Context, id storiface.CallID, e *storiface.CallError) error {
	return fwdErr(s, ctx, id, e, (*Manager).ReturnFinalizeUnsealed)
}
func (s *switchReturn) ReturnReleaseUnsealed(ctx context.Context, id storiface.CallID, e *storiface.CallError) error {
	return fwdErr(s, ctx, id, e, (*Manager).ReturnReleaseUnsealed)
}
func (s *switchReturn) ReturnMoveStorage(ctx context.Context, id storiface.CallID, e *storiface.CallError) error {
	return fwdErr(s, ctx, id, e, (*Manager).ReturnMoveStorage)
}
func (s *switchReturn) ReturnUnsealPiece(ctx context.Context, id storiface.CallID, e *storiface.CallError) error {
	return fwdErr(s, ctx, id, e, (*Manager).ReturnUnsealPiece)
}
func (s *switchReturn) ReturnFetch(ctx context.Context, id storiface.CallID, e *storiface.CallError) error {
	return fwdErr(s, ctx, id, e, (*Manager).ReturnFetch)
}
