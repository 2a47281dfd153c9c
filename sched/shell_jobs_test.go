package sched

import (
	"context"
	"errors"
	"testing"
	"time"

	"sealfleet/storiface"
)

// TestShellOnJob runs requests through a scheduler with an in-memory worker and checks the events its OnJob hook
// receives: their order, worker, times (on the fake clock, advanced inside the prepare and work steps) and
// outcome, for a success, a failed work, a failed prepare step, and a request removed, cancelled or dropped by
// Close before it started.
func TestShellOnJob(t *testing.T) {
	boom := errors.New("boom")
	type want struct {
		kind    JobEventKind
		worker  bool          // the event names the worker
		started time.Duration // Started - t0 (only with worker)
		at      time.Duration // Time - t0
		err     error
	}
	for _, tc := range []struct {
		name       string
		endQueued  string // with no worker the request waits, then is "remove"d, "cancel"led or "close"d
		prepareErr error
		workErr    error
		want       []want
	}{
		{name: "success", want: []want{{kind: JobQueued},
			{kind: JobStarted, worker: true},
			{kind: JobFinished, worker: true, at: 3 * time.Second}}},
		{name: "work fails", workErr: boom, want: []want{{kind: JobQueued},
			{kind: JobStarted, worker: true},
			{kind: JobFinished, worker: true, at: 3 * time.Second, err: boom}}},
		{name: "prepare fails", prepareErr: boom, want: []want{{kind: JobQueued},
			{kind: JobStarted, worker: true},
			{kind: JobFinished, worker: true, at: time.Second, err: boom}}},
		{name: "removed before it started", endQueued: "remove", want: []want{{kind: JobQueued},
			{kind: JobFinished, err: ErrRequestRemoved}}},
		{name: "cancelled before it started", endQueued: "cancel", want: []want{{kind: JobQueued},
			{kind: JobFinished, err: context.Canceled}}},
		{name: "closed before it started", endQueued: "close", want: []want{{kind: JobQueued},
			{kind: JobFinished, err: ErrClosed}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := NewFakeClock(t0)
			events := make(chan JobEvent, 8) // the hook hands events to a buffered channel: it never blocks
			s, err := New(Config{Clock: clk, OnJob: func(ev JobEvent) { events <- ev }})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { s.Run(ctx); close(done) }()
			defer func() { _ = s.Close(context.Background()); cancel(); <-done }()
			if tc.endQueued == "" {
				w := newMemWorker(box{name: "w", cpus: 16, memGiB: 128, tasks: allTasks})
				if err := s.AddWorker(ctx, wid("w"), w); err != nil {
					t.Fatal(err)
				}
			}
			errc := make(chan error, 1)
			rctx, rcancel := context.WithCancel(ctx)
			defer rcancel()
			go func() {
				errc <- s.Schedule(rctx, sectorRef(1), storiface.TTPreCommit1, NewTaskSelector(),
					PrepareAction{Action: func(context.Context, Worker) error { clk.Advance(time.Second); return tc.prepareErr },
						PrepType: storiface.TTFetch},
					func(context.Context, Worker) error { clk.Advance(2 * time.Second); return tc.workErr })
			}()
			first := <-events
			if tc.endQueued != "" {
				waitFor(t, func() bool { d, _ := s.Info(ctx); return len(d.Requests) == 1 }) // in the core's queue
			}
			switch tc.endQueued {
			case "remove":
				if err := s.RemoveRequest(ctx, first.ID); err != nil {
					t.Fatal(err)
				}
			case "cancel":
				rcancel()
			case "close":
				if err := s.Close(ctx); err != nil {
					t.Fatal(err)
				}
			}
			got := []JobEvent{first}
			for len(got) < len(tc.want) {
				got = append(got, <-events)
			}
			want := tc.want
			if err := <-errc; !errors.Is(err, want[len(want)-1].err) {
				t.Fatalf("Schedule = %v, want %v", err, want[len(want)-1].err)
			}
			select {
			case ev := <-events:
				t.Fatalf("extra event %+v", ev)
			default:
			}
			for i, ev := range got {
				w := want[i]
				if ev.Kind != w.kind || ev.ID != first.ID || ev.Task != storiface.TTPreCommit1 ||
					ev.Sector != sectorRef(1) || !ev.Queued.Equal(t0) || !ev.Time.Equal(t0.Add(w.at)) ||
					!errors.Is(ev.Err, w.err) || (w.err == nil && ev.Err != nil) {
					t.Fatalf("event %d = %+v, want %+v", i, ev, w)
				}
				named := ev.Worker == wid("w") && ev.Hostname == "w" && ev.WorkerName == "w" && ev.Started.Equal(t0.Add(w.started))
				empty := ev.Worker == storiface.WorkerID{} && ev.Hostname == "" && ev.Started.IsZero()
				if (w.worker && !named) || (!w.worker && !empty) {
					t.Fatalf("event %d (%s): worker %s %q started %s, want worker: %v", i, ev.Kind, ev.Worker,
						ev.Hostname, ev.Started, w.worker)
				}
			}
		})
	}
}
