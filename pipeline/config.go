package pipeline

import (
	"errors"
	"fmt"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
)

// Config tunes the pipeline. DefaultConfig gives values that work on a laptop; Validate says what is wrong.
type Config struct {
	// Miner is the actor ID every sector belongs to.
	Miner abi.ActorID
	// ProofType is the seal proof new sectors use; it fixes the sector size.
	ProofType abi.RegisteredSealProof
	// MaxSealing is how many sectors may be sealing at once (planned Packing through MoveStorage, failures of
	// those included); others wait in Packing. 0 means no limit.
	MaxSealing int
	// WaitDealsDelay is how long an open deal sector (WaitDeals) waits for more pieces before it is packed.
	WaitDealsDelay time.Duration
	// WaitSeedDelay is how long a sector waits after PreCommit2 before its seed is drawn. With no chain, the
	// seed comes from the local randomness source; the delay stands in for the chain's seed lookback.
	WaitSeedDelay time.Duration
	// MaxRetries is how many times a failed step is retried automatically before the sector stays in its failure
	// state for an operator (sectors update-state / remove). 0 means never retry.
	MaxRetries int
	// RetryBackoff is the wait before the first retry; each further retry doubles it, up to MaxRetryBackoff.
	RetryBackoff time.Duration
	// MaxRetryBackoff caps the wait between retries.
	MaxRetryBackoff time.Duration
}

// DefaultConfig returns a configuration for miner t01000 sealing 2KiB V1_1 sectors.
func DefaultConfig() Config {
	return Config{
		Miner:           1000,
		ProofType:       abi.RegisteredSealProof_StackedDrg2KiBV1_1,
		MaxSealing:      0,
		WaitDealsDelay:  time.Minute,
		WaitSeedDelay:   10 * time.Second,
		MaxRetries:      5,
		RetryBackoff:    10 * time.Second,
		MaxRetryBackoff: 10 * time.Minute,
	}
}

// Validate checks every field and names the first wrong one with what is accepted.
func (c Config) Validate() error {
	if _, err := c.ProofType.SectorSize(); err != nil {
		return fmt.Errorf("config ProofType %d: not a registered seal proof: %w", c.ProofType, err)
	}
	switch {
	case c.MaxSealing < 0:
		return fmt.Errorf("config MaxSealing %d: must be >= 0 (0 means no limit)", c.MaxSealing)
	case c.WaitDealsDelay < 0:
		return fmt.Errorf("config WaitDealsDelay %s: must be >= 0", c.WaitDealsDelay)
	case c.WaitSeedDelay < 0:
		return fmt.Errorf("config WaitSeedDelay %s: must be >= 0", c.WaitSeedDelay)
	case c.MaxRetries < 0:
		return fmt.Errorf("config MaxRetries %d: must be >= 0", c.MaxRetries)
	case c.RetryBackoff < 0:
		return fmt.Errorf("config RetryBackoff %s: must be >= 0", c.RetryBackoff)
	case c.MaxRetryBackoff < c.RetryBackoff:
		return fmt.Errorf("config MaxRetryBackoff %s: must be >= RetryBackoff (%s)", c.MaxRetryBackoff, c.RetryBackoff)
	}
	return nil
}

// backoff returns the wait before retry number n (1-based): RetryBackoff·2^(n-1), capped at MaxRetryBackoff.
func (c Config) backoff(n int) time.Duration {
	d := c.RetryBackoff
	for i := 1; i < n && d < c.MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxRetryBackoff)
}

// sectorSize returns the sector size of ProofType (Validate has checked it).
func (c Config) sectorSize() abi.SectorSize {
	sz, _ := c.ProofType.SectorSize()
	return sz
}

// Clock is the pipeline's source of time. The real one is SystemClock; tests inject a fake to drive delays and
// backoffs without sleeping.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed (at once if d <= 0).
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

var _ Clock = SystemClock{}

// The sentinel errors of the pipeline.
var (
	// ErrUnknownSector: no sector with that number.
	ErrUnknownSector = errors.New("unknown sector")
	// ErrBadInput: the request is malformed; nothing was changed.
	ErrBadInput = errors.New("bad input")
	// ErrClosed: the pipeline has stopped.
	ErrClosed = errors.New("pipeline stopped")
)
