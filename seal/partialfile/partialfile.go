// Package partialfile manages a sector's unsealed file: the Fr32-padded sector data, possibly only partly
// present, followed by a trailer recording which padded byte ranges hold data.
//
// Layout, as lotus `storage/sealer/partialfile` writes it:
//
//	[padded sector data: maxPiece bytes][RLE+ allocation bitfield over padded byte indexes][uint32 LE trailer length]
//
// Ranges that are not allocated are holes (sparse) and read as zeros, so zero pieces cost no data writes. On top
// of the file type, AddPiece writes a piece at its aligned offset while computing its CommP, and ReadPiece reads an
// unpadded range back.
package partialfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// maxTrailer bounds the trailer read from disk; a fully fragmented 64GiB map of 128-byte pieces stays far below.
const maxTrailer = 64 << 20

// ErrNotAllocated is returned when a read touches a range that holds no data.
var ErrNotAllocated = errors.New("range is not allocated in the unsealed file")

// PartialFile is an open unsealed sector file. Methods are not safe for concurrent use, except Reader's returned
// readers, which read with ReadAt.
type PartialFile struct {
	maxPiece abi.PaddedPieceSize
	path     string
	alloc    spans
	file     *os.File
}

func checkMaxPiece(maxPiece abi.PaddedPieceSize) error {
	if maxPiece < 128 || bits.OnesCount64(uint64(maxPiece)) != 1 {
		return fmt.Errorf("max piece size %d: must be a power of two of at least 128 bytes (the padded sector size)", uint64(maxPiece))
	}
	return nil
}

// Create makes a new, empty (all holes) unsealed file of maxPiece padded bytes at path and opens it. The file is
// written under a temporary name and renamed into place, so path never holds a half-made file. An existing file at
// path is an error.
func Create(path string, maxPiece abi.PaddedPieceSize) (*PartialFile, error) {
	if err := checkMaxPiece(maxPiece); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("creating unsealed file %s: already exists", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating unsealed file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	err = func() error {
		if err := tmp.Chmod(0o644); err != nil {
			return err
		}
		if err := writeTrailer(tmp, maxPiece, nil); err != nil {
			return err
		}
		if err := tmp.Sync(); err != nil {
			return err
		}
		return tmp.Close()
	}()
	if err != nil {
		_ = tmp.Close()
		return nil, fmt.Errorf("creating unsealed file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("creating unsealed file %s: %w", path, err)
	}
	return Open(path, maxPiece)
}

// Open opens an existing unsealed file whose data part is maxPiece padded bytes, checking the trailer.
func Open(path string, maxPiece abi.PaddedPieceSize) (*PartialFile, error) {
	if err := checkMaxPiece(maxPiece); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening unsealed file: %w", err)
	}
	alloc, err := readTrailer(f, maxPiece)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("opening unsealed file %s: %w", path, err)
	}
	return &PartialFile{maxPiece: maxPiece, path: path, alloc: alloc, file: f}, nil
}

func readTrailer(f *os.File, maxPiece abi.PaddedPieceSize) (spans, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < int64(maxPiece)+4 {
		return nil, fmt.Errorf("file has %d bytes, less than the %d-byte sector plus trailer", st.Size(), uint64(maxPiece))
	}
	var tlen [4]byte
	if _, err := f.ReadAt(tlen[:], st.Size()-4); err != nil {
		return nil, fmt.Errorf("reading trailer length: %w", err)
	}
	n := int64(binary.LittleEndian.Uint32(tlen[:]))
	if want := int64(maxPiece) + n + 4; want != st.Size() || n > maxTrailer {
		return nil, fmt.Errorf("file has %d bytes, want %d (%d sector data, %d trailer, 4 length)", st.Size(), want, uint64(maxPiece), n)
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, int64(maxPiece)); err != nil {
		return nil, fmt.Errorf("reading trailer: %w", err)
	}
	return decodeRLE(buf, uint64(maxPiece))
}

// writeTrailer writes the allocation map after the data and cuts the file to its exact length.
func writeTrailer(f *os.File, maxPiece abi.PaddedPieceSize, alloc spans) error {
	rle := encodeRLE(alloc)
	buf := binary.LittleEndian.AppendUint32(rle, uint32(len(rle)))
	if _, err := f.WriteAt(buf, int64(maxPiece)); err != nil {
		return fmt.Errorf("writing trailer: %w", err)
	}
	if err := f.Truncate(int64(maxPiece) + int64(len(buf))); err != nil {
		return fmt.Errorf("truncating after trailer: %w", err)
	}
	return nil
}

// Path returns the file's path.
func (pf *PartialFile) Path() string { return pf.path }

// MaxPiece returns the padded size of the data part (the sector size).
func (pf *PartialFile) MaxPiece() abi.PaddedPieceSize { return pf.maxPiece }

// Close closes the file.
func (pf *PartialFile) Close() error { return pf.file.Close() }

