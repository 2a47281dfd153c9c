package workertest

import (
	"context"
	"errors"
	"sync"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/storiface"
)

// Returned is one result a Returns recorder acknowledged.
type Returned struct {
	Method string
	Value  any
	Err    *storiface.CallError
}

// Returns is an api.WorkerReturn that records the results it acknowledges. While failures are pending it
// refuses attempts with ErrUnavailable, as an unreachable manager would.
type Returns struct {
	mu       sync.Mutex
	got      map[storiface.CallID][]Returned
	failures int
	Attempts chan storiface.CallID // receives every attempt, refused or not
	Acked    chan storiface.CallID // receives every acknowledged call
}

// ErrUnavailable is the error of a refused attempt.
var ErrUnavailable = errors.New("manager unavailable")

var _ api.WorkerReturn = (*Returns)(nil)

// NewReturns returns an empty recorder.
func NewReturns() *Returns {
	return &Returns{got: map[storiface.CallID][]Returned{}, Attempts: make(chan storiface.CallID, 256),
		Acked: make(chan storiface.CallID, 256)}
}

// FailNext makes the next n attempts fail.
func (r *Returns) FailNext(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = n
}

// Got returns what was acknowledged for a call, in order.
func (r *Returns) Got(id storiface.CallID) []Returned {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Returned(nil), r.got[id]...)
}

func (r *Returns) record(id storiface.CallID, method string, v any, cerr *storiface.CallError) error {
	r.Attempts <- id
	r.mu.Lock()
	if r.failures > 0 {
		r.failures--
		r.mu.Unlock()
		return ErrUnavailable
	}
	r.got[id] = append(r.got[id], Returned{Method: method, Value: v, Err: cerr})
	r.mu.Unlock()
	r.Acked <- id
	return nil
}

// ReturnDataCid records a result.
func (r *Returns) ReturnDataCid(_ context.Context, id storiface.CallID, pi abi.PieceInfo, err *storiface.CallError) error {
	return r.record(id, "DataCid", pi, err)
}

// ReturnAddPiece records a result.
func (r *Returns) ReturnAddPiece(_ context.Context, id storiface.CallID, pi abi.PieceInfo, err *storiface.CallError) error {
	return r.record(id, "AddPiece", pi, err)
}

// ReturnSealPreCommit1 records a result.
func (r *Returns) ReturnSealPreCommit1(_ context.Context, id storiface.CallID, out storiface.PreCommit1Out, err *storiface.CallError) error {
	return r.record(id, "SealPreCommit1", out, err)
}

// ReturnSealPreCommit2 records a result.
func (r *Returns) ReturnSealPreCommit2(_ context.Context, id storiface.CallID, out storiface.SectorCids, err *storiface.CallError) error {
	return r.record(id, "SealPreCommit2", out, err)
}

// ReturnSealCommit1 records a result.
func (r *Returns) ReturnSealCommit1(_ context.Context, id storiface.CallID, out storiface.Commit1Out, err *storiface.CallError) error {
	return r.record(id, "SealCommit1", out, err)
}

// ReturnSealCommit2 records a result.
func (r *Returns) ReturnSealCommit2(_ context.Context, id storiface.CallID, out storiface.Proof, err *storiface.CallError) error {
	return r.record(id, "SealCommit2", out, err)
}

// ReturnFinalizeSector records a result.
func (r *Returns) ReturnFinalizeSector(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return r.record(id, "FinalizeSector", nil, err)
}

// ReturnFinalizeUnsealed records a result.
func (r *Returns) ReturnFinalizeUnsealed(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return r.record(id, "FinalizeUnsealed", nil, err)
}

// ReturnReleaseUnsealed records a result.
func (r *Returns) ReturnReleaseUnsealed(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return r.record(id, "ReleaseUnsealed", nil, err)
}

// ReturnMoveStorage records a result.
func (r *Returns) ReturnMoveStorage(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return r.record(id, "MoveStorage", nil, err)
}

// ReturnUnsealPiece records a result.
func (r *Returns) ReturnUnsealPiece(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return r.record(id, "UnsealPiece", nil, err)
}

// ReturnFetch records a result.
func (r *Returns) ReturnFetch(_ context.Context, id storiface.CallID, err *storiface.CallError) error {
	return r.record(id, "Fetch", nil, err)
}
