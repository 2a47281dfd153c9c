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
				// Targets of docs/bench/sched.md; virtual time, so these are deterministic, not timing asserts.
				if res.Ratio > 1.05 {
					t.Errorf("ratio %.3f > 1.05", res.Ratio)
				}
				if res.MaxIdleWithEligibleWorkSecond > 10 {
					t.Errorf("max idle with eligible work %.0f s > 10 s", res.MaxIdleWithEligibleWorkSecond)
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

func TestOneSectorOneWorkerMeetsTheBound(t *testing.T) {
	// One sector on one all-round box: nothing waits and nothing is fetched, so the makespan is the critical path
	// 600+12600+1500+60+1200+300 = 16260 s, which is also the lower bound.
	sc, err := ParseScenario([]byte(`{"sectors":1,"workers":[{"name":"box","cpus":64,"memoryGiB":1024,"gpus":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(sc, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.MakespanSeconds != 16260 || res.LowerBoundSeconds != 16260 || res.FetchedGiB != 0 {
		t.Fatalf("makespan %v bound %v fetched %v", res.MakespanSeconds, res.LowerBoundSeconds, res.FetchedGiB)
	}
}

func TestFetchCharged(t *testing.T) {
	// AP/PC1 on one box, PC2/C1/C2/FIN on another: PC2 fetches sealed+cache (15 × 32 GiB = 480 GiB at 2 s/GiB),
	// FIN runs where PC2 left the files.
	sc, err := ParseScenario([]byte(`{"sectors":1,"workers":[
		{"name":"a","cpus":64,"memoryGiB":1024,"tasks":["AP","PC1"]},
		{"name":"b","cpus":64,"memoryGiB":1024,"gpus":1,"tasks":["PC2","C1","C2","FIN"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(sc, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.FetchedGiB != 480 || res.MakespanSeconds != 16260+960 {
		t.Fatalf("fetched %v GiB, makespan %v", res.FetchedGiB, res.MakespanSeconds)
	}
}

func TestDealSectorsGoFirst(t *testing.T) {
	// deal-burst: 40 deal sectors (priority 1024) arrive at once at t=1800 s, behind 80 regular ones arriving one a
	// minute. With priority they must be done sooner after arrival than the regular sectors on average.
	sc, err := LoadScenario("scenarios/deal-burst.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(sc, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.DealMeanSeconds >= res.RegularMeanSeconds {
		t.Fatalf("deal sectors took %.0f s on average, regular ones %.0f s", res.DealMeanSeconds, res.RegularMeanSeconds)
	}
	t.Logf("deal %.0f s, regular %.0f s", res.DealMeanSeconds, res.RegularMeanSeconds)
}
