package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/commp"
	"sealfleet/storiface"
)

// step runs the work of the sector's current state once: a sealer call and the transition it leads to, or a
// wait. It returns nil when the caller should re-read the sector and step again.
func (p *Pipeline) step(ctx context.Context, r *runner, sec *sector) error {
	switch sec.State {
	case WaitDeals:
		return p.stepWaitDeals(ctx, r, sec)
	case Packing:
		return p.stepPacking(ctx, r, sec)
	case PreCommit1:
		return p.stepPreCommit1(ctx, r, sec)
	case PreCommit2:
		return p.stepPreCommit2(ctx, r, sec)
	case WaitSeed:
		return p.stepWaitSeed(ctx, r, sec)
	case Commit1:
		return p.stepCommit1(ctx, r, sec)
	case Commit2:
		return p.stepCommit2(ctx, r, sec)
	case Finalize:
		return p.stepFinalize(ctx, r, sec)
	case MoveStorage:
		return p.stepMoveStorage(ctx, r, sec)
	case Removing:
		return p.stepRemoving(ctx, r, sec)
	}
	if sec.State.Failed() {
		return p.stepRetry(ctx, r, sec)
	}
	// A state this build does not know (a newer version wrote it): leave the sector alone.
	p.log.Error("sector in unknown state; not touching it", "sector", sec.Number, "state", sec.State)
	<-ctx.Done()
	return ctx.Err()
}

// to returns a mutation that moves the sector to state next and then applies more (may be nil).
func to(next SectorState, more func(*sector) error) func(*sector) error {
	return func(s *sector) error {
		s.State = next
		if more != nil {
			return more(s)
		}
		return nil
	}
}

// stepWaitDeals adds pending deal pieces; packs the sector when it is full or WaitDealsDelay has passed.
func (p *Pipeline) stepWaitDeals(ctx context.Context, r *runner, sec *sector) error {
	if i := nextPending(sec.Pieces); i >= 0 {
		return p.addPiece(ctx, r, sec, i)
	}
	capacity := abi.PaddedPieceSize(p.cfg.sectorSize()).Unpadded()
	if sec.Used() >= capacity {
		return p.commit(ctx, sec.Number, r.gen, WaitDeals, "sector full", to(Packing, nil))
	}
	wait := sec.Created.Add(p.cfg.WaitDealsDelay).Sub(p.clock.Now())
	if wait <= 0 {
		return p.commit(ctx, sec.Number, r.gen, WaitDeals, "wait-deals delay passed", to(Packing, nil))
	}
	return p.sleep(ctx, r, wait)
}

// stepPacking waits for a sealing slot, plans the zero fillers up to the sector size, adds every pending
// piece, then draws the ticket and moves to PreCommit1.
func (p *Pipeline) stepPacking(ctx context.Context, r *runner, sec *sector) error {
	if !sec.Admitted {
		return p.admit(ctx, r, sec)
	}
	if i := nextPending(sec.Pieces); i >= 0 {
		return p.addPiece(ctx, r, sec, i)
	}
	ticket, err := p.randomness()
	if err != nil {
		return fmt.Errorf("drawing ticket: %w", err)
	}
	return p.commit(ctx, sec.Number, r.gen, Packing, "ticket drawn", to(PreCommit1, func(s *sector) error {
		s.Ticket = abi.SealRandomness(ticket)
		return nil
	}))
}

