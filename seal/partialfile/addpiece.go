package partialfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/commp"
	"sealfleet/seal/fr32"
	"sealfleet/storiface"
)

// ioChunkRaw is how many unpadded bytes AddPiece and ReadPiece handle per step (4 MiB padded).
const ioChunkRaw = 127 << 15

// PieceOffset returns where a piece of the given size goes after the existing pieces of a sector, and the zero
// pieces (smallest first) that fill the gap before it. Every piece starts at a multiple of its padded size; existing
// pieces are laid out by the same rule (rust-fil-proofs pieces.rs get_piece_alignment, lotus GetRequiredPadding),
// so an existing list with or without explicit filler pieces gives the same offsets.
func PieceOffset(existing []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize) (storiface.PaddedByteIndex, []abi.PaddedPieceSize, error) {
	if err := size.Validate(); err != nil {
		return 0, nil, fmt.Errorf("piece size %d: %w", uint64(size), err)
	}
	var off abi.PaddedPieceSize
	for i, e := range existing {
		if err := e.Validate(); err != nil {
			return 0, nil, fmt.Errorf("existing piece %d size %d: %w", i, uint64(e), err)
		}
		_, pad := commp.RequiredPadding(off, e.Padded())
		off += pad + e.Padded()
	}
	pads, pad := commp.RequiredPadding(off, size.Padded())
	return storiface.PaddedByteIndex(off + pad), pads, nil
}

// AddPiece writes a piece of size unpadded bytes read from data into the unsealed file at path, after the existing
// pieces, and returns its PieceInfo (CommP computed while writing). The file is created (maxPiece = sectorSize) if
// it does not exist and existing is empty. The piece lands at its aligned offset (PieceOffset); the zero pieces
// before it are marked allocated without writing, as are all-zero stretches of data (the file stays sparse there).
// A nil data is a zero piece: nothing is read or written and its CommP comes from the zero table. The target range
// is hole-punched first, so leftovers of a crashed attempt never show through unwritten zeros.
//
// Errors leave the file as it was (allocation unchanged, written bytes punched out, a file created by this call
// removed): an invalid size, a piece that does not fit, a range already allocated, a reader that ends before size
// bytes or fails, a cancelled ctx.
func AddPiece(ctx context.Context, path string, sectorSize abi.SectorSize, existing []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize, data io.Reader) (abi.PieceInfo, error) {
	maxPiece := abi.PaddedPieceSize(sectorSize)
	if err := checkMaxPiece(maxPiece); err != nil {
		return abi.PieceInfo{}, fmt.Errorf("add piece: sector size: %w", err)
	}
	offset, pads, err := PieceOffset(existing, size)
	if err != nil {
		return abi.PieceInfo{}, fmt.Errorf("add piece: %w", err)
	}
	if end := uint64(offset) + uint64(size.Padded()); end > uint64(maxPiece) {
		return abi.PieceInfo{}, fmt.Errorf("add piece: a %d-byte piece at padded offset %d ends at %d, past the %d-byte sector",
			uint64(size), uint64(offset), end, uint64(maxPiece))
	}
	pf, created, err := openOrCreate(path, maxPiece, len(existing))
	if err != nil {
		return abi.PieceInfo{}, fmt.Errorf("add piece: %w", err)
	}
	pi, err := addPiece(ctx, pf, offset, pads, size, data)
	if cerr := pf.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing unsealed file: %w", cerr)
	}
	if err != nil {
		if created {
			_ = os.Remove(path)
		}
		return abi.PieceInfo{}, fmt.Errorf("add piece to %s: %w", path, err)
	}
	return pi, nil
}

func openOrCreate(path string, maxPiece abi.PaddedPieceSize, existing int) (*PartialFile, bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		pf, err := Open(path, maxPiece)
		return pf, false, err
	case !errors.Is(err, os.ErrNotExist):
		return nil, false, fmt.Errorf("unsealed file: %w", err)
	case existing > 0:
		return nil, false, fmt.Errorf("unsealed file %s does not exist but %d existing pieces were given", path, existing)
	}
	pf, err := Create(path, maxPiece)
	return pf, err == nil, err
}

func addPiece(ctx context.Context, pf *PartialFile, offset storiface.PaddedByteIndex, pads []abi.PaddedPieceSize, size abi.UnpaddedPieceSize, data io.Reader) (abi.PieceInfo, error) {
	padded := size.Padded()
	target := Span{uint64(offset), uint64(padded)}
	var padStart uint64
	for _, p := range pads {
		padStart += uint64(p)
	}
	padStart = uint64(offset) - padStart
	whole := Span{padStart, uint64(offset) + uint64(padded) - padStart}
	if n := pf.alloc.covered(whole); n > 0 {
		return abi.PieceInfo{}, fmt.Errorf("padded range [%d, %d) already has %d allocated bytes: the existing pieces do not match the file",
			whole.Offset, whole.End(), n)
	}
	// Unallocated bytes may hold leftovers of an attempt that crashed before marking its range; zero pieces and
	// all-zero chunks are not written, so make the whole range read as zeros first.
	if err := punchHole(pf.file, int64(whole.Offset), int64(whole.Size)); err != nil {
		return abi.PieceInfo{}, fmt.Errorf("clearing padded range [%d, %d): %w", whole.Offset, whole.End(), err)
	}
	var pi abi.PieceInfo
	var err error
	if data == nil {
		pi, err = commp.ZeroPiece(padded)
	} else {
		pi, err = pf.writePiece(ctx, target, size, data)
	}
	if err != nil {
		return abi.PieceInfo{}, err
	}
	marks := make([]Span, 0, len(pads)+1)
	at := padStart
	for _, p := range pads {
		marks = append(marks, Span{at, uint64(p)})
		at += uint64(p)
	}
	marks = append(marks, target)
	if err := pf.markSpans(marks); err != nil {
		_ = punchHole(pf.file, int64(target.Offset), int64(target.Size))
		return abi.PieceInfo{}, err
	}
	return pi, nil
}

