package node

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/pipeline"
	"sealfleet/storiface"
	"sealfleet/web"
)

// TestPledgeToProving pledges sectors on an all-in-one node (native backend, embedded local worker) and checks
// that each reaches Proving with a proof that verifies and its sealed and cache files in long-term storage.
func TestPledgeToProving(t *testing.T) {
	for _, tc := range []struct {
		size    string
		sectors int
		long    bool // only with SEALFLEET_LONG=1: PC2 of 8MiB takes minutes under -race on 2 cores
	}{
		{"2KiB", 2, false},
		{"8MiB", 1, true},
	} {
		t.Run(tc.size, func(t *testing.T) {
			if tc.long && (testing.Short() || os.Getenv("SEALFLEET_LONG") != "1") {
				t.Skip("long size: set SEALFLEET_LONG=1 (see docs/bench/e2e.md)")
			}
			n := startNode(t, t.TempDir(), testConfig(tc.size), t.TempDir())
			ctx := context.Background()
			var nums []abi.SectorNumber
			for range tc.sectors {
				num, err := n.Pipeline().Pledge(ctx)
				if err != nil {
					t.Fatal(err)
				}
				nums = append(nums, num)
			}
			waitStates(t, n.Pipeline(), nums, pipeline.Proving, 15*time.Minute)
			// The observer reports the sector states to /metrics at its next poll.
			want := fmt.Sprintf("sealfleet_sectors{state=\"Proving\"} %d", tc.sectors)
			deadline := time.After(time.Minute)
			for {
				_, body := httpDo(t, http.MethodGet, n.URL()+"/metrics", "", nil)
				if strings.Contains(string(body), want) {
					break
				}
				select {
				case <-deadline:
					t.Fatalf("/metrics lacks %s", want)
				case <-time.After(50 * time.Millisecond):
				}
			}
			checkJobsRecorded(t, n, nums, tc.sectors)
			miner, _ := n.cfg.PipelineConfig()
			for _, num := range nums {
				si, err := n.Pipeline().Status(ctx, num)
				if err != nil {
					t.Fatal(err)
				}
				verifySector(t, si, miner.Miner)
				for _, ft := range []storiface.SectorFileType{storiface.FTSealed, storiface.FTCache} {
					found, err := n.Index().StorageFindSector(ctx, si.Ref(miner.Miner).ID, ft, 0, false)
					if err != nil || len(found) != 1 || !found[0].CanStore {
						t.Fatalf("sector %d %s in %+v (%v), want one storage path", num, ft, found, err)
					}
				}
			}
		})
	}
}

// checkJobsRecorded checks that the job history holds, for each sector, its PC1, PC2 and C2 as finished and not
// failed, and that the metrics count a successful PC1 per sector: 2KiB tasks take milliseconds, far less than
// the observer's poll interval, so only the scheduler's OnJob hook can have recorded them.
func checkJobsRecorded(t *testing.T, n *runningNode, nums []abi.SectorNumber, sectors int) {
	t.Helper()
	jobs, err := n.observer.hist.Jobs(web.JobQuery{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	miner, _ := n.cfg.PipelineConfig()
	for _, num := range nums {
		name := storiface.SectorName(abi.SectorID{Miner: miner.Miner, Number: num})
		tasks := map[string]bool{}
		for _, j := range jobs {
			if j.Sector != name {
				continue
			}
			if j.End.IsZero() || j.Failed || j.Worker == "" || j.Start.Before(j.Queued) || j.End.Before(j.Start) {
				t.Errorf("sector %s job %+v: want finished on a worker, not failed, queued <= start <= end", name, j)
			}
			tasks[j.Task] = true
		}
		for _, want := range []string{"PC1", "PC2", "C2"} {
			if !tasks[want] {
				t.Errorf("sector %s: no %s in the job history (tasks %v)", name, want, tasks)
			}
		}
	}
	if got := sumCounter(gather(t, n.Metrics()), "sealfleet_tasks_done_total", map[string]string{"task": "PC1",
		"outcome": "ok"}); got != float64(sectors) {
		t.Errorf("tasks_done_total{task=PC1,outcome=ok} = %v, want %d", got, sectors)
	}
}
