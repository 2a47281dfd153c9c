package manager

import (
	"fmt"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/storiface"
)

//go:generate go run ./gen

// WorkID identifies a unit of work by what it does: the task type and a digest of the call's parameters. Two
// identical calls have the same WorkID, which is how a re-issued call finds the work already running.
type WorkID struct {
	Method string // the task type, e.g. seal/v0/precommit/1
	Params string // hex SHA-256 of the JSON encoding of the parameters
}

// String formats the ID as "<method>(<digest prefix>)".
func (w WorkID) String() string {
	p := w.Params
	if len(p) > 16 {
		p = p[:16]
	}
	return fmt.Sprintf("%s(%s)", w.Method, p)
}

// key is the WorkID as one string, the SQL primary key.
func (w WorkID) key() string { return w.Method + "/" + w.Params }

// newWorkID digests the parameters of a call.
func newWorkID(method storiface.TaskType, params ...any) (WorkID, error) {
	digest, err := storiface.WorkDigest(method, params...)
	if err != nil {
		return WorkID{}, err
	}
	return WorkID{Method: string(method), Params: digest}, nil
}

// WorkStatus is where tracked work is.
type WorkStatus string

// The work statuses.
const (
	// WorkStarted: the work was created and is being scheduled; no worker has a call for it yet.
	WorkStarted WorkStatus = "started"
	// WorkRunning: a worker accepted the call (WorkerCall); its result is awaited.
	WorkRunning WorkStatus = "running"
	// WorkDone: the result (or error) arrived and waits to be taken.
	WorkDone WorkStatus = "done"
)

// CallRef is a storiface.CallID in a form cbor-gen encodes.
type CallRef struct {
	Miner  uint64
	Number uint64
	UUID   []byte
}

// callRef converts a CallID.
func callRef(c storiface.CallID) CallRef {
	return CallRef{Miner: uint64(c.Sector.Miner), Number: uint64(c.Sector.Number), UUID: c.ID[:]}
}

// CallID converts back; a malformed UUID gives the zero CallID.
func (r CallRef) CallID() storiface.CallID {
	u, err := uuid.FromBytes(r.UUID)
	if err != nil {
		return storiface.UndefCall
	}
	return storiface.CallID{Sector: abi.SectorID{Miner: abi.ActorID(r.Miner), Number: abi.SectorNumber(r.Number)}, ID: u}
}

// WorkState is the persisted record of tracked work (CBOR, see cbor_gen.go).
type WorkState struct {
	ID     WorkID
	Status WorkStatus

	WorkerCall     CallRef // set once Running
	WorkerHostname string
	StartTime      int64 // unix seconds when the worker accepted the call

	Result    []byte // JSON of the result value once Done without error
	ErrCode   int64  // storiface.ErrorCode of the failure, when ErrMsg is set
	WorkError string // the failure message; empty on success
}

// callError returns the failure recorded in a Done state, or nil.
func (ws *WorkState) callError() *storiface.CallError {
	if ws.WorkError == "" {
		return nil
	}
	return &storiface.CallError{Code: storiface.ErrorCode(ws.ErrCode), Message: ws.WorkError}
}
