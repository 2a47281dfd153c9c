package pipeline

import (
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/storiface"
)

// Piece is one piece of a sector, in order. Deal pieces carry the payload's location; filler pieces are zeros.
type Piece struct {
	// Size is the piece's unpadded size, 127·2^k bytes.
	Size abi.UnpaddedPieceSize
	// Deal is true for a piece of client data, false for a zero filler (and a pledge's single piece).
	Deal bool
	// DataSize is the payload length of a deal piece before it was zero-padded to Size.
	DataSize uint64 `json:",omitempty"`
	// Data says where the worker reads the bytes (zero value: zeros).
	Data storiface.PieceData
	// CID is the piece commitment, set once AddPiece returned (cid.Undef before).
	CID cid.Cid
}

// Added reports whether AddPiece has completed for the piece.
func (p Piece) Added() bool { return p.CID.Defined() }

// SectorInfo is what the pipeline knows about a sector, as List and Status return it. The opaque PC1 and C1
// outputs are not included (HasPC1Out / HasC1Out say whether they are stored).
type SectorInfo struct {
	Number    abi.SectorNumber
	ProofType abi.RegisteredSealProof
	State     SectorState
	// RetryState is, in a failure state, the state the retry returns to.
	RetryState SectorState `json:",omitempty"`
	Pieces     []Piece
	Ticket     abi.SealRandomness            `json:",omitempty"`
	Seed       abi.InteractiveSealRandomness `json:",omitempty"`
	CommD      cid.Cid
	CommR      cid.Cid
	HasPC1Out  bool
	HasC1Out   bool
	Proof      storiface.Proof `json:",omitempty"`
	// Admitted is set when the sector took a sealing slot in Packing (Config.MaxSealing); it holds the slot
	// from then on until it is Proving or removed.
	Admitted bool
	// Retries counts the failures of the current step in a row.
	Retries int
	// GaveUp is true in a failure state once Retries exceeds Config.MaxRetries: no automatic retry follows.
	GaveUp    bool
	LastError string    `json:",omitempty"`
	NextRetry time.Time `json:",omitzero"`
	// SeedAt is when the seed may be drawn (set on entering WaitSeed).
	SeedAt  time.Time `json:",omitzero"`
	Created time.Time
	Updated time.Time
}

// Ref returns the sector's SectorRef for miner.
func (s *SectorInfo) Ref(miner abi.ActorID) storiface.SectorRef {
	return storiface.SectorRef{ID: abi.SectorID{Miner: miner, Number: s.Number}, ProofType: s.ProofType}
}

// Used returns the unpadded bytes the pieces take, in the sector's unpadded space.
func (s *SectorInfo) Used() abi.UnpaddedPieceSize {
	var sum abi.PaddedPieceSize
	for _, p := range s.Pieces {
		sum += p.Size.Padded()
	}
	return sum.Unpadded()
}

// DealBytes sums the payload lengths of the deal pieces.
func (s *SectorInfo) DealBytes() uint64 {
	var n uint64
	for _, p := range s.Pieces {
		n += p.DataSize
	}
	return n
}

// pieceInfos returns the pieces as the sealer takes them (every piece must be added).
func (s *SectorInfo) pieceInfos() []abi.PieceInfo {
	out := make([]abi.PieceInfo, len(s.Pieces))
	for i, p := range s.Pieces {
		out[i] = abi.PieceInfo{Size: p.Size.Padded(), PieceCID: p.CID}
	}
	return out
}

// sector is the full persisted record: SectorInfo plus the opaque outputs.
type sector struct {
	SectorInfo
	PC1Out storiface.PreCommit1Out
	C1Out  storiface.Commit1Out
	dropC1 bool // set by a mutation to delete the stored C1 output (it is large and no longer needed)
}

// SectorPieceLocation says where AddPiece put a piece.
type SectorPieceLocation struct {
	Sector abi.SectorNumber
	// Offset is the piece's offset in the sector's unpadded space.
	Offset storiface.UnpaddedByteIndex
	// Size is the piece's unpadded size (the payload zero-padded to 127·2^k).
	Size abi.UnpaddedPieceSize
	// DataSize is the payload length.
	DataSize uint64
}

// Event is one entry of a sector's log: a state change, or a note within a state (a piece added).
type Event struct {
	Sector  abi.SectorNumber
	Seq     int64
	Time    time.Time
	From    SectorState
	To      SectorState
	Message string `json:",omitempty"`
}

// StateChange is sent to subscribers after a sector's state was persisted.
type StateChange struct {
	Sector abi.SectorNumber
	From   SectorState
	To     SectorState
	Time   time.Time
	// Error is the error that moved the sector into a failure state, if any.
	Error string `json:",omitempty"`
}
