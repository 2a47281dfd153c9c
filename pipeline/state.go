package pipeline

import (
	"fmt"
	"sort"
	"strings"
)

// SectorState names where a sector is in the pipeline. Values are persisted and shown to operators; they are
// stable.
type SectorState string

// The sealing states, in the order a sector passes through them.
const (
	// WaitDeals: an open sector that accepts deal pieces; it is packed when full, when Config.WaitDealsDelay has
	// passed since it was opened, or when an operator moves it to Packing.
	WaitDeals SectorState = "WaitDeals"
	// Packing: waiting for a sealing slot (Config.MaxSealing); once admitted, the rest of the sector is planned as
	// zero filler pieces and every piece not yet added is added.
	Packing SectorState = "Packing"
	// PreCommit1: the ticket is drawn and persisted on entry; SealPreCommit1 runs.
	PreCommit1 SectorState = "PreCommit1"
	// PreCommit2: SealPreCommit2 computes CommD and CommR.
	PreCommit2 SectorState = "PreCommit2"
	// WaitSeed: waits Config.WaitSeedDelay, then draws the interactive seed from the local randomness source.
	WaitSeed SectorState = "WaitSeed"
	// Commit1: SealCommit1 computes the vanilla proofs.
	Commit1 SectorState = "Commit1"
	// Commit2: SealCommit2 computes the SNARK proof.
	Commit2 SectorState = "Commit2"
	// Finalize: FinalizeSector drops the sealing-only cache files.
	Finalize SectorState = "Finalize"
	// MoveStorage: the sealed, cache (and, for deal sectors, unsealed) files move to long-term storage.
	MoveStorage SectorState = "MoveStorage"
	// Proving: sealed and stored; terminal for the pipeline.
	Proving SectorState = "Proving"

	// AddPieceFailed: an AddPiece call failed in WaitDeals or Packing.
	AddPieceFailed SectorState = "AddPieceFailed"
	// PreCommitFailed: PreCommit1 or PreCommit2 failed.
	PreCommitFailed SectorState = "PreCommitFailed"
	// CommitFailed: drawing the seed, Commit1 or Commit2 failed.
	CommitFailed SectorState = "CommitFailed"
	// FinalizeFailed: Finalize or MoveStorage failed.
	FinalizeFailed SectorState = "FinalizeFailed"
	// RemoveFailed: Sealer.Remove failed.
	RemoveFailed SectorState = "RemoveFailed"

	// Removing: the sector's running step was cancelled; Sealer.Remove deletes its files everywhere.
	Removing SectorState = "Removing"
	// Removed: the files are gone; the record and its event log are kept. Terminal.
	Removed SectorState = "Removed"
)

// stateInfo describes one state: its failure state, whether it holds a sealing slot, and its stage in progress
// displays.
type stateInfo struct {
	failure  SectorState // state entered when this state's step fails ("" for failure and terminal states)
	failures bool        // a failure state: waits for a backoff, then retries RetryState
	terminal bool        // no step runs
	sealing  bool        // counts against Config.MaxSealing
}

var states = map[SectorState]stateInfo{
	WaitDeals:       {failure: AddPieceFailed},
	Packing:         {failure: AddPieceFailed}, // holds a slot only once planned (see Sector.planned)
	PreCommit1:      {failure: PreCommitFailed, sealing: true},
	PreCommit2:      {failure: PreCommitFailed, sealing: true},
	WaitSeed:        {failure: CommitFailed, sealing: true},
	Commit1:         {failure: CommitFailed, sealing: true},
	Commit2:         {failure: CommitFailed, sealing: true},
	Finalize:        {failure: FinalizeFailed, sealing: true},
	MoveStorage:     {failure: FinalizeFailed, sealing: true},
	Proving:         {terminal: true},
	AddPieceFailed:  {failures: true},
	PreCommitFailed: {failures: true, sealing: true},
	CommitFailed:    {failures: true, sealing: true},
	FinalizeFailed:  {failures: true, sealing: true},
	RemoveFailed:    {failures: true},
	Removing:        {failure: RemoveFailed},
	Removed:         {terminal: true},
}

// Stages lists the states a sector passes through when all goes well, in order; progress displays use it.
var Stages = []SectorState{WaitDeals, Packing, PreCommit1, PreCommit2, WaitSeed, Commit1, Commit2, Finalize,
	MoveStorage, Proving}

// AllStates returns every state name, sorted.
func AllStates() []SectorState {
	out := make([]SectorState, 0, len(states))
	for s := range states {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ParseState returns the state named s (case-insensitive); an unknown name is an error listing the accepted
// names.
func ParseState(s string) (SectorState, error) {
	for st := range states {
		if strings.EqualFold(string(st), strings.TrimSpace(s)) {
			return st, nil
		}
	}
	names := make([]string, 0, len(states))
	for _, st := range AllStates() {
		names = append(names, string(st))
	}
	return "", fmt.Errorf("state %q: unknown; accepted are %s", s, strings.Join(names, ", "))
}

// Valid reports whether s is a known state.
func (s SectorState) Valid() bool { _, ok := states[s]; return ok }

// Terminal reports whether no step runs in s (Proving, Removed).
func (s SectorState) Terminal() bool { return states[s].terminal }

// Failed reports whether s is a failure state (retried with backoff until Config.MaxRetries is exceeded).
func (s SectorState) Failed() bool { return states[s].failures }

// StageIndex returns the position of s in Stages, or -1 for a state outside the happy path.
func (s SectorState) StageIndex() int {
	for i, st := range Stages {
		if st == s {
			return i
		}
	}
	return -1
}
