package sectordir

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/native"
	"sealfleet/seal/porep"
	"sealfleet/storiface"
)

// SealRequest is what `proofs seal` seals.
type SealRequest struct {
	Sector storiface.SectorRef
	Ticket [32]byte
	Seed   [32]byte
	// Data is the payload placed at the start of the sector (nil: an all-zero CC sector); DataSize its length.
	Data     io.Reader
	DataSize uint64
	// Progress, if set, is told when each stage starts.
	Progress func(stage string)
}

// Seal runs AP, PC1, PC2, C1, verification and C2 for one sector in dir (which must not hold a sector yet) and
// writes seal.json and the proof. The payload becomes one piece (zero-filled to a valid piece size); zero pieces
// fill the rest of the sector.
func Seal(ctx context.Context, b *native.Backend, dir string, req SealRequest, prover native.Prover) (Record, error) {
	rec := Record{ProofType: req.Sector.ProofType, Miner: req.Sector.ID.Miner, Number: req.Sector.ID.Number,
		Ticket: hex.EncodeToString(req.Ticket[:]), Seed: hex.EncodeToString(req.Seed[:]), DataSize: req.DataSize,
		Prover: prover.Name(), Seconds: map[string]float64{}}
	ssize, err := req.Sector.ProofType.SectorSize()
	if err != nil {
		return rec, fmt.Errorf("proof type %d: %w", req.Sector.ProofType, err)
	}
	if _, err := os.Stat(filepath.Join(dir, RecordFile)); err == nil {
		return rec, fmt.Errorf("dir %s already holds a sealed sector (%s); use an empty directory", dir, RecordFile)
	}
	paths := Paths(dir, req.Sector.ID)
	for _, p := range []string{paths.Unsealed, paths.Sealed, paths.Cache} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return rec, err
		}
	}
	stage := func(name string, fn func() error) error {
		if req.Progress != nil {
			req.Progress(name)
		}
		start := time.Now()
		err := fn()
		rec.Seconds[name] = time.Since(start).Seconds()
		return err
	}
	if err := stage("AP", func() error { rec.Pieces, err = addPieces(ctx, b, req, paths, ssize); return err }); err != nil {
		return rec, fmt.Errorf("AP: %w", err)
	}
	var pc1o storiface.PreCommit1Out
	if err := stage("PC1", func() error {
		pc1o, err = b.SealPreCommit1(ctx, req.Sector, paths, req.Ticket[:], rec.Pieces)
		return err
	}); err != nil {
		return rec, err
	}
	var cids storiface.SectorCids
	if err := stage("PC2", func() error { cids, err = b.SealPreCommit2(ctx, req.Sector, paths, pc1o); return err }); err != nil {
		return rec, err
	}
	rec.CommD, rec.CommR = cids.Unsealed.String(), cids.Sealed.String()
	var c1o storiface.Commit1Out
	if err := stage("C1", func() error {
		c1o, err = b.SealCommit1(ctx, req.Sector, paths, req.Ticket[:], req.Seed[:], rec.Pieces, cids)
		return err
	}); err != nil {
		return rec, err
	}
	out, err := porep.ReadCommit1JSON(bytes.NewReader(c1o))
	if err != nil {
		return rec, err
	}
	rec.ReplicaID = hex.EncodeToString(out.ReplicaID[:])
	for _, p := range out.Proofs {
		rec.Challenges = append(rec.Challenges, p.Challenge)
	}
	// The filecoin-ffi form of the C1 output, for the proofs that have one (V1, V1_1).
	if ffi, ffiErr := out.FFIJSON(req.Sector.ProofType); ffiErr == nil {
		if err := writeFileAtomic(filepath.Join(dir, FFICommit1File), ffi); err != nil {
			return rec, err
		}
	}
	var proof storiface.Proof
	if err := stage("C2", func() error { proof, err = prover.Prove(ctx, req.Sector, c1o); return err }); err != nil {
		return rec, fmt.Errorf("C2 (%s prover): %w", prover.Name(), err)
	}
	if err := writeFileAtomic(filepath.Join(dir, ProofFile), proof); err != nil {
		return rec, err
	}
	js, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return rec, err
	}
	return rec, writeFileAtomic(filepath.Join(dir, RecordFile), js)
}

// addPieces writes the payload as one piece (zero-filled to the next piece size) and fills the sector with zero
// pieces as commp.FillPieces lays them out.
func addPieces(ctx context.Context, b *native.Backend, req SealRequest, paths storiface.SectorPaths, ssize abi.SectorSize) ([]abi.PieceInfo, error) {
	capacity := uint64(abi.PaddedPieceSize(ssize).Unpadded())
	if req.DataSize > capacity {
		return nil, fmt.Errorf("data: %d bytes do not fit a %d-byte sector (capacity %d bytes)", req.DataSize, ssize, capacity)
	}
	var pieces []abi.PieceInfo
	var existing []abi.UnpaddedPieceSize
	add := func(size abi.UnpaddedPieceSize, r io.Reader) error {
		pi, err := b.AddPiece(ctx, req.Sector, paths, existing, size, r)
		if err != nil {
			return err
		}
		pieces, existing = append(pieces, pi), append(existing, size)
		return nil
	}
	if req.Data != nil && req.DataSize > 0 {
		size := pieceSizeFor(req.DataSize)
		zeros := io.LimitReader(zeroReader{}, int64(uint64(size)-req.DataSize))
		if err := add(size, io.MultiReader(io.LimitReader(req.Data, int64(req.DataSize)), zeros)); err != nil {
			return nil, err
		}
	}
	// Zero pieces after the payload: each as large as alignment allows (P, 2P, 4P, … up to the sector end).
	used := uint64(0)
	for _, s := range existing {
		used += uint64(s.Padded())
	}
	for used < uint64(ssize) {
		next := uint64(128)
		if used > 0 {
			next = used & -used // largest power of two dividing the offset keeps the piece aligned
		} else {
			next = uint64(ssize)
		}
		for used+next > uint64(ssize) {
			next /= 2
		}
		if err := add(abi.PaddedPieceSize(next).Unpadded(), nil); err != nil {
			return nil, err
		}
		used += next
	}
	return pieces, nil
}

// pieceSizeFor returns the smallest unpadded piece size (127·2^k, at least 127) that holds n bytes.
func pieceSizeFor(n uint64) abi.UnpaddedPieceSize {
	p := uint64(128)
	for uint64(abi.PaddedPieceSize(p).Unpadded()) < n {
		p *= 2
	}
	return abi.PaddedPieceSize(p).Unpadded()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