// checkRange validates a padded range against the file.
func (pf *PartialFile) checkRange(offset storiface.PaddedByteIndex, size abi.PaddedPieceSize) error {
	if size == 0 {
		return errors.New("padded range size must be positive")
	}
	if uint64(offset)+uint64(size) < uint64(offset) || uint64(offset)+uint64(size) > uint64(pf.maxPiece) {
		return fmt.Errorf("padded range [%d, %d) is past the %d-byte sector", offset, uint64(offset)+uint64(size), uint64(pf.maxPiece))
	}
	return nil
}

// Writer returns a writer of the padded range [offset, offset+size). Writing past size is an error. It does not
// mark the range allocated: call MarkAllocated once the data is complete.
func (pf *PartialFile) Writer(offset storiface.PaddedByteIndex, size abi.PaddedPieceSize) (io.Writer, error) {
	if err := pf.checkRange(offset, size); err != nil {
		return nil, fmt.Errorf("unsealed file writer: %w", err)
	}
	return &rangeWriter{f: pf.file, off: int64(offset), end: int64(offset) + int64(size)}, nil
}

type rangeWriter struct {
	f        *os.File
	off, end int64
}

func (w *rangeWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > w.end-w.off {
		return 0, fmt.Errorf("unsealed file writer: %d bytes would pass the end of the range by %d", len(p), int64(len(p))-(w.end-w.off))
	}
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	return n, err
}

// MarkAllocated records [offset, offset+size) as holding data and rewrites the trailer.
func (pf *PartialFile) MarkAllocated(offset storiface.PaddedByteIndex, size abi.PaddedPieceSize) error {
	if err := pf.checkRange(offset, size); err != nil {
		return fmt.Errorf("marking allocated: %w", err)
	}
	return pf.setAlloc(pf.alloc.add(Span{uint64(offset), uint64(size)}))
}

// markSpans records several ranges with one trailer write.
func (pf *PartialFile) markSpans(add []Span) error {
	alloc := pf.alloc
	for _, s := range add {
		alloc = alloc.add(s)
	}
	return pf.setAlloc(alloc)
}

func (pf *PartialFile) setAlloc(alloc spans) error {
	if err := writeTrailer(pf.file, pf.maxPiece, alloc); err != nil {
		return err
	}
	pf.alloc = alloc
	return nil
}

// Free deallocates [offset, offset+size): the data is dropped (a hole is punched, or zeros written where the
// filesystem cannot) and the range is recorded as not allocated.
func (pf *PartialFile) Free(offset storiface.PaddedByteIndex, size abi.PaddedPieceSize) error {
	if err := pf.checkRange(offset, size); err != nil {
		return fmt.Errorf("freeing: %w", err)
	}
	if err := punchHole(pf.file, int64(offset), int64(size)); err != nil {
		return fmt.Errorf("freeing [%d, +%d): %w", offset, size, err)
	}
	return pf.setAlloc(pf.alloc.subtract(Span{uint64(offset), uint64(size)}))
}

// Allocated returns the allocated padded ranges in order (a copy).
func (pf *PartialFile) Allocated() []Span { return append([]Span(nil), pf.alloc...) }

// HasAllocated reports whether every padded byte holding the unpadded range [offset, offset+size) is allocated.
// The range may start and end anywhere; the 128-byte blocks it touches are checked.
func (pf *PartialFile) HasAllocated(offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) (bool, error) {
	s, err := paddedCover(uint64(offset), uint64(size), uint64(pf.maxPiece))
	if err != nil {
		return false, err
	}
	return pf.alloc.covered(s) == s.Size, nil
}

// paddedCover returns the whole 128-byte blocks holding the unpadded range [off, off+size).
func paddedCover(off, size, maxPiece uint64) (Span, error) {
	limit := maxPiece / 128 * 127
	if size == 0 || off+size < off || off+size > limit {
		return Span{}, fmt.Errorf("unpadded range [%d, %d): must be non-empty and within the sector's %d unpadded bytes", off, off+size, limit)
	}
	first, last := off/127, (off+size+126)/127
	return Span{first * 128, (last - first) * 128}, nil
}

// Reader returns a reader of the padded range [offset, offset+size), which must be fully allocated. The reader
// uses ReadAt and is safe to use alongside other readers.
func (pf *PartialFile) Reader(offset storiface.PaddedByteIndex, size abi.PaddedPieceSize) (*io.SectionReader, error) {
	if err := pf.checkRange(offset, size); err != nil {
		return nil, fmt.Errorf("unsealed file reader: %w", err)
	}
	s := Span{uint64(offset), uint64(size)}
	if got := pf.alloc.covered(s); got != s.Size {
		return nil, fmt.Errorf("unsealed file reader [%d, %d): %d of %d bytes: %w", s.Offset, s.End(), s.Size-got, s.Size, ErrNotAllocated)
	}
	return io.NewSectionReader(pf.file, int64(offset), int64(size)), nil
}

// writeZeros writes size zero bytes at off.
func writeZeros(f *os.File, off, size int64) error {
	zeros := make([]byte, min(size, 1<<20))
	for size > 0 {
		n := min(size, int64(len(zeros)))
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
		off += n
		size -= n
	}
	return nil
}
