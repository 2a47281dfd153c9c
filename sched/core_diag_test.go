package sched

import (
	"fmt"
	"testing"

	"sealfleet/storiface"
)

// TestDiagGroupsReasons checks Diag answers one group per reason with the total count and at most DiagExamples
// examples in hostname order, however many workers gave the reason.
func TestDiagGroupsReasons(t *testing.T) {
	for _, n := range []int{1, DiagExamples, DiagExamples + 3} {
		t.Run(fmt.Sprintf("%d-workers", n), func(t *testing.T) {
			var boxes []box
			for i := 0; i < n; i++ {
				boxes = append(boxes, box{name: fmt.Sprintf("c2-%02d", i), cpus: 64, memGiB: 512,
					tasks: []storiface.TaskType{storiface.TTCommit2}})
			}
			h := newHarness(t, CoreConfig{Windows: 1}, boxes...)
			h.req(storiface.TTPreCommit1, 0, nil)
			h.step()
			d := h.c.Diag()
			if len(d.Requests) != 1 || len(d.Requests[0].Reasons) != 1 {
				t.Fatalf("requests %+v", d.Requests)
			}
			g := d.Requests[0].Reasons[0]
			wantEx := min(n, DiagExamples)
			if g.Reason != ReasonTaskUnsupported || g.Count != n || len(g.Workers) != wantEx ||
				len(g.Hostnames) != wantEx {
				t.Fatalf("group %+v, want %s ×%d with %d examples", g, ReasonTaskUnsupported, n, wantEx)
			}
			for i, host := range g.Hostnames {
				if want := fmt.Sprintf("c2-%02d", i); host != want {
					t.Errorf("example %d: %s, want %s", i, host, want)
				}
			}
			one, ok := h.c.DiagRequest(d.Requests[0].ID)
			if !ok || len(one.Rejections) != n {
				t.Fatalf("DiagRequest: ok %v, %d rejections, want %d", ok, len(one.Rejections), n)
			}
		})
	}
}
