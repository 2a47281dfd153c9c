package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/pipeline"
)

// renderSectorList writes one line per sector: number, state, pieces, deal bytes, retries, age of the last
// change, last error.
func renderSectorList(w io.Writer, infos []pipeline.SectorInfo, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SECTOR\tSTATE\tPIECES\tDEAL BYTES\tRETRIES\tUPDATED\tERROR")
	for _, s := range infos {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%s\t%s\n", s.Number, stateLabel(s), len(s.Pieces), s.DealBytes(),
			s.Retries, ago(now, s.Updated), oneLine(s.LastError, 60))
	}
	return tw.Flush()
}

// stateLabel is the state with what happens next in a failure state.
func stateLabel(s pipeline.SectorInfo) string {
	switch {
	case s.GaveUp:
		return fmt.Sprintf("%s (gave up on %s)", s.State, s.RetryState)
	case s.State.Failed():
		return fmt.Sprintf("%s (retrying %s)", s.State, s.RetryState)
	}
	return string(s.State)
}

// renderSectorStatus writes a sector's details and, if events is not nil, its log.
func renderSectorStatus(w io.Writer, s pipeline.SectorInfo, events []pipeline.Event, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t"+format+"\n", append([]any{k}, args...)...)
	}
	row("Sector", "%d", s.Number)
	row("Proof", "%d", s.ProofType)
	row("State", "%s", stateLabel(s))
	if s.State.Failed() {
		row("Retries", "%d", s.Retries)
		if !s.NextRetry.IsZero() {
			row("Next retry", "%s (in %s)", s.NextRetry.Format(time.RFC3339), s.NextRetry.Sub(now).Round(time.Second))
		}
	}
	if s.LastError != "" {
		row("Last error", "%s", s.LastError)
	}
	row("Pieces", "%d (%d deal bytes)", len(s.Pieces), s.DealBytes())
	var off abi.PaddedPieceSize
	for i, p := range s.Pieces {
		kind := "filler"
		if p.Deal {
			kind = fmt.Sprintf("deal, %d payload bytes", p.DataSize)
		}
		row(fmt.Sprintf("  %d", i), "offset %d size %d %s (%s)", off.Unpadded(), p.Size, cidOr(p.CID, "not added"), kind)
		off += p.Size.Padded()
	}
	row("Ticket", "%s", hexOr(s.Ticket))
	row("Seed", "%s", hexOr(s.Seed))
	if !s.SeedAt.IsZero() && len(s.Seed) == 0 {
		row("Seed at", "%s", s.SeedAt.Format(time.RFC3339))
	}
	row("CommD", "%s", cidOr(s.CommD, "-"))
	row("CommR", "%s", cidOr(s.CommR, "-"))
	row("Proof bytes", "%d", len(s.Proof))
	row("Created", "%s", s.Created.Format(time.RFC3339))
	row("Updated", "%s (%s)", s.Updated.Format(time.RFC3339), ago(now, s.Updated))
	if err := tw.Flush(); err != nil {
		return err
	}
	if events == nil {
		return nil
	}
	fmt.Fprintln(w, "\nLog:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, ev := range events {
		change := string(ev.To)
		if ev.From != "" && ev.From != ev.To {
			change = string(ev.From) + " -> " + string(ev.To)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", ev.Time.Format("2006-01-02 15:04:05.000"), change, ev.Message)
	}
	return tw.Flush()
}

// barStages are the cells of a progress bar: the stages of pipeline.Stages after WaitDeals.
var barStages = pipeline.Stages[1:]

// progressLine renders one sector as "sector N  [####>.....]  State  elapsed".
func progressLine(s pipeline.SectorInfo, now time.Time) string {
	st := s.State
	if st.Failed() {
		st = s.RetryState
	}
	done := 0
	for i, stage := range barStages {
		if stage == st {
			done = i
		}
	}
	if s.State == pipeline.Proving {
		done = len(barStages)
	}
	var b strings.Builder
	for i := range barStages {
		switch {
		case i < done:
			b.WriteByte('#')
		case i == done && !s.State.Failed():
			b.WriteByte('>')
		case i == done:
			b.WriteByte('!')
		default:
			b.WriteByte('.')
		}
	}
	return fmt.Sprintf("sector %-4d [%s] %d/%d  %-40s %s", s.Number, b.String(), done, len(barStages),
		stateLabel(s), now.Sub(s.Created).Round(time.Second))
}

// progressPrinter shows sectors' progress: on a terminal it redraws one bar per sector in place; otherwise it
// writes a plain line whenever a sector's state changes.
type progressPrinter struct {
	w     io.Writer
	tty   bool
	last  map[abi.SectorNumber]pipeline.SectorState
	lines int
}

func newProgressPrinter(w io.Writer, tty bool) *progressPrinter {
	return &progressPrinter{w: w, tty: tty, last: map[abi.SectorNumber]pipeline.SectorState{}}
}

// update shows the sectors' current states.
func (p *progressPrinter) update(infos []pipeline.SectorInfo, now time.Time) {
	if p.tty {
		if p.lines > 0 {
			fmt.Fprintf(p.w, "\x1b[%dA", p.lines) // cursor up to the first bar
		}
		for _, s := range infos {
			fmt.Fprintf(p.w, "\x1b[2K%s\n", progressLine(s, now))
		}
		p.lines = len(infos)
		return
	}
	for _, s := range infos {
		if p.last[s.Number] == s.State {
			continue
		}
		p.last[s.Number] = s.State
		line := fmt.Sprintf("%s sector %d: %s", now.UTC().Format(time.RFC3339), s.Number, stateLabel(s))
		if s.State.Failed() && s.LastError != "" {
			line += ": " + oneLine(s.LastError, 200)
		}
		fmt.Fprintln(p.w, line)
	}
}

// finished reports whether the sector will not move without an operator: Proving, Removed, or given up.
func finished(s pipeline.SectorInfo) bool {
	return s.State.Terminal() || s.GaveUp
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}

func hexOr(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return fmt.Sprintf("%x", b)
}

func cidOr(c cid.Cid, none string) string {
	if !c.Defined() {
		return none
	}
	return c.String()
}

// oneLine shortens s to one line of at most n characters.
func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}
