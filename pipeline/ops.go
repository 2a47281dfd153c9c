package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// requirements checks that sector s has what state target needs to run; the error names what is missing.
func (p *Pipeline) requirements(s *SectorInfo, target SectorState) error {
	capacity := abi.PaddedPieceSize(p.cfg.sectorSize()).Unpadded()
	need := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("%w: sector %d cannot enter %s: %s", ErrBadInput, s.Number, target, what)
		}
		return nil
	}
	switch target {
	case WaitDeals:
		return need(len(s.Ticket) == 0 && s.Used() < capacity, "it is already packed (has a ticket or is full)")
	case Packing:
		return nil
	case PreCommit1:
		return need(s.Used() == capacity && nextPending(s.Pieces) < 0 && len(s.Ticket) == 32,
			"its pieces must all be added and a ticket drawn (move it to Packing instead)")
	case PreCommit2:
		return need(s.HasPC1Out, "it has no PreCommit1 output")
	case WaitSeed:
		return need(s.CommD.Defined() && s.CommR.Defined(), "it has no CommD/CommR")
	case Commit1:
		return need(len(s.Seed) == 32 && s.CommR.Defined(), "it has no seed")
	case Commit2:
		return need(s.HasC1Out, "it has no Commit1 output")
	case Finalize, MoveStorage, Proving:
		return need(len(s.Proof) > 0, "it has no proof")
	}
	return fmt.Errorf("%w: state %s cannot be set by an operator: accepted are %v (use remove to remove a sector)",
		ErrBadInput, target, Stages)
}

// UpdateState moves sector n to state target, as an operator does to retry a step or skip back: the running
// step is cancelled (its result dropped), retries are reset and the sector resumes in target. Only the states
// of Stages are accepted, and only if the sector has that state's inputs (e.g. a PreCommit1 output to enter
// PreCommit2); otherwise nothing changes.
func (p *Pipeline) UpdateState(ctx context.Context, n abi.SectorNumber, target SectorState) error {
	if !target.Valid() {
		_, err := ParseState(string(target))
		return fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	p.opMu.Lock()
	defer p.opMu.Unlock()
	check := func(s *sector) error {
		if s.State == Removing || s.State == Removed {
			return fmt.Errorf("%w: sector %d is %s", ErrBadInput, n, s.State)
		}
		return p.requirements(&s.SectorInfo, target)
	}
	cur, err := p.st.load(ctx, p.db, n, false)
	if err != nil {
		return err
	}
	if err := check(cur); err != nil {
		return err
	}
	p.stopRunner(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	err = p.commitLocked(ctx, n, "", "operator: update-state "+string(target), func(s *sector) error {
		if err := check(s); err != nil {
			return err
		}
		s.State, s.RetryState, s.Retries, s.LastError, s.NextRetry = target, "", 0, "", time.Time{}
		if target == WaitDeals || target == Packing {
			s.Admitted = false // packing again takes a slot again
		}
		if target == WaitSeed {
			s.SeedAt = p.clock.Now().Add(p.cfg.WaitSeedDelay)
		}
		return nil
	})
	p.startLocked(n) // resume the sector whether or not the change was applied
	return err
}

// Remove removes sector n: its running step is cancelled, then the sealer deletes its files everywhere and the
// piece store the data of pieces not yet added. It returns once the removal is persisted (state Removing); the
// sector reaches Removed when Sealer.Remove succeeds (RemoveFailed, retried, if it fails). Removing a sector
// already removed is an error; removing one being removed does nothing.
func (p *Pipeline) Remove(ctx context.Context, n abi.SectorNumber) error {
	p.opMu.Lock()
	defer p.opMu.Unlock()
	cur, err := p.st.load(ctx, p.db, n, false)
	if err != nil {
		return err
	}
	switch cur.State {
	case Removed:
		return fmt.Errorf("%w: sector %d is already removed", ErrBadInput, n)
	case Removing:
		return nil
	}
	p.stopRunner(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	err = p.commitLocked(ctx, n, "", "operator: remove", func(s *sector) error {
		if s.State == Removed {
			return fmt.Errorf("%w: sector %d is already removed", ErrBadInput, n)
		}
		s.State, s.RetryState, s.Retries, s.LastError, s.NextRetry = Removing, "", 0, "", time.Time{}
		return nil
	})
	p.startLocked(n)
	return err
}

// readable loads sector n and checks that its replica exists (CommD known, not removed) and that the range lies
// within the sector on a 127-byte boundary.
func (p *Pipeline) readable(ctx context.Context, n abi.SectorNumber, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) (*sector, error) {
	if p.reader == nil {
		return nil, errors.New("no piece reader configured")
	}
	s, err := p.st.load(ctx, p.db, n, false)
	if err != nil {
		return nil, err
	}
	if !s.CommD.Defined() || len(s.Ticket) == 0 || s.State == Removing || s.State == Removed {
		return nil, fmt.Errorf("%w: sector %d (%s) has no sealed replica to read", ErrBadInput, n, s.State)
	}
	capacity := abi.PaddedPieceSize(p.cfg.sectorSize()).Unpadded()
	if err := offset.Valid(); err != nil {
		return nil, fmt.Errorf("%w: offset: %w", ErrBadInput, err)
	}
	if size == 0 || uint64(offset)+uint64(size) > uint64(capacity) {
		return nil, fmt.Errorf("%w: range %d+%d: must be non-empty and within the sector's %d bytes",
			ErrBadInput, offset, size, capacity)
	}
	return s, nil
}

// ReadPiece writes size unsealed bytes of sector n from offset (127-byte aligned) to w, unsealing first if the
// sector has no unsealed copy.
func (p *Pipeline) ReadPiece(ctx context.Context, w io.Writer, n abi.SectorNumber, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) error {
	s, err := p.readable(ctx, n, offset, size)
	if err != nil {
		return err
	}
	if err := p.reader.ReadPiece(ctx, w, s.Ref(p.cfg.Miner), offset, size, s.Ticket, s.CommD); err != nil {
		return fmt.Errorf("reading sector %d: %w", n, err)
	}
	return nil
}

// Unseal makes sure sector n has an unsealed copy of its whole data, unsealing it from the replica if needed.
func (p *Pipeline) Unseal(ctx context.Context, n abi.SectorNumber) error {
	capacity := abi.PaddedPieceSize(p.cfg.sectorSize()).Unpadded()
	s, err := p.readable(ctx, n, 0, capacity)
	if err != nil {
		return err
	}
	if err := p.reader.UnsealPiece(ctx, s.Ref(p.cfg.Miner), 0, capacity, s.Ticket, s.CommD); err != nil {
		return fmt.Errorf("unsealing sector %d: %w", n, err)
	}
	return nil
}
