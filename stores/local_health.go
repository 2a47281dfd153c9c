package stores

import (
	"context"

	"sealfleet/storiface"
)

// Run reports the health of every open path to the index: once at start, then at every tick of the heartbeat
// ticker, and soon after reservations, releases and removals change the figures (coalesced, so a burst of changes
// sends one report). It returns when ctx ends.
func (st *Local) Run(ctx context.Context) error {
	tick, stop := st.newTicker(st.interval)
	defer stop()
	st.ReportHealth(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		case <-st.reportNow:
		}
		st.ReportHealth(ctx)
	}
}

// triggerReport asks Run for an early health report without blocking.
func (st *Local) triggerReport() {
	select {
	case st.reportNow <- struct{}{}:
	default:
	}
}

// ReportHealth sends one health report per open path: its figures, or the error that kept it from getting them
// (the index then stops offering the path). Failures to reach the index are logged.
func (st *Local) ReportHealth(ctx context.Context) {
	st.mu.RLock()
	reports := make(map[storiface.ID]storiface.HealthReport, len(st.paths))
	for id, p := range st.paths {
		stat, err := p.stat(st.ls, true)
		r := storiface.HealthReport{Stat: stat}
		if err != nil {
			r.Err = err.Error()
		}
		reports[id] = r
	}
	st.mu.RUnlock()
	for id, r := range reports {
		if err := st.index.StorageReportHealth(ctx, id, r); err != nil && ctx.Err() == nil {
			st.log.Warn("reporting storage health", "id", id, "err", err)
		}
	}
}
