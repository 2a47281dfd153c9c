package commp

import (
	"errors"
	"fmt"
	"io"

	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/abi"
)

// copyBuf is the read size PieceCID uses: large enough that Calc hashes chunks straight from it.
const copyBuf = 4 * chunkRaw

// PieceCID reads exactly size payload bytes from r and returns their piece commitment and padded size (the payload
// zero-filled to the next power-of-two padded size). size must be at least MinPayload; a reader that ends early
// is an error (io.ErrUnexpectedEOF). Bytes after size are not read.
func PieceCID(r io.Reader, size uint64) (abi.PieceInfo, error) {
	if size < MinPayload || size > MaxPayload {
		return abi.PieceInfo{}, fmt.Errorf("payload size %d: accepted are %d to %d bytes", size, MinPayload, MaxPayload)
	}
	c := &Calc{}
	buf := make([]byte, min(uint64(copyBuf), size))
	n, err := io.CopyBuffer(c, io.LimitReader(r, int64(size)), buf)
	if err != nil {
		return abi.PieceInfo{}, fmt.Errorf("reading payload: %w", err)
	}
	if uint64(n) != size {
		return abi.PieceInfo{}, fmt.Errorf("reading payload: got %d of %d bytes: %w", n, size, io.ErrUnexpectedEOF)
	}
	return c.PieceInfo()
}

// PieceInfo is Digest returning a PieceInfo with the piece CID; it resets the Calc like Digest.
func (c *Calc) PieceInfo() (abi.PieceInfo, error) {
	comm, padded, err := c.Digest()
	if err != nil {
		return abi.PieceInfo{}, err
	}
	pc, err := commcid.DataCommitmentV1ToCID(comm)
	if err != nil {
		return abi.PieceInfo{}, fmt.Errorf("CommP to CID: %w", err)
	}
	return abi.PieceInfo{Size: abi.PaddedPieceSize(padded), PieceCID: pc}, nil
}

// GeneratePieceCID reads a piece of exactly size unpadded bytes (a valid piece size, 127·2^k with k ≥ 0) and
// returns its PieceInfo, like filecoin-ffi GeneratePieceCIDFromFile. A short reader is an error.
func GeneratePieceCID(r io.Reader, size abi.UnpaddedPieceSize) (abi.PieceInfo, error) {
	if err := size.Validate(); err != nil {
		return abi.PieceInfo{}, fmt.Errorf("unpadded piece size %d: %w", uint64(size), err)
	}
	pi, err := PieceCID(r, uint64(size))
	if err != nil {
		return abi.PieceInfo{}, err
	}
	if pi.Size != size.Padded() {
		return abi.PieceInfo{}, errors.New("commp: internal error: padded size mismatch")
	}
	return pi, nil
}
