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
