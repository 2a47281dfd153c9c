package manager

import (
	"context"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// The Return methods hand a worker's result to the call tracker; a nil error acknowledges it.

// ReturnDataCid takes the result of DataCid.
func (m *Manager) ReturnDataCid(_ context.Context, id storiface.CallID, pi abi.PieceInfo, err *storiface.CallError) error {
	return m.ct.returnResult(id, pi, err)
}

// ReturnAddPiece takes the result of AddPiece.
func (m *Manager) ReturnAddPiece(_ context.Context, id storiface.CallID, pi abi.PieceInfo, err *storiface.CallError) error {
	return m.ct.returnResult(id, pi, err)
}

// ReturnSealPreCommit1 takes the result of SealPreCommit1.
func (m *Manager) ReturnSealPreCommit1(_ context.Context, id storiface.CallID, out storiface.PreCommit1Out, err *storiface.CallError) error {
	return m.ct.returnResult(id, out, err)
}

// ReturnSealPreCommit2 takes the result of SealPreCommit2.
func (m *Manager) ReturnSealPreCommit2(_ context.Context, id storiface.CallID, out storiface.SectorCids, err *storiface.CallError) error {
	return m.ct.returnResult(id, out, err)
}

// ReturnSealCommit1 takes the result of SealCommit1.
func (m *Manager) ReturnSealCommit1(_ context.Context, id storiface.CallID, out storiface.Commit1Out, err *storiface.CallError) error {
	return m.ct.returnResult(id, out, err)
}

// ReturnSealCommit2 takes the result of SealCommit2.
func (m *Manager) ReturnSealCommit2(_ context.Context, id storiface.CallID, out storiface.Proof, err *storiface.CallError) error {
	return m.ct.returnResult(id, out, err)
}

// ReturnFinalizeSector takes the result of FinalizeSector.
func (m *Manager) ReturnFinalizeSector(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return m.ct.returnResult(id, nil, err)
}

// ReturnFinalizeUnsealed takes the result of FinalizeUnsealed.
func (m *Manager) ReturnFinalizeUnsealed(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return m.ct.returnResult(id, nil, err)
}

// ReturnReleaseUnsealed takes the result of ReleaseUnsealed.
func (m *Manager) ReturnReleaseUnsealed(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return m.ct.returnResult(id, nil, err)
}

// ReturnMoveStorage takes the result of MoveStorage.
func (m *Manager) ReturnMoveStorage(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return m.ct.returnResult(id, nil, err)
}

// ReturnUnsealPiece takes the result of UnsealPiece.
func (m *Manager) ReturnUnsealPiece(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return m.ct.returnResult(id, nil, err)
}

// ReturnFetch takes the result of Fetch.
func (m *Manager) ReturnFetch(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return m.ct.returnResult(id, nil, err)
}
