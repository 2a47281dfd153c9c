package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"sealfleet/storiface"
)

func TestMetrics_Values(t *testing.T) {
	m := New()
	m.SetQueueLength(storiface.TTPreCommit1, 7)
	m.SetQueueLength(storiface.TTCommit2, 2)
	m.ObserveSchedWait(storiface.TTPreCommit1, 1500*time.Millisecond)
	m.ObserveSchedWait(storiface.TTPreCommit1, 30*time.Second)
	m.ObserveTaskDone(storiface.TTPreCommit1, "seal-01", 3*time.Hour)
	m.ObserveTaskDone(storiface.TTPreCommit1, "seal-01", 2*time.Hour)
	m.ObserveTaskFailed(storiface.TTPreCommit1, "seal-01")
	m.AddFetch(64<<30, 90*time.Second)
	m.AddFetch(1<<20, time.Second)
	m.SetWorkerResources("seal-01", WorkerResources{CPUUsed: 8, CPUTotal: 64, MemUsed: 1 << 30, MemTotal: 4 << 30, GPUUsed: 0.5, GPUTotal: 1, Enabled: true})
	m.SetCallStates(map[string]int{"running": 3, "returned": 1})
	m.SetSectorStates(map[string]int{"PreCommit1": 5, "Proving": 100})

	for _, tc := range []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"queue PC1", m.queueLength.WithLabelValues("PC1"), 7},
		{"queue C2", m.queueLength.WithLabelValues("C2"), 2},
		{"tasks ok", m.tasksDone.WithLabelValues("PC1", "seal-01", "ok"), 2},
		{"tasks error", m.tasksDone.WithLabelValues("PC1", "seal-01", "error"), 1},
		{"fetch bytes", m.fetchBytes, 64<<30 + 1<<20},
		{"cpu used", m.workerCPUUsed.WithLabelValues("seal-01"), 8},
		{"gpu used", m.workerGPUUsed.WithLabelValues("seal-01"), 0.5},
		{"enabled", m.workerEnabled.WithLabelValues("seal-01"), 1},
		{"calls running", m.callStates.vec.WithLabelValues("running"), 3},
		{"sectors proving", m.sectorStates.vec.WithLabelValues("Proving"), 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := testutil.ToFloat64(tc.c); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if n := testutil.CollectAndCount(m.schedWait, "sealfleet_sched_wait_seconds"); n != 1 {
		t.Fatalf("sched wait series: %d, want 1 (PC1)", n)
	}
	if n := testutil.CollectAndCount(m.taskDuration); n != 1 {
		t.Fatalf("task duration series: %d, want 1", n)
	}
}

func TestMetrics_StatesReplacedAsAWhole(t *testing.T) {
	m := New()
	m.SetSectorStates(map[string]int{"PreCommit1": 5, "WaitSeed": 2})
	m.SetSectorStates(map[string]int{"PreCommit2": 5})
	for st, want := range map[string]float64{"PreCommit1": 0, "WaitSeed": 0, "PreCommit2": 5} {
		if got := testutil.ToFloat64(m.sectorStates.vec.WithLabelValues(st)); got != want {
			t.Errorf("%s: %v, want %v", st, got, want)
		}
	}
}

func TestMetrics_RemoveWorker(t *testing.T) {
	m := New()
	m.SetWorkerResources("a", WorkerResources{CPUTotal: 1})
	m.SetWorkerResources("b", WorkerResources{CPUTotal: 2})
	m.RemoveWorker("a")
	if n := testutil.CollectAndCount(m.workerCPUTotal); n != 1 {
		t.Fatalf("%d worker series after removing a, want 1", n)
	}
}

func TestMetrics_NilIsNoOp(t *testing.T) {
	var m *Metrics
	m.SetQueueLength(storiface.TTAddPiece, 1)
	m.ObserveSchedWait(storiface.TTAddPiece, time.Second)
	m.ObserveTaskDone(storiface.TTAddPiece, "w", time.Second)
	m.ObserveTaskFailed(storiface.TTAddPiece, "w")
	m.AddFetch(1, time.Second)
	m.SetWorkerResources("w", WorkerResources{})
	m.RemoveWorker("w")
	m.SetCallStates(nil)
	m.SetSectorStates(nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("nil handler: %d", rec.Code)
	}
}

func TestMetrics_HandlerAndLint(t *testing.T) {
	m := New()
	m.SetQueueLength(storiface.TTPreCommit2, 1)
	m.ObserveTaskDone(storiface.TTPreCommit2, "gpu-01", time.Minute)
	m.AddFetch(100, time.Second)
	m.SetSectorStates(map[string]int{"Proving": 1})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`sealfleet_sched_queue_length{task="PC2"} 1`,
		`sealfleet_task_duration_seconds_bucket{task="PC2",worker="gpu-01",le="97.65625"} 1`,
		`sealfleet_fetch_bytes_total 100`,
		`sealfleet_sectors{state="Proving"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, Namespace+"_") {
			t.Errorf("lint %s: %s", p.Metric, p.Text)
		}
	}
}
