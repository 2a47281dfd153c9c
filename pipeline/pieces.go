package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// fillers returns the zero pieces (padded sizes, smallest first) that take a sector from padded offset from to
// padded offset to, each aligned to its own size: the set bits of to−from, lowest first. Because from is a sum
// of aligned power-of-two pieces and to is aligned to a larger power of two (a piece size or the sector size),
// the lowest set bit of the gap is the lowest set bit of from, so each filler starts on a multiple of its size
// (as Lotus's fillersFromRem and rust-fil-proofs' add_piece alignment do).
func fillers(from, to abi.PaddedPieceSize) []abi.PaddedPieceSize {
	var out []abi.PaddedPieceSize
	gap := uint64(to - from)
	for gap != 0 {
		low := gap & -gap
		out = append(out, abi.PaddedPieceSize(low))
		gap &^= low
	}
	return out
}

// alignUp returns the smallest multiple of size (a power of two) at or after off.
func alignUp(off, size abi.PaddedPieceSize) abi.PaddedPieceSize {
	return (off + size - 1) &^ (size - 1)
}

// PieceSizeFor returns the unpadded piece size a payload of n bytes occupies: the smallest 127·2^k >= n
// (at least 127).
func PieceSizeFor(n uint64) abi.UnpaddedPieceSize {
	if n <= 127 {
		return 127
	}
	units := (n + 126) / 127 // 127-byte units, rounded up
	return abi.UnpaddedPieceSize(127 << bits.Len64(units-1))
}

// Pledge creates a committed-capacity sector (one zero piece filling it) and returns its number. It is sealed
// as soon as a sealing slot is free.
func (p *Pipeline) Pledge(ctx context.Context) (abi.SectorNumber, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, err := p.createLocked(ctx, Packing, nil, "pledge")
	if err != nil {
		return 0, err
	}
	p.startLocked(n)
	return n, nil
}

// createLocked allocates a sector number and persists a new sector; p.mu must be held.
func (p *Pipeline) createLocked(ctx context.Context, state SectorState, pieces []Piece, msg string) (abi.SectorNumber, error) {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("creating sector: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	n, err := p.st.allocNumber(ctx, tx)
	if err != nil {
		return 0, err
	}
	now := p.clock.Now()
	sec := &sector{SectorInfo: SectorInfo{Number: n, ProofType: p.cfg.ProofType, State: state, Pieces: pieces,
		Created: now, Updated: now}}
	if err := p.st.insert(ctx, tx, sec); err != nil {
		return 0, err
	}
	if err := p.st.addEvent(ctx, tx, Event{Sector: n, Time: now, To: state, Message: msg}); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("creating sector %d: %w", n, err)
	}
	p.mem[n] = memSector{state: state, planned: p.planned(&sec.SectorInfo)}
	close(p.slotFreed)
	p.slotFreed = make(chan struct{})
	p.notifyLocked(StateChange{Sector: n, To: state, Time: now})
	return n, nil
}

// AddPiece stores size bytes of deal data read from r and assigns them to an open sector (WaitDeals) with
// room, or to a new one. The payload is zero-padded to PieceSizeFor(size) and placed at an offset aligned to
// that size, zero fillers taking the gap. It returns once the assignment is persisted; the sector's goroutine
// then runs AddPiece on a worker (see Status for the piece CID). A payload larger than the sector, or an r that
// ends early, is an error and changes nothing.
func (p *Pipeline) AddPiece(ctx context.Context, r io.Reader, size uint64) (SectorPieceLocation, error) {
	capacity := abi.PaddedPieceSize(p.cfg.sectorSize()).Unpadded()
	if size == 0 {
		return SectorPieceLocation{}, fmt.Errorf("%w: piece size 0: must be 1 to %d bytes", ErrBadInput, capacity)
	}
	if size > uint64(capacity) {
		return SectorPieceLocation{}, fmt.Errorf("%w: piece size %d: larger than the sector's %d bytes (%s sectors)",
			ErrBadInput, size, capacity, storiface.SizeString(p.cfg.sectorSize()))
	}
	psize := PieceSizeFor(size)
	data, cleanup, err := p.pieces.Put(ctx, &padReader{r: r, data: size, total: uint64(psize)}, psize)
	if err != nil {
		return SectorPieceLocation{}, fmt.Errorf("storing piece data: %w", err)
	}
	loc, err := p.assignPiece(ctx, Piece{Size: psize, Deal: true, DataSize: size, Data: data})
	if err != nil {
		cleanup()
		return SectorPieceLocation{}, err
	}
	return loc, nil
}

// assignPiece appends the piece (after aligning fillers) to the lowest-numbered open sector it fits in, or to
// a new open sector.
func (p *Pipeline) assignPiece(ctx context.Context, pc Piece) (SectorPieceLocation, error) {
	capacity := abi.PaddedPieceSize(p.cfg.sectorSize())
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.sortedLocked(WaitDeals) {
		var loc SectorPieceLocation
		err := p.commitLocked(ctx, n, WaitDeals, fmt.Sprintf("assigned deal piece (%d bytes)", pc.DataSize),
			func(s *sector) error {
				used := s.Used().Padded()
				off := alignUp(used, pc.Size.Padded())
				if off+pc.Size.Padded() > capacity {
					return errNoSlot // does not fit: try the next sector
				}
				for _, f := range fillers(used, off) {
					s.Pieces = append(s.Pieces, Piece{Size: f.Unpadded()})
				}
				s.Pieces = append(s.Pieces, pc)
				loc = SectorPieceLocation{Sector: n, Offset: storiface.UnpaddedByteIndex(off.Unpadded()),
					Size: pc.Size, DataSize: pc.DataSize}
				return nil
			})
		switch {
		case err == nil:
			p.wakeLocked(n)
			return loc, nil
		case !errors.Is(err, errNoSlot) && !errors.Is(err, errStale):
			return SectorPieceLocation{}, fmt.Errorf("assigning piece to sector %d: %w", n, err)
		}
	}
	n, err := p.createLocked(ctx, WaitDeals, []Piece{pc}, fmt.Sprintf("opened for deal piece (%d bytes)", pc.DataSize))
	if err != nil {
		return SectorPieceLocation{}, err
	}
	p.startLocked(n)
	return SectorPieceLocation{Sector: n, Size: pc.Size, DataSize: pc.DataSize}, nil
}

// sortedLocked returns the numbers of the sectors in state st, ascending; p.mu must be held.
func (p *Pipeline) sortedLocked(st SectorState) []abi.SectorNumber {
	var out []abi.SectorNumber
	for n, m := range p.mem {
		if m.state == st {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// padReader yields data bytes from r, failing if r ends early, then zeros up to total.
type padReader struct {
	r           io.Reader
	data, total uint64
	read        uint64
}

func (z *padReader) Read(b []byte) (int, error) {
	if z.read >= z.total {
		return 0, io.EOF
	}
	if z.read < z.data {
		if rem := z.data - z.read; uint64(len(b)) > rem {
			b = b[:rem]
		}
		n, err := z.r.Read(b)
		z.read += uint64(n)
		if errors.Is(err, io.EOF) {
			if z.read < z.data {
				return n, fmt.Errorf("piece data ended after %d of %d bytes: %w", z.read, z.data, io.ErrUnexpectedEOF)
			}
			err = nil
		}
		return n, err
	}
	if rem := z.total - z.read; uint64(len(b)) > rem {
		b = b[:rem]
	}
	clear(b)
	z.read += uint64(len(b))
	return len(b), nil
}