// admit takes a sealing slot for a Packing sector if one is free and no lower-numbered sector waits for one,
// planning its fillers in the same transaction; otherwise it waits until a state changes.
func (p *Pipeline) admit(ctx context.Context, r *runner, sec *sector) error {
	p.mu.Lock()
	freed := p.slotFreed
	p.mu.Unlock()
	capacity := abi.PaddedPieceSize(p.cfg.sectorSize()).Unpadded()
	msg := fmt.Sprintf("sealing slot taken; %d zero filler piece(s) planned",
		len(fillers(sec.Used().Padded(), capacity.Padded())))
	err := p.commit(ctx, sec.Number, r.gen, Packing, msg, func(s *sector) error {
		if !p.slotFreeLocked(s.Number) {
			return errNoSlot
		}
		for _, f := range fillers(s.Used().Padded(), capacity.Padded()) {
			s.Pieces = append(s.Pieces, Piece{Size: f.Unpadded()})
		}
		s.Admitted = true
		return nil
	})
	if !errors.Is(err, errNoSlot) {
		return err
	}
	select {
	case <-freed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// slotFreeLocked reports whether sector n may take a sealing slot now; p.mu must be held.
func (p *Pipeline) slotFreeLocked(n abi.SectorNumber) bool {
	if p.cfg.MaxSealing == 0 {
		return true
	}
	busy := 0
	for num, m := range p.mem {
		switch {
		case states[m.state].sealing || m.planned:
			busy++
		case m.state == Packing && num < n:
			return false // first come, first served
		}
	}
	return busy < p.cfg.MaxSealing
}

// planned reports whether a sector in Packing (or failed there) holds a sealing slot: it was admitted.
func (p *Pipeline) planned(s *SectorInfo) bool {
	inPacking := s.State == Packing || (s.State == AddPieceFailed && s.RetryState == Packing)
	return inPacking && s.Admitted
}

// addPiece runs AddPiece for piece i (every earlier piece is added) and records its commitment. A deal piece's
// bytes are released from the piece store once recorded.
func (p *Pipeline) addPiece(ctx context.Context, r *runner, sec *sector, i int) error {
	pc := sec.Pieces[i]
	existing := make([]abi.UnpaddedPieceSize, i)
	for j := range i {
		existing[j] = sec.Pieces[j].Size
	}
	info, err := p.sealer.AddPiece(ctx, sec.Ref(p.cfg.Miner), existing, pc.Size, pc.Data)
	if err != nil {
		return fmt.Errorf("adding piece %d (%d bytes): %w", i, pc.Size, err)
	}
	if info.Size != pc.Size.Padded() || !info.PieceCID.Defined() {
		return fmt.Errorf("adding piece %d: sealer returned size %d and CID %s, want size %d and a CID",
			i, info.Size, info.PieceCID, pc.Size.Padded())
	}
	kind := "filler"
	if pc.Deal {
		kind = "deal"
	} else if want, err := commp.ZeroPieceCommitment(pc.Size.Padded()); err != nil || info.PieceCID != want {
		return fmt.Errorf("adding zero piece %d: sealer returned CID %s, the zero commitment of %d bytes is %s",
			i, info.PieceCID, pc.Size.Padded(), want)
	}
	msg := fmt.Sprintf("added %s piece %d (%d bytes) %s", kind, i, pc.Size, info.PieceCID)
	// The piece is in the sector's unsealed file now, whatever happened to the sector meanwhile: its CID is
	// recorded even when an operator's action (UpdateState) made this step stale after AddPiece returned, as
	// long as piece i is still this piece. Dropped, the next runner added the piece again, and the worker
	// refused it: its range was already written.
	err = p.commitAnyGen(ctx, sec.Number, msg, func(s *sector) error {
		if i >= len(s.Pieces) || s.Pieces[i].Size != pc.Size || s.Pieces[i].Data.URL != pc.Data.URL {
			return errStale
		}
		s.Pieces[i].CID = info.PieceCID
		return nil
	})
	if err != nil {
		return err
	}
	if pc.Deal {
		p.releasePiece(ctx, r.gen, sec.Number, i, pc.Data)
	}
	return nil
}

// releasePiece deletes an added piece's bytes from the piece store and forgets its location.
func (p *Pipeline) releasePiece(ctx context.Context, gen uint64, n abi.SectorNumber, i int, data storiface.PieceData) {
	if err := p.pieces.Release(ctx, data); err != nil {
		p.log.Warn("releasing piece data", "sector", n, "piece", i, "err", err)
		return
	}
	err := p.commit(ctx, n, gen, "", "", func(s *sector) error {
		if i < len(s.Pieces) && s.Pieces[i].Data.URL == data.URL {
			s.Pieces[i].Data = storiface.PieceData{}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStale) {
		p.log.Warn("forgetting released piece data", "sector", n, "piece", i, "err", err)
	}
}

// releaseAddedPieces releases the bytes of deal pieces that were added but not yet released when the pipeline
// last stopped.
func (p *Pipeline) releaseAddedPieces(ctx context.Context) {
	secs, err := p.st.list(ctx, p.db)
	if err != nil {
		p.log.Warn("listing sectors for piece cleanup", "err", err)
		return
	}
	for _, s := range secs {
		for i, pc := range s.Pieces {
			if pc.Added() && pc.Data.URL != "" {
				p.mu.Lock()
				gen := p.mem[s.Number].gen
				p.mu.Unlock()
				p.releasePiece(ctx, gen, s.Number, i, pc.Data)
			}
		}
	}
}

// nextPending returns the index of the first piece not yet added, or -1.
func nextPending(pieces []Piece) int {
	for i, pc := range pieces {
		if !pc.Added() {
			return i
		}
	}
	return -1
}

func (p *Pipeline) stepPreCommit1(ctx context.Context, r *runner, sec *sector) error {
	if len(sec.Ticket) != 32 {
		return storiface.Errf(storiface.ErrBadInput, "sector %d has no ticket; move it to Packing", sec.Number)
	}
	out, err := p.sealer.SealPreCommit1(ctx, sec.Ref(p.cfg.Miner), sec.Ticket, sec.pieceInfos())
	if err != nil {
		return fmt.Errorf("PreCommit1: %w", err)
	}
	if len(out) == 0 {
		return errors.New("PreCommit1: sealer returned an empty output")
	}
	return p.commit(ctx, sec.Number, r.gen, PreCommit1, "", to(PreCommit2, func(s *sector) error {
		s.PC1Out = out
		return nil
	}))
}

func (p *Pipeline) stepPreCommit2(ctx context.Context, r *runner, sec *sector) error {
	cids, err := p.sealer.SealPreCommit2(ctx, sec.Ref(p.cfg.Miner), sec.PC1Out)
	if err != nil {
		return fmt.Errorf("PreCommit2: %w", err)
	}
	if !cids.Unsealed.Defined() || !cids.Sealed.Defined() {
		return errors.New("PreCommit2: sealer returned undefined commitments")
	}
	// CommD follows from the pieces alone (rust-fil-proofs compute_comm_d): a mismatch means the unsealed data
	// is not what the pieces say, and PreCommit1 must be redone from the right data.
	want, err := commp.UnsealedCID(p.cfg.sectorSize(), sec.pieceInfos())
	if err != nil {
		return fmt.Errorf("PreCommit2: computing the expected CommD: %w", err)
	}
	if cids.Unsealed != want {
		return fmt.Errorf("PreCommit2: sealer CommD %s differs from the pieces' CommD %s "+
			"(check the unsealed data; update-state %d PreCommit1 redoes PC1)", cids.Unsealed, want, sec.Number)
	}
	msg := fmt.Sprintf("CommD %s CommR %s", cids.Unsealed, cids.Sealed)
	return p.commit(ctx, sec.Number, r.gen, PreCommit2, msg, to(WaitSeed, func(s *sector) error {
		s.CommD, s.CommR = cids.Unsealed, cids.Sealed
		s.SeedAt = p.clock.Now().Add(p.cfg.WaitSeedDelay)
		return nil
	}))
}

// stepWaitSeed waits until SeedAt, then draws the seed. Chain integration (the seed from the beacon at
// precommit height + PreCommitChallengeDelay) is out of scope: the seed comes from the local source.
func (p *Pipeline) stepWaitSeed(ctx context.Context, r *runner, sec *sector) error {
	if wait := sec.SeedAt.Sub(p.clock.Now()); wait > 0 {
		return p.sleep(ctx, r, wait)
	}
	seed, err := p.randomness()
	if err != nil {
		return fmt.Errorf("drawing seed: %w", err)
	}
	return p.commit(ctx, sec.Number, r.gen, WaitSeed, "seed drawn", to(Commit1, func(s *sector) error {
		s.Seed = abi.InteractiveSealRandomness(seed)
		return nil
	}))
}

func (p *Pipeline) stepCommit1(ctx context.Context, r *runner, sec *sector) error {
	cids := storiface.SectorCids{Unsealed: sec.CommD, Sealed: sec.CommR}
	out, err := p.sealer.SealCommit1(ctx, sec.Ref(p.cfg.Miner), sec.Ticket, sec.Seed, sec.pieceInfos(), cids)
	if err != nil {
		return fmt.Errorf("Commit1: %w", err)
	}
	if len(out) == 0 {
		return errors.New("Commit1: sealer returned an empty output")
	}
	return p.commit(ctx, sec.Number, r.gen, Commit1, "", to(Commit2, func(s *sector) error {
		s.C1Out = out
		return nil
	}))
}

func (p *Pipeline) stepCommit2(ctx context.Context, r *runner, sec *sector) error {
	proof, err := p.sealer.SealCommit2(ctx, sec.Ref(p.cfg.Miner), sec.C1Out)
	if err != nil {
		return fmt.Errorf("Commit2: %w", err)
	}
	if len(proof) == 0 {
		return errors.New("Commit2: sealer returned an empty proof")
	}
	return p.commit(ctx, sec.Number, r.gen, Commit2, "", to(Finalize, func(s *sector) error {
		s.Proof, s.dropC1 = proof, true
		return nil
	}))
}

func (p *Pipeline) stepFinalize(ctx context.Context, r *runner, sec *sector) error {
	if err := p.sealer.FinalizeSector(ctx, sec.Ref(p.cfg.Miner)); err != nil {
		return fmt.Errorf("Finalize: %w", err)
	}
	return p.commit(ctx, sec.Number, r.gen, Finalize, "", to(MoveStorage, nil))
}

// moveTypes are the files MoveStorage moves: sealed and cache, and unsealed for sectors holding deal data.
func moveTypes(sec *SectorInfo) storiface.SectorFileType {
	types := storiface.FTSealed | storiface.FTCache
	for _, pc := range sec.Pieces {
		if pc.Deal {
			return types | storiface.FTUnsealed
		}
	}
	return types
}

func (p *Pipeline) stepMoveStorage(ctx context.Context, r *runner, sec *sector) error {
	if err := p.sealer.MoveStorage(ctx, sec.Ref(p.cfg.Miner), moveTypes(&sec.SectorInfo)); err != nil {
		return fmt.Errorf("MoveStorage: %w", err)
	}
	return p.commit(ctx, sec.Number, r.gen, MoveStorage, "", to(Proving, nil))
}

// stepRemoving deletes the sector's files everywhere and the piece bytes not yet released.
func (p *Pipeline) stepRemoving(ctx context.Context, r *runner, sec *sector) error {
	if err := p.sealer.Remove(ctx, sec.Ref(p.cfg.Miner)); err != nil {
		return fmt.Errorf("Remove: %w", err)
	}
	for i, pc := range sec.Pieces {
		if pc.Deal && pc.Data.URL != "" {
			if err := p.pieces.Release(ctx, pc.Data); err != nil {
				return fmt.Errorf("releasing data of piece %d: %w", i, err)
			}
		}
	}
	return p.commit(ctx, sec.Number, r.gen, Removing, "", to(Removed, func(s *sector) error {
		for i := range s.Pieces {
			s.Pieces[i].Data = storiface.PieceData{}
		}
		return nil
	}))
}

// stepRetry waits out a failure state's backoff and returns to the failed state; a sector that gave up (no
// NextRetry) waits for an operator.
func (p *Pipeline) stepRetry(ctx context.Context, r *runner, sec *sector) error {
	if sec.NextRetry.IsZero() {
		<-ctx.Done()
		return ctx.Err()
	}
	if wait := sec.NextRetry.Sub(p.clock.Now()); wait > 0 {
		return p.sleep(ctx, r, wait)
	}
	msg := fmt.Sprintf("retry %d of %d", sec.Retries, p.cfg.MaxRetries)
	return p.commit(ctx, sec.Number, r.gen, sec.State, msg, to(sec.RetryState, func(s *sector) error {
		s.RetryState, s.NextRetry = "", time.Time{}
		return nil
	}))
}

// randomness draws 32 bytes with the top two bits of the last byte cleared (a valid Fr element, as tickets
// are on chain).
func (p *Pipeline) randomness() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(p.rand, b); err != nil {
		return nil, err
	}
	b[31] &= 0x3f
	return b, nil
}
