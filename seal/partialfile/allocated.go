package partialfile

import (
	"fmt"
	"os"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// Allocated reports whether the unsealed file at path holds data for every padded block under the unpadded range
// [offset, offset+size) of a sector of ssize. It has the signature of stores.AllocatedFunc, so a node's /remote
// handler can answer allocated-range requests without package stores depending on seal.
//
// The file is opened read-only and closed before returning. A file of exactly the sector's padded size carries no
// allocation trailer (a plain unsealed copy) and is reported fully allocated. Any other file must be a partial
// file as Open accepts it; a missing or malformed file, a bad sector size or a range outside the sector is an
// error.
func Allocated(path string, ssize abi.SectorSize, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) (bool, error) {
	maxPiece := abi.PaddedPieceSize(ssize)
	if err := checkMaxPiece(maxPiece); err != nil {
		return false, fmt.Errorf("checking allocated range: sector size: %w", err)
	}
	want, err := paddedCover(uint64(offset), uint64(size), uint64(maxPiece))
	if err != nil {
		return false, fmt.Errorf("checking allocated range: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("checking allocated range: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("checking allocated range of %s: %w", path, err)
	}
	if st.Size() == int64(maxPiece) {
		return true, nil
	}
	alloc, err := readTrailer(f, maxPiece)
	if err != nil {
		return false, fmt.Errorf("checking allocated range of %s: %w", path, err)
	}
	return alloc.covered(want) == want.Size, nil
}
