package commp

import (
	"fmt"
	"math/bits"

	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"
)

// MaxLevel is the height of the tallest tree this package handles: 2^MaxLevel leaves of 32 bytes, i.e. padded
// pieces up to 2^(MaxLevel+5) bytes (1 PiB). Filecoin's largest sector (64GiB) is level 31.
const MaxLevel = 45

// zeroComms[k] is the root of a subtree of 2^k all-zero leaves.
var zeroComms = func() (z [MaxLevel + 1]Node) {
	h := newHasher()
	for k := 1; k <= MaxLevel; k++ {
		z[k] = h.join(&z[k-1], &z[k-1])
	}
	return z
}()

// ZeroComm returns the commitment of an all-zero subtree of height level (2^level leaves, 32<<level padded bytes):
// Z0 is 32 zero bytes and Z(k+1) = H(Zk ‖ Zk). It panics if level is outside [0, MaxLevel].
func ZeroComm(level int) Node {
	if level < 0 || level > MaxLevel {
		panic(fmt.Sprintf("commp.ZeroComm: level %d outside [0, %d]", level, MaxLevel))
	}
	return zeroComms[level]
}

// levelOf returns the tree level of a padded size, or an error unless the size is a power of two of at least 128
// bytes and at most 2^(MaxLevel+5).
func levelOf(field string, padded abi.PaddedPieceSize) (int, error) {
	if padded < 128 || bits.OnesCount64(uint64(padded)) != 1 || padded > 1<<(MaxLevel+5) {
		return 0, fmt.Errorf("%s %d: must be a power of two between 128 and %d bytes", field, uint64(padded), uint64(1)<<(MaxLevel+5))
	}
	return bits.TrailingZeros64(uint64(padded)) - 5, nil
}

// ZeroPieceCommitment returns the piece CID of an all-zero piece of the given padded size (a power of two, at
// least 128 bytes), as go-commp-utils `zerocomm.ZeroPieceCommitment` does for the unpadded size.
func ZeroPieceCommitment(paddedSize abi.PaddedPieceSize) (cid.Cid, error) {
	level, err := levelOf("zero piece padded size", paddedSize)
	if err != nil {
		return cid.Undef, err
	}
	z := zeroComms[level]
	c, err := commcid.DataCommitmentV1ToCID(z[:])
	if err != nil {
		return cid.Undef, fmt.Errorf("zero piece commitment to CID: %w", err)
	}
	return c, nil
}

// ZeroPiece returns the PieceInfo of an all-zero piece of the given padded size.
func ZeroPiece(paddedSize abi.PaddedPieceSize) (abi.PieceInfo, error) {
	c, err := ZeroPieceCommitment(paddedSize)
	if err != nil {
		return abi.PieceInfo{}, err
	}
	return abi.PieceInfo{Size: paddedSize, PieceCID: c}, nil
}
