package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/sched"
	"sealfleet/storiface"
)

func fixedNow(t *testing.T) time.Time {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	old := renderNow
	renderNow = func() time.Time { return now }
	t.Cleanup(func() { renderNow = old })
	return now
}

func TestRenderWorkers(t *testing.T) {
	id := uuid.MustParse("11111111-1111-1111-1111-111111111111")
	stats := map[uuid.UUID]sched.WorkerStats{id: {
		Info: storiface.WorkerInfo{Hostname: "box1", Resources: storiface.WorkerResources{
			MemPhysical: 128 << 30, CPUs: 16, GPUs: []string{"rtx"}}},
		Tasks:   []storiface.TaskType{storiface.TTPreCommit1, storiface.TTPreCommit2},
		Enabled: false, MemUsedMin: 64 << 30, MemUsedMax: 64 << 30, CpuUse: 8, GpuUsed: 0.5,
		TaskCounts: map[string]int{"PC1": 2}, Waiting: 1,
	}}
	var b bytes.Buffer
	if err := renderWorkers(&b, stats); err != nil {
		t.Fatal(err)
	}
	// 8 of 16 cores → half the bar; 64 of 128 GiB → 50 %.
	for _, want := range []string{
		"Worker 11111111-1111-1111-1111-111111111111, host box1 (disabled)",
		"TASK: PC1 PC2",
		"CPU:  [||||||||||          ] 8/16 core(s) in use",
		"RAM:  [||||||||||          ] 50% 64.0 GiB/128.0 GiB",
		"GPU:  [||||||||||          ] 50% 0.50/1 gpu(s) in use",
		"JOBS: PC1:2 waiting:1",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}

func TestRenderJobs(t *testing.T) {
	now := fixedNow(t)
	w := uuid.MustParse("22222222-2222-2222-2222-222222222222")
	s := abi.SectorID{Miner: 1000, Number: 7}
	jobs := map[uuid.UUID][]storiface.WorkerJob{w: {
		{ID: storiface.CallID{Sector: s, ID: uuid.MustParse("00000000-0000-0000-0000-000000000002")}, Sector: s,
			Task: storiface.TTPreCommit2, RunWait: 2, Start: now.Add(-time.Minute), Hostname: "box"},
		{ID: storiface.CallID{Sector: s, ID: uuid.MustParse("00000000-0000-0000-0000-000000000001")}, Sector: s,
			Task: storiface.TTPreCommit1, RunWait: storiface.RWRunning, Start: now.Add(-time.Hour), Hostname: "box"},
	}}
	var b bytes.Buffer
	if err := renderJobs(&b, jobs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines:\n%s", b.String())
	}
	if !strings.Contains(lines[1], "PC1") || !strings.Contains(lines[1], "running") || !strings.Contains(lines[1], "1h0m0s") {
		t.Errorf("first job line: %q", lines[1])
	}
	if !strings.Contains(lines[2], "assigned(1)") || !strings.Contains(lines[2], "22222222") {
		t.Errorf("second job line: %q", lines[2])
	}
}

func TestRenderSchedDiag(t *testing.T) {
	now := fixedNow(t)
	d := sched.DiagInfo{
		Requests: []sched.DiagRequest{{ID: uuid.MustParse("33333333-3333-3333-3333-333333333333"),
			Sector: abi.SectorID{Miner: 1000, Number: 9}, Task: storiface.TTPreCommit1, State: "queued",
			Added: now.Add(-90 * time.Second), Rejections: []sched.DiagRejection{
				{Hostname: "gpu1", Reason: sched.ReasonTaskUnsupported},
				{Hostname: "box1", Reason: sched.ReasonNoCapacity, Detail: "now: not enough physical memory"},
			}}},
		OpenWindows: []sched.DiagWindow{{Hostname: "box1", Window: 0, Tasks: []uuid.UUID{{}}, Utilization: 0.5}},
	}
	var b bytes.Buffer
	if err := renderSchedDiag(&b, d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Waiting requests: 1", "33333333-3333-3333-3333-333333333333 PC1 sector 9 prio 0 queued for 1m30s\n",
		"gpu1         task-unsupported", "box1         no-capacity: now: not enough physical memory", "50%"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
	d.Requests[0].Rejections = nil
	d.Requests[0].Reasons = []sched.DiagReasonGroup{
		{Reason: sched.ReasonTaskUnsupported, Count: 7, Hostnames: []string{"gpu1", "gpu2"}},
		{Reason: sched.ReasonNoCapacity, Count: 1, Hostnames: []string{"box1"}, Detail: "now: not enough physical memory"},
	}
	b.Reset()
	if err := renderSchedDiag(&b, d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"task-unsupported     7 worker(s): gpu1, gpu2, +5 more",
		"no-capacity          1 worker(s): box1; e.g. now: not enough physical memory"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("grouped: missing %q in:\n%s", want, b.String())
		}
	}
	for _, tc := range []struct {
		name    string
		count   int
		sectors int
		want    string
	}{
		{"all sectors listed", 3, 3, "queued for 1m30s (×3; also sectors 10, 11)\n"},
		{"IDs capped", 25, 20, "(×25; also sectors 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, " +
			"26, 27, 28, +5 more)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := d
			g.Waiting = tc.count
			g.Requests = []sched.DiagRequest{d.Requests[0]}
			g.Requests[0].Count = tc.count
			for i := range tc.sectors {
				g.Requests[0].Sectors = append(g.Requests[0].Sectors, abi.SectorID{Miner: 1000, Number: abi.SectorNumber(9 + i)})
			}
			var b bytes.Buffer
			if err := renderSchedDiag(&b, g); err != nil {
				t.Fatal(err)
			}
			head := fmt.Sprintf("Waiting requests: %d in 1 group(s)", tc.count)
			if !strings.Contains(b.String(), tc.want) || !strings.Contains(b.String(), head) {
				t.Errorf("missing %q or %q in:\n%s", head, tc.want, b.String())
			}
		})
	}
}
