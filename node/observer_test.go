package node

import (
	"errors"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"

	"sealfleet/metrics"
	"sealfleet/sched"
	"sealfleet/storiface"
	"sealfleet/web"
)

// TestObserverJobEvents feeds the observer's OnJob hook the events of one request — run to success, run to a
// failure, and cancelled while queued — and checks the job the timeline gets after each event and the metrics
// at the end: a task that fails is counted as failed (not done), one that never ran is counted as neither.
func TestObserverJobEvents(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	req := uuid.New()
	wid := storiface.WorkerID(uuid.New())
	sector := storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: 7}}
	base := sched.JobEvent{ID: req, Task: storiface.TTPreCommit1, Sector: sector, Queued: t0}
	queued := base
	queued.Kind, queued.Time = sched.JobQueued, t0
	started := base
	started.Kind, started.Time, started.Started = sched.JobStarted, t0.Add(2*time.Second), t0.Add(2*time.Second)
	started.Worker, started.WorkerName, started.Hostname = wid, "w1", "host1"
	finished := func(err error) sched.JobEvent {
		e := started
		e.Kind, e.Time, e.Err = sched.JobFinished, t0.Add(9*time.Second), err
		return e
	}
	cancelled := base
	cancelled.Kind, cancelled.Time, cancelled.Err = sched.JobFinished, t0.Add(5*time.Second), errors.New("context canceled")

	job := web.Job{ID: req.String(), Task: "PC1", Sector: "s-t01000-7", Queued: t0}
	running := job
	running.Start, running.Worker = t0.Add(2*time.Second), wid.String()
	done := running
	done.End = t0.Add(9 * time.Second)
	failed := done
	failed.Failed, failed.Message = true, "boom"
	gaveUp := job
	gaveUp.Start, gaveUp.End, gaveUp.Failed, gaveUp.Message = t0.Add(5*time.Second), t0.Add(5*time.Second), true,
		"context canceled"

	for _, tc := range []struct {
		name         string
		events       []sched.JobEvent
		jobs         []web.Job // after each event
		ok, error    float64   // tasks_done_total{task=PC1,worker=w1}
		waits        uint64    // sched_wait_seconds samples
		durationSumS float64   // task_duration_seconds sum
	}{
		{"success", []sched.JobEvent{queued, started, finished(nil)}, []web.Job{job, running, done}, 1, 0, 1, 7},
		{"failure", []sched.JobEvent{queued, started, finished(errors.New("boom"))}, []web.Job{job, running, failed},
			0, 1, 1, 0},
		{"cancelled while queued", []sched.JobEvent{queued, cancelled}, []web.Job{job, gaveUp}, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := metrics.New()
			o := newObserver(m, nil)
			for i, ev := range tc.events {
				o.jobEvent(ev)
				if got, ok := o.hist.Get(req.String()); !ok || got != tc.jobs[i] {
					t.Fatalf("after %s: job %+v, want %+v", ev.Kind, got, tc.jobs[i])
				}
			}
			mfs := gather(t, m)
			for _, c := range []struct {
				name string
				got  float64
				want float64
			}{
				{"tasks ok", counter(mfs, "sealfleet_tasks_done_total", "ok"), tc.ok},
				{"tasks error", counter(mfs, "sealfleet_tasks_done_total", "error"), tc.error},
				{"queue PC1", gauge(mfs, "sealfleet_sched_queue_length"), 0},
				{"sched waits", float64(histogram(mfs, "sealfleet_sched_wait_seconds").GetSampleCount()), float64(tc.waits)},
				{"task duration sum", histogram(mfs, "sealfleet_task_duration_seconds").GetSampleSum(), tc.durationSumS},
			} {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
		})
	}
}

func gather(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// counter returns the value of the series of family name whose outcome label is outcome (0 if none).
func counter(mfs map[string]*dto.MetricFamily, name, outcome string) float64 {
	for _, mt := range mfs[name].GetMetric() {
		for _, l := range mt.GetLabel() {
			if l.GetName() == "outcome" && l.GetValue() == outcome {
				return mt.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// gauge returns the value of the first series of family name (0 if none).
func gauge(mfs map[string]*dto.MetricFamily, name string) float64 {
	if ms := mfs[name].GetMetric(); len(ms) > 0 {
		return ms[0].GetGauge().GetValue()
	}
	return 0
}

// histogram returns the first series of family name (nil if none: its getters return 0).
func histogram(mfs map[string]*dto.MetricFamily, name string) *dto.Histogram {
	if ms := mfs[name].GetMetric(); len(ms) > 0 {
		return ms[0].GetHistogram()
	}
	return nil
}

// sumCounter sums the counters of family name whose labels include every pair of labels.
func sumCounter(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	var sum float64
	for _, mt := range mfs[name].GetMetric() {
		n := 0
		for _, l := range mt.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				n++
			}
		}
		if n == len(labels) {
			sum += mt.GetCounter().GetValue()
		}
	}
	return sum
}
