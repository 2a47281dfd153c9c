package commp

import (
	"errors"
	"fmt"
	"math/bits"

	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"
)

// minPieceUnpadded is rust-fil-proofs MINIMUM_RESERVED_BYTES_FOR_PIECE_IN_FULLY_ALIGNED_SECTOR: the unpadded size of
// the smallest piece, which bounds how many pieces a sector can hold.
const minPieceUnpadded = 127

// ComputeCommD combines the pieces of a sector, in order, into the sector's unsealed commitment exactly as
// rust-fil-proofs `filecoin-proofs/src/pieces.rs::compute_comm_d` does: pieces go onto a stack; before each piece,
// zero pieces of the top's size are pushed until the top is at least as large (alignment); equal neighbours are
// joined; finally zero pieces are pushed until one node is left.
//
// Like the reference, it does NOT pad to the sector size: the result is the root over the pieces' extent. With no
// pieces it returns the commitment of an all-zero sector. Use UnsealedCID for what the chain computes (pieces
// filled up to the sector size). Errors: a piece size that is not a power of two of at least 128 bytes, a CID
// that is not a piece commitment, more pieces than the sector can hold, or pieces larger in total than the sector.
func ComputeCommD(sectorSize abi.SectorSize, pieces []abi.PieceInfo) (cid.Cid, error) {
	sectorLevel, err := levelOf("sector size", abi.PaddedPieceSize(sectorSize))
	if err != nil {
		return cid.Undef, err
	}
	var root Node
	if len(pieces) == 0 {
		root = zeroComms[sectorLevel]
	} else if root, err = computeCommD(sectorSize, pieces); err != nil {
		return cid.Undef, err
	}
	c, err := commcid.DataCommitmentV1ToCID(root[:])
	if err != nil {
		return cid.Undef, fmt.Errorf("CommD to CID: %w", err)
	}
	return c, nil
}

type stackPiece struct {
	comm  Node
	level int
}

func computeCommD(sectorSize abi.SectorSize, pieces []abi.PieceInfo) (Node, error) {
	if max := uint64(abi.PaddedPieceSize(sectorSize).Unpadded()) / minPieceUnpadded; uint64(len(pieces)) > max {
		return Node{}, fmt.Errorf("pieces: %d pieces, a %d-byte sector holds at most %d", len(pieces), uint64(sectorSize), max)
	}
	var sum uint64
	for i, p := range pieces {
		if _, err := levelOf(fmt.Sprintf("piece %d padded size", i), p.Size); err != nil {
			return Node{}, err
		}
		sum += uint64(p.Size)
	}
	if sum > uint64(sectorSize) {
		return Node{}, fmt.Errorf("pieces: total padded size %d is larger than the %d-byte sector", sum, uint64(sectorSize))
	}
	h := newHasher()
	var st []stackPiece
	shiftReduce := func(p stackPiece) {
		st = append(st, p)
		for len(st) >= 2 && st[len(st)-1].level == st[len(st)-2].level {
			l, r := st[len(st)-2], st[len(st)-1]
			st = st[:len(st)-2]
			st = append(st, stackPiece{comm: h.join(&l.comm, &r.comm), level: l.level + 1})
		}
	}
	for i, p := range pieces {
		comm, err := pieceComm(p.PieceCID)
		if err != nil {
			return Node{}, fmt.Errorf("piece %d: %w", i, err)
		}
		level, _ := levelOf("", p.Size)
		if i > 0 {
			for st[len(st)-1].level < level {
				top := st[len(st)-1].level
				shiftReduce(stackPiece{comm: zeroComms[top], level: top})
			}
		}
		shiftReduce(stackPiece{comm: comm, level: level})
	}
	for len(st) > 1 {
		top := st[len(st)-1].level
		shiftReduce(stackPiece{comm: zeroComms[top], level: top})
	}
	return st[0].comm, nil
}

// pieceComm extracts the 32-byte commitment of a piece CID.
func pieceComm(c cid.Cid) (Node, error) {
	if !c.Defined() {
		return Node{}, errors.New("piece CID is undefined")
	}
	raw, err := commcid.CIDToPieceCommitmentV1(c)
	if err != nil {
		return Node{}, fmt.Errorf("piece CID %s is not a piece commitment: %w", c, err)
	}
	return Node(raw), nil
}

// RequiredPadding returns the zero pieces, smallest first, that must follow oldLength padded bytes so that a piece
// of newPieceLength (a power of two) starts aligned to its own size, and their total size. It follows lotus /
// go-commp-utils GetRequiredPadding.
func RequiredPadding(oldLength, newPieceLength abi.PaddedPieceSize) ([]abi.PaddedPieceSize, abi.PaddedPieceSize) {
	toFill := uint64(-oldLength % newPieceLength)
	pads := make([]abi.PaddedPieceSize, 0, bits.OnesCount64(toFill))
	var sum abi.PaddedPieceSize
	for toFill != 0 {
		p := abi.PaddedPieceSize(1) << bits.TrailingZeros64(toFill)
		toFill ^= uint64(p)
		pads = append(pads, p)
		sum += p
	}
	return pads, sum
}

// FillPieces returns pieces with zero pieces inserted before each piece that would be misaligned and appended
// until the total is the sector size, as lotus's AddPiece fillers and ref-fvm compute_unsealed_sector_cid lay a
// sector out. With no pieces it returns one zero piece of the whole sector.
func FillPieces(sectorSize abi.SectorSize, pieces []abi.PieceInfo) ([]abi.PieceInfo, error) {
	ssize := abi.PaddedPieceSize(sectorSize)
	if _, err := levelOf("sector size", ssize); err != nil {
		return nil, err
	}
	out := make([]abi.PieceInfo, 0, len(pieces)+8)
	var sum abi.PaddedPieceSize
	padTo := func(size abi.PaddedPieceSize) error {
		pads, _ := RequiredPadding(sum, size)
		for _, p := range pads {
			z, err := ZeroPiece(p)
			if err != nil {
				return err
			}
			out = append(out, z)
			sum += p
		}
		return nil
	}
	for i, p := range pieces {
		if _, err := levelOf(fmt.Sprintf("piece %d padded size", i), p.Size); err != nil {
			return nil, err
		}
		if err := padTo(p.Size); err != nil {
			return nil, err
		}
		out = append(out, p)
		sum += p.Size
		if sum > ssize {
			return nil, fmt.Errorf("pieces: piece %d ends at padded byte %d, past the %d-byte sector", i, uint64(sum), uint64(ssize))
		}
	}
	if err := padTo(ssize); err != nil {
		return nil, err
	}
	return out, nil
}

// UnsealedCID returns the CommD of a sector holding pieces: the pieces are filled with zero pieces up to the sector
// size (FillPieces) and combined with ComputeCommD, as ref-fvm `compute_unsealed_sector_cid` and go-commp-utils
// GenerateUnsealedCID do. No pieces gives the CommD of an all-zero (CC) sector.
func UnsealedCID(sectorSize abi.SectorSize, pieces []abi.PieceInfo) (cid.Cid, error) {
	all, err := FillPieces(sectorSize, pieces)
	if err != nil {
		return cid.Undef, err
	}
	return ComputeCommD(sectorSize, all)
}
