// Package sectordir seals, verifies and unseals one sector in a self-contained directory, for the offline
// `sealfleet proofs seal|verify|unseal` commands: DIR/{unsealed,sealed,cache}/s-t0<miner>-<number>, the public
// inputs and timings in DIR/seal.json and the C2 proof in DIR/proof.
package sectordir

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/seal/native"
	"sealfleet/storiface"
)

// File names inside a sector directory.
const (
	RecordFile = "seal.json"
	ProofFile  = "proof"
	// FFICommit1File is the C1 output in the form filecoin-ffi's SealCommitPhase2 takes (V1 and V1_1 proofs).
	FFICommit1File = "commit1-ffi.json"
)

// Record is DIR/seal.json: what was sealed and its public inputs.
type Record struct {
	ProofType  abi.RegisteredSealProof `json:"proofType"`
	Miner      abi.ActorID             `json:"miner"`
	Number     abi.SectorNumber        `json:"number"`
	Ticket     string                  `json:"ticket"` // hex
	Seed       string                  `json:"seed"`   // hex
	CommD      string                  `json:"commD"`  // CID
	CommR      string                  `json:"commR"`  // CID
	ReplicaID  string                  `json:"replicaID"`
	DataSize   uint64                  `json:"dataSize"` // bytes of --data at the start of the sector (0 for CC)
	Pieces     []abi.PieceInfo         `json:"pieces"`
	Challenges []uint64                `json:"challenges"`
	Prover     string                  `json:"prover"`
	Seconds    map[string]float64      `json:"seconds"`
}

// Sector returns the record's sector reference.
func (r Record) Sector() storiface.SectorRef {
	return storiface.SectorRef{ID: abi.SectorID{Miner: r.Miner, Number: r.Number}, ProofType: r.ProofType}
}

// Public parses the record's public inputs.
func (r Record) Public() (native.PublicInputs, storiface.SectorCids, error) {
	pub := native.PublicInputs{Sector: r.Sector()}
	var cids storiface.SectorCids
	var err error
	if pub.Ticket, err = Hex32("ticket", r.Ticket); err != nil {
		return pub, cids, err
	}
	if pub.Seed, err = Hex32("seed", r.Seed); err != nil {
		return pub, cids, err
	}
	if cids.Unsealed, err = cid.Parse(r.CommD); err != nil {
		return pub, cids, fmt.Errorf("%s: commD: %w", RecordFile, err)
	}
	if cids.Sealed, err = cid.Parse(r.CommR); err != nil {
		return pub, cids, fmt.Errorf("%s: commR: %w", RecordFile, err)
	}
	pub.CommD, pub.CommR, err = native.Commitments(cids)
	return pub, cids, err
}

// Paths returns the sector's file paths in dir.
func Paths(dir string, id abi.SectorID) storiface.SectorPaths {
	p := storiface.SectorPaths{ID: id}
	for _, ft := range []storiface.SectorFileType{storiface.FTUnsealed, storiface.FTSealed, storiface.FTCache} {
		p.SetPathByType(ft, storiface.SectorPathIn(dir, ft, id))
	}
	return p
}

// ReadRecord reads DIR/seal.json.
func ReadRecord(dir string) (Record, error) {
	var r Record
	b, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		return r, fmt.Errorf("reading sector record: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", RecordFile, err)
	}
	return r, nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Hex32 parses 64 hex digits; the error names the field.
func Hex32(field, s string) ([32]byte, error) {
	var v [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return v, fmt.Errorf("%s: want 64 hex digits (32 bytes), got %q", field, s)
	}
	copy(v[:], b)
	return v, nil
}
