package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// errStale means the sector changed (operator action, removal) since the step read it: the step's result is
// dropped and its goroutine stops.
var errStale = errors.New("sector changed since the step started")

// errNoSlot is returned by an admission mutation when MaxSealing sectors are already sealing.
var errNoSlot = errors.New("no sealing slot free")

// commit applies mutate to sector n, read afresh in a transaction, if the sector is still in state from and
// the caller's generation is current; it persists the record, logs an event (when the state changes or msg is
// not empty), and tells subscribers. A result that arrived is persisted even if ctx was cancelled meanwhile.
func (p *Pipeline) commit(ctx context.Context, n abi.SectorNumber, gen uint64, from SectorState, msg string,
	mutate func(*sector) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mem[n].gen != gen {
		return errStale
	}
	return p.commitLocked(context.WithoutCancel(ctx), n, from, msg, mutate)
}

// commitAnyGen applies mutate to sector n in any state and whatever the caller's generation: for a result that
// stays true whatever an operator did to the sector meanwhile (mutate checks that it still applies).
func (p *Pipeline) commitAnyGen(ctx context.Context, n abi.SectorNumber, msg string, mutate func(*sector) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.commitLocked(context.WithoutCancel(ctx), n, "", msg, mutate)
}

// commitLocked is commit without the generation check; p.mu must be held. from "" accepts any state.
func (p *Pipeline) commitLocked(ctx context.Context, n abi.SectorNumber, from SectorState, msg string,
	mutate func(*sector) error) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sector %d: beginning transaction: %w", n, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	sec, err := p.st.load(ctx, tx, n, false)
	if err != nil {
		return err
	}
	if from != "" && sec.State != from {
		return errStale
	}
	old := sec.State
	if err := mutate(sec); err != nil {
		return err
	}
	now := p.clock.Now()
	sec.Updated = now
	if sec.State != old && !old.Failed() && !sec.State.Failed() {
		sec.Retries, sec.LastError = 0, "" // a step succeeded
	}
	if err := p.st.update(ctx, tx, sec, false, sec.dropC1); err != nil {
		return err
	}
	if sec.State != old || msg != "" {
		if err := p.st.addEvent(ctx, tx, Event{Sector: n, Time: now, From: old, To: sec.State, Message: msg}); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sector %d: committing: %w", n, err)
	}
	m := p.mem[n]
	m.state, m.planned = sec.State, p.planned(&sec.SectorInfo)
	p.mem[n] = m
	if sec.State != old {
		p.log.Info("sector state", "sector", n, "from", old, "to", sec.State, "msg", msg)
		close(p.slotFreed)
		p.slotFreed = make(chan struct{})
		errText := ""
		if sec.State.Failed() {
			errText = sec.LastError
		}
		p.notifyLocked(StateChange{Sector: n, From: old, To: sec.State, Time: now, Error: errText})
	}
	return nil
}

// notifyLocked sends a change to every subscriber without blocking; p.mu must be held.
func (p *Pipeline) notifyLocked(c StateChange) {
	for _, ch := range p.subs {
		select {
		case ch <- c:
		default:
		}
	}
}

// fail moves a sector whose step returned err to the state's failure state, scheduling a retry after the
// backoff unless MaxRetries is exceeded or the error is a bad-input one (retrying cannot help).
func (p *Pipeline) fail(ctx context.Context, r *runner, sec *sector, stepErr error) error {
	fs := states[sec.State].failure
	if fs == "" {
		return fmt.Errorf("sector %d in %s: %w", sec.Number, sec.State, stepErr)
	}
	return p.commit(ctx, sec.Number, r.gen, sec.State, stepErr.Error(), func(s *sector) error {
		s.RetryState, s.State = s.State, fs
		s.Retries++
		s.LastError = stepErr.Error()
		s.NextRetry = time.Time{}
		if s.Retries <= p.cfg.MaxRetries && storiface.CodeOf(stepErr) != storiface.ErrBadInput {
			s.NextRetry = p.clock.Now().Add(p.cfg.backoff(s.Retries))
		}
		return nil
	})
}

// sleep waits d on the pipeline's clock, or until the sector is woken; it returns ctx's error if cancelled.
func (p *Pipeline) sleep(ctx context.Context, r *runner, d time.Duration) error {
	select {
	case <-p.clock.After(d):
	case <-r.wake:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// runSector drives sector n until it is terminal, its generation changes or ctx is cancelled.
func (p *Pipeline) runSector(ctx context.Context, n abi.SectorNumber, r *runner) {
	log := p.log.With("sector", n)
	for ctx.Err() == nil {
		sec, err := p.st.load(ctx, p.db, n, true)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("loading sector", "err", err)
				_ = p.sleep(ctx, r, max(p.cfg.RetryBackoff, time.Second))
			}
			continue
		}
		if sec.State.Terminal() {
			return
		}
		err = p.step(ctx, r, sec)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return
		case errors.Is(err, errStale):
			if !p.genCurrent(n, r.gen) {
				return // an operator took over the sector
			}
			// the record changed under the step (e.g. pieces were appended): read it again
		case sec.State.Failed():
			log.Error("retrying failed sector", "err", err)
			_ = p.sleep(ctx, r, max(p.cfg.RetryBackoff, time.Second))
		default:
			log.Warn("step failed", "state", sec.State, "err", err)
			if ferr := p.fail(ctx, r, sec, err); ferr != nil {
				if errors.Is(ferr, errStale) && !p.genCurrent(n, r.gen) {
					return
				}
				log.Error("recording failure", "err", ferr)
				_ = p.sleep(ctx, r, max(p.cfg.RetryBackoff, time.Second))
			}
		}
	}
}

// genCurrent reports whether gen is still sector n's generation.
func (p *Pipeline) genCurrent(n abi.SectorNumber, gen uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mem[n].gen == gen
}
