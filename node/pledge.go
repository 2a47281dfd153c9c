package node

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/internal/progress"
	"sealfleet/pipeline"
)

// PledgeSectors pledges count committed-capacity sectors and returns their numbers.
func (n *Node) PledgeSectors(ctx context.Context, count int) ([]abi.SectorNumber, error) {
	nums := make([]abi.SectorNumber, 0, count)
	for range count {
		num, err := n.pipe.Pledge(ctx)
		if err != nil {
			return nums, fmt.Errorf("pledging sector %d of %d: %w", len(nums)+1, count, err)
		}
		nums = append(nums, num)
	}
	return nums, nil
}

// WatchProving reports the progress of the sectors nums to w until every one is Proving (nil), one has given up
// retrying (an error naming it and its last error), or ctx ends (ctx's error). On a terminal w shows one
// progress bar counting pipeline stages; elsewhere it gets one line per state change. recheck is how often the
// sectors are re-read in case a change was missed (default 5s).
func WatchProving(ctx context.Context, p *pipeline.Pipeline, nums []abi.SectorNumber, w io.Writer,
	recheck time.Duration) error {
	if recheck <= 0 {
		recheck = 5 * time.Second
	}
	changes, unsub := p.Subscribe()
	defer unsub()
	start := time.Now()
	var bar *progress.Bar
	if progress.IsTerminal(w) {
		bar = progress.New(w, progress.Options{Label: "sealing", Total: int64(len(nums) * pipeline.Proving.StageIndex())})
	}
	state := make(map[abi.SectorNumber]pipeline.SectorState, len(nums))
	for {
		done, err := watchStep(ctx, p, nums, state, w, bar, start)
		if err != nil || done {
			if bar != nil {
				bar.Finish()
			}
			if done {
				fmt.Fprintf(w, "%d sector(s) Proving after %s\n", len(nums), time.Since(start).Round(time.Millisecond))
			}
			return err
		}
		select {
		case <-ctx.Done():
			if bar != nil {
				bar.Finish()
			}
			return ctx.Err()
		case <-changes:
		case <-time.After(recheck):
		}
	}
}

// watchStep re-reads the sectors, reports the ones whose state changed, and says whether all are Proving.
func watchStep(ctx context.Context, p *pipeline.Pipeline, nums []abi.SectorNumber,
	state map[abi.SectorNumber]pipeline.SectorState, w io.Writer, bar *progress.Bar, start time.Time) (bool, error) {
	done := true
	var stages int64
	for _, num := range nums {
		si, err := p.Status(ctx, num)
		if err != nil {
			return false, fmt.Errorf("reading sector %d: %w", num, err)
		}
		if si.GaveUp {
			return false, fmt.Errorf("sector %d gave up in %s after %d retries: %s", num, si.State, si.Retries,
				si.LastError)
		}
		if prev, ok := state[num]; (!ok || prev != si.State) && bar == nil {
			line := fmt.Sprintf("%8s  sector %d  %s", time.Since(start).Round(100*time.Millisecond), num, si.State)
			if si.State.Failed() && si.LastError != "" {
				line += "  (" + si.LastError + "; retrying)"
			}
			fmt.Fprintln(w, line)
		}
		state[num] = si.State
		if i := si.State.StageIndex(); i > 0 {
			stages += int64(i)
		}
		if si.State != pipeline.Proving {
			done = false
		}
	}
	if bar != nil {
		bar.Set(stages)
	}
	return done, nil
}
