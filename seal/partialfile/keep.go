package partialfile

import (
	"fmt"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// FreeExcept frees (punches holes in) every allocated part of the file that no keep range touches, so that only
// the kept data stays on disk. Each keep range is an unpadded range of the sector; the whole 128-byte padded
// blocks holding it are kept, so a range need not be block-aligned and kept data is never cut. Keep ranges may
// overlap and come in any order. An empty or out-of-sector range is an error and nothing is freed.
func (pf *PartialFile) FreeExcept(keep []storiface.Range) error {
	free := append(spans(nil), pf.alloc...)
	for i, r := range keep {
		s, err := paddedCover(uint64(r.Offset), uint64(r.Size), uint64(pf.maxPiece))
		if err != nil {
			return fmt.Errorf("keep range %d (offset %d, size %d): %w", i, r.Offset, r.Size, err)
		}
		free = free.subtract(s)
	}
	for _, s := range free {
		if err := pf.Free(storiface.PaddedByteIndex(s.Offset), abi.PaddedPieceSize(s.Size)); err != nil {
			return fmt.Errorf("freeing outside the keep ranges: %w", err)
		}
	}
	return nil
}

// KeepOnly opens the unsealed file at path of a sector of ssize, frees everything outside the keep ranges (see
// FreeExcept) and closes it. The file stays in place, with its trailer listing only the kept data.
func KeepOnly(path string, ssize abi.SectorSize, keep []storiface.Range) error {
	pf, err := Open(path, abi.PaddedPieceSize(ssize))
	if err != nil {
		return err
	}
	ferr := pf.FreeExcept(keep)
	if err := pf.Close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("closing unsealed file %s: %w", path, err)
	}
	return ferr
}