// writePiece pads and writes size bytes of data into target while hashing them. On error it punches out what it
// wrote.
func (pf *PartialFile) writePiece(ctx context.Context, target Span, size abi.UnpaddedPieceSize, data io.Reader) (abi.PieceInfo, error) {
	raw := make([]byte, min(ioChunkRaw, int(size)))
	out := make([]byte, len(raw)/fr32.UnpaddedBlock*fr32.PaddedBlock)
	zeros := make([]byte, len(raw))
	calc := commp.NewCalc(0)
	written := false
	fail := func(err error) (abi.PieceInfo, error) {
		if written {
			if perr := punchHole(pf.file, int64(target.Offset), int64(target.Size)); perr != nil {
				err = fmt.Errorf("%w (and undoing the partial write failed: %v)", err, perr)
			}
		}
		return abi.PieceInfo{}, err
	}
	off := int64(target.Offset)
	for left := int(size); left > 0; {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		n := min(left, len(raw))
		if got, err := io.ReadFull(data, raw[:n]); err != nil {
			return fail(fmt.Errorf("reading piece data: got %d of %d bytes: %w", int(size)-left+got, int(size), err))
		}
		_, _ = calc.Write(raw[:n])
		p := out[:n/fr32.UnpaddedBlock*fr32.PaddedBlock]
		if !bytes.Equal(raw[:n], zeros[:n]) { // zeros stay holes: unallocated ranges read as zero
			if err := fr32.Pad(raw[:n], p); err != nil {
				return fail(err)
			}
			if _, err := pf.file.WriteAt(p, off); err != nil {
				return fail(fmt.Errorf("writing piece data: %w", err))
			}
			written = true
		}
		off += int64(len(p))
		left -= n
	}
	if written {
		if err := pf.file.Sync(); err != nil {
			return fail(fmt.Errorf("syncing piece data: %w", err))
		}
	}
	pi, err := calc.PieceInfo()
	if err != nil {
		return fail(fmt.Errorf("computing CommP: %w", err))
	}
	if uint64(pi.Size) != target.Size {
		return fail(fmt.Errorf("internal error: CommP padded size %d, want %d", pi.Size, target.Size))
	}
	return pi, nil
}

// ReadPiece writes the original (unpadded) bytes of the range [offset, offset+size) of the unsealed file at path
// to w. The range may start and end anywhere inside the sector but every 128-byte block it touches must be
// allocated (ErrNotAllocated otherwise); nothing is written to w then.
func ReadPiece(ctx context.Context, w io.Writer, path string, sectorSize abi.SectorSize, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) error {
	pf, err := Open(path, abi.PaddedPieceSize(sectorSize))
	if err != nil {
		return fmt.Errorf("read piece: %w", err)
	}
	defer pf.Close()
	cover, err := paddedCover(uint64(offset), uint64(size), uint64(pf.maxPiece))
	if err != nil {
		return fmt.Errorf("read piece: %w", err)
	}
	if got := pf.alloc.covered(cover); got != cover.Size {
		return fmt.Errorf("read piece: unpadded range [%d, %d) (padded [%d, %d)): %d bytes: %w",
			offset, uint64(offset)+uint64(size), cover.Offset, cover.End(), cover.Size-got, ErrNotAllocated)
	}
	in := make([]byte, min(uint64(ioChunkRaw/fr32.UnpaddedBlock*fr32.PaddedBlock), cover.Size))
	raw := make([]byte, len(in)/fr32.PaddedBlock*fr32.UnpaddedBlock)
	want0, want1 := uint64(offset), uint64(offset)+uint64(size) // unpadded range to emit
	for pos := cover.Offset; pos < cover.End(); {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read piece: %w", err)
		}
		n := min(uint64(len(in)), cover.End()-pos)
		if _, err := pf.file.ReadAt(in[:n], int64(pos)); err != nil {
			return fmt.Errorf("read piece: reading padded data at %d: %w", pos, err)
		}
		r := raw[:n/fr32.PaddedBlock*fr32.UnpaddedBlock]
		if err := fr32.Unpad(in[:n], r); err != nil {
			return fmt.Errorf("read piece: %w", err)
		}
		u0 := pos / fr32.PaddedBlock * fr32.UnpaddedBlock // unpadded offset of r[0]
		lo, hi := max(want0, u0), min(want1, u0+uint64(len(r)))
		if _, err := w.Write(r[lo-u0 : hi-u0]); err != nil {
			return fmt.Errorf("read piece: writing output: %w", err)
		}
		pos += n
	}
	return nil
}
