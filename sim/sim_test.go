package sim

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestShippedScenarios(t *testing.T) {
	files, err := filepath.Glob("scenarios/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("scenarios: %v %v", files, err)
	}
	for _, f := range files {
		for _, assigner := range []string{"utilization", "spread"} {
			t.Run(filepath.Base(f)+"/"+assigner, func(t *testing.T) {
				sc, err := LoadScenario(f)
				if err != nil {
					t.Fatal(err)
				}
				res, err := Run(sc, assigner)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s %s: makespan %.0f lb %.0f ratio %.3f maxIdle %.0f fetched %.0f util %v passes %d mean %.1fus",
					filepath.Base(f), assigner, res.MakespanSeconds, res.LowerBoundSeconds, res.Ratio,
					res.MaxIdleWithEligibleWorkSecond, res.FetchedGiB, res.Utilization, res.SchedulingPasses,
					res.MeanPassMicros)
				if res.Ratio < 1 {
					t.Fatalf("makespan below the lower bound: the bound is wrong")
				}
			})
		}
	}
}

func TestDeterministicRun(t *testing.T) {
	sc, err := LoadScenario("scenarios/cpu-gpu.json")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Run(sc, "")
	b, _ := Run(sc, "")
	if a.MakespanSeconds != b.MakespanSeconds || a.FetchedGiB != b.FetchedGiB || a.SchedulingPasses != b.SchedulingPasses {
		t.Fatalf("runs differ: %+v vs %+v", a, b)
	}
}

func TestScenarioErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"workers":[]}`, "workers"},
		{`{"sectorSize":"3GiB","workers":[{"cpus":1,"memoryGiB":1}]}`, "sectorSize"},
		{`{"pipeline":["XX"],"workers":[{"cpus":1,"memoryGiB":1}]}`, "pipeline"},
		{`{"workers":[{"cpus":1}]}`, "memoryGiB"},
		{`{"bogus":1,"workers":[{"cpus":1,"memoryGiB":1}]}`, "bogus"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := ParseScenario([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %s", err, tc.want)
			}
		})
	}
}
