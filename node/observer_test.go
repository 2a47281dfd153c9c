package node

import (
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/metrics"
	"sealfleet/sched"
	"sealfleet/storiface"
	"sealfleet/web"
)

// TestObserverJobLifecycle feeds the observer three polls of a request — waiting in the queue, running on a
// worker, gone — and checks the job history it builds for the timeline.
func TestObserverJobLifecycle(t *testing.T) {
	o := newObserver(nil, nil, nil, metrics.New(), 1000, nil)
	t0 := time.Unix(1_700_000_000, 0)
	req := uuid.New()
	wid := storiface.WorkerID(uuid.New())
	sector := abi.SectorID{Miner: 1000, Number: 7}
	stats := map[storiface.WorkerID]sched.WorkerStats{wid: {Info: storiface.WorkerInfo{Name: "w1"}}}
	queued := sched.DiagInfo{Requests: []sched.DiagRequest{{ID: req, Sector: sector,
		Task: storiface.TTPreCommit1, Added: t0}}}
	running := map[storiface.WorkerID][]storiface.WorkerJob{wid: {{ID: storiface.CallID{Sector: sector, ID: req},
		Sector: sector, Task: storiface.TTPreCommit1, RunWait: storiface.RWRunning, Start: t0.Add(2 * time.Second)}}}

	for _, step := range []struct {
		name    string
		now     time.Time
		info    sched.DiagInfo
		jobs    map[storiface.WorkerID][]storiface.WorkerJob
		changed int
		want    web.Job
	}{
		{"queued", t0.Add(time.Second), queued, nil, 1,
			web.Job{Task: "PC1", Sector: "s-t01000-7", Queued: t0}},
		{"still queued", t0.Add(1500 * time.Millisecond), queued, nil, 0,
			web.Job{Task: "PC1", Sector: "s-t01000-7", Queued: t0}},
		{"running", t0.Add(3 * time.Second), sched.DiagInfo{}, running, 1,
			web.Job{Task: "PC1", Sector: "s-t01000-7", Queued: t0, Start: t0.Add(2 * time.Second),
				Worker: wid.String()}},
		{"finished", t0.Add(9 * time.Second), sched.DiagInfo{}, nil, 1,
			web.Job{Task: "PC1", Sector: "s-t01000-7", Queued: t0, Start: t0.Add(2 * time.Second),
				End: t0.Add(9 * time.Second), Worker: wid.String()}},
	} {
		t.Run(step.name, func(t *testing.T) {
			changed := o.updateJobs(step.now, step.info, step.jobs, stats)
			if len(changed) != step.changed {
				t.Fatalf("%d changed jobs, want %d", len(changed), step.changed)
			}
			got, ok := o.hist.Get(req.String())
			step.want.ID = req.String()
			if !ok || got != step.want {
				t.Fatalf("job %+v, want %+v", got, step.want)
			}
		})
	}
	if len(o.live) != 0 {
		t.Fatalf("%d jobs still live after the last poll", len(o.live))
	}
}
