package resources

import (
	"strings"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

func TestThreads(t *testing.T) {
	multi := storiface.Resources{MaxParallelism: -1}
	gpuTask := storiface.Resources{MaxParallelism: -1, MaxParallelismGPU: 6, GPUUtilization: 1}
	// The 92 % rule: the reference's own table of examples (Lotus storiface/resources.go comment).
	for _, tc := range []struct {
		name string
		r    storiface.Resources
		cpus uint64
		gpus int
		want uint64
	}{
		{"12 cores", multi, 12, 0, 11}, {"16 cores", multi, 16, 0, 14}, {"24 cores", multi, 24, 0, 22},
		{"32 cores", multi, 32, 0, 29}, {"64 cores", multi, 64, 0, 58}, {"128 cores", multi, 128, 0, 117},
		{"1 core takes it all", multi, 1, 0, 1},
		{"gpu present uses MaxParallelismGPU", gpuTask, 64, 1, 6},
		{"no gpu falls back to MaxParallelism", gpuTask, 64, 0, 58},
		{"single thread", storiface.Resources{MaxParallelism: 1}, 64, 0, 1},
		{"zero threads", storiface.Resources{}, 64, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Threads(tc.r, tc.cpus, tc.gpus); got != tc.want {
				t.Fatalf("Threads = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestDefaultTable(t *testing.T) {
	tab := DefaultTable()
	// Values from Lotus storage/sealer/storiface/resources.go ResourceTable.
	for _, tc := range []struct {
		name string
		tt   storiface.TaskType
		spt  abi.RegisteredSealProof
		want storiface.Resources
	}{
		{"PC1 32GiB V1", storiface.TTPreCommit1, abi.RegisteredSealProof_StackedDrg32GiBV1,
			storiface.Resources{MinMemory: 56 << 30, MaxMemory: 64 << 30, MaxParallelism: 1, BaseMinMemory: 10 << 20}},
		{"PC1 32GiB V1_1 copies V1", storiface.TTPreCommit1, abi.RegisteredSealProof_StackedDrg32GiBV1_1,
			storiface.Resources{MinMemory: 56 << 30, MaxMemory: 64 << 30, MaxParallelism: 1, BaseMinMemory: 10 << 20}},
		{"PC2 64GiB synthetic", storiface.TTPreCommit2, abi.RegisteredSealProof_StackedDrg64GiBV1_1_Feat_SyntheticPoRep,
			storiface.Resources{MinMemory: 30 << 30, MaxMemory: 30 << 30, GPUUtilization: 1, MaxParallelism: -1,
				MaxParallelismGPU: 6, BaseMinMemory: 1 << 30}},
		{"C2 32GiB", storiface.TTCommit2, abi.RegisteredSealProof_StackedDrg32GiBV1_1,
			storiface.Resources{MinMemory: 30 << 30, MaxMemory: 150 << 30, GPUUtilization: 1, MaxParallelism: -1,
				MaxParallelismGPU: 6, BaseMinMemory: 32 << 30}},
		{"AP 2KiB", storiface.TTAddPiece, abi.RegisteredSealProof_StackedDrg2KiBV1_1,
			storiface.Resources{MinMemory: 2 << 10, MaxMemory: 2 << 10, MaxParallelism: 1, BaseMinMemory: 2 << 10}},
		{"PC2 512MiB", storiface.TTPreCommit2, abi.RegisteredSealProof_StackedDrg512MiBV1_1,
			storiface.Resources{MinMemory: 1 << 30, MaxMemory: 3 << 29, MaxParallelism: -1, BaseMinMemory: 1 << 30}},
		{"DataCid uses AP 32GiB at every size", storiface.TTDataCid, abi.RegisteredSealProof_StackedDrg2KiBV1_1,
			storiface.Resources{MinMemory: 4 << 30, MaxMemory: 4 << 30, MaxParallelism: 1, BaseMinMemory: 1 << 30}},
		{"UNS copies PC1", storiface.TTUnseal, abi.RegisteredSealProof_StackedDrg64GiBV1_1,
			storiface.Resources{MinMemory: 112 << 30, MaxMemory: 128 << 30, MaxParallelism: 1, BaseMinMemory: 10 << 20}},
		{"FIN has an explicit zero row", storiface.TTFinalize, abi.RegisteredSealProof_StackedDrg32GiBV1_1,
			storiface.Resources{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tab[tc.tt][tc.spt]
			if !ok {
				t.Fatalf("no row")
			}
			if got != tc.want {
				t.Fatalf("row = %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("fresh copies", func(t *testing.T) {
		a := DefaultTable()
		a[storiface.TTPreCommit1][3] = storiface.Resources{}
		if DefaultTable()[storiface.TTPreCommit1][3].MinMemory == 0 {
			t.Fatal("DefaultTable shares maps between calls")
		}
	})
}

func envOf(kv map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestApplyEnv(t *testing.T) {
	spt32 := abi.RegisteredSealProof_StackedDrg32GiBV1_1
	spt2k := abi.RegisteredSealProof_StackedDrg2KiBV1_1
	for _, tc := range []struct {
		name    string
		env     map[string]string
		tt      storiface.TaskType
		spt     abi.RegisteredSealProof
		check   func(r storiface.Resources) bool
		wantErr string
	}{
		{name: "size-specific", env: map[string]string{"PC2_2K_MAX_MEMORY": "4096"}, tt: storiface.TTPreCommit2, spt: spt2k,
			check: func(r storiface.Resources) bool { return r.MaxMemory == 4096 }},
		{name: "size-specific does not touch other sizes", env: map[string]string{"PC2_2K_MAX_MEMORY": "4096"},
			tt: storiface.TTPreCommit2, spt: spt32, check: func(r storiface.Resources) bool { return r.MaxMemory == 15<<30 }},
		{name: "generic", env: map[string]string{"C2_MAX_CONCURRENT": "1"}, tt: storiface.TTCommit2, spt: spt32,
			check: func(r storiface.Resources) bool { return r.MaxConcurrent == 1 }},
		{name: "size-specific wins over generic",
			env: map[string]string{"PC1_32G_MAX_PARALLELISM": "2", "PC1_MAX_PARALLELISM": "5"},
			tt:  storiface.TTPreCommit1, spt: spt32, check: func(r storiface.Resources) bool { return r.MaxParallelism == 2 }},
		{name: "gpu fraction", env: map[string]string{"C2_GPU_UTILIZATION": "0.5"}, tt: storiface.TTCommit2, spt: spt32,
			check: func(r storiface.Resources) bool { return r.GPUUtilization == 0.5 }},
		{name: "multicore sdr", env: map[string]string{"FIL_PROOFS_USE_MULTICORE_SDR": "1"}, tt: storiface.TTPreCommit1,
			spt: spt32, check: func(r storiface.Resources) bool { return r.MaxParallelism == 4 }},
		{name: "multicore sdr producers",
			env: map[string]string{"FIL_PROOFS_USE_MULTICORE_SDR": "1", "FIL_PROOFS_MULTICORE_SDR_PRODUCERS": "7"},
			tt:  storiface.TTUnseal, spt: spt32, check: func(r storiface.Resources) bool { return r.MaxParallelism == 8 }},
		{name: "bad number names the variable", env: map[string]string{"PC2_32G_MAX_MEMORY": "lots"},
			wantErr: "PC2_32G_MAX_MEMORY"},
		{name: "negative parallelism", env: map[string]string{"AP_MAX_PARALLELISM": "-2"}, wantErr: "AP_MAX_PARALLELISM"},
		{name: "negative gpu", env: map[string]string{"C2_GPU_UTILIZATION": "-1"}, wantErr: "C2_GPU_UTILIZATION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := DefaultTable()
			got, err := ApplyEnv(base, envOf(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(got[tc.tt][tc.spt]) {
				t.Fatalf("row = %+v", got[tc.tt][tc.spt])
			}
			if base[storiface.TTPreCommit2][spt2k].MaxMemory != 2<<10 {
				t.Fatal("ApplyEnv modified its base")
			}
		})
	}
}

func TestEnvVars(t *testing.T) {
	base := DefaultTable()
	vars := EnvVars(base)
	found := false
	for _, v := range vars {
		if v.Name == "PC1_32G_MIN_MEMORY" {
			found = v.Value == "60129542144"
		}
	}
	if !found {
		t.Fatal("PC1_32G_MIN_MEMORY=60129542144 missing")
	}
	over, err := ApplyEnv(base, envOf(map[string]string{"C2_32G_MAX_CONCURRENT": "2"}))
	if err != nil {
		t.Fatal(err)
	}
	diff := DiffEnvVars(over, base)
	if len(diff) != 1 || diff[0] != (EnvVar{"C2_32G_MAX_CONCURRENT", "2"}) {
		t.Fatalf("diff = %v", diff)
	}
}
