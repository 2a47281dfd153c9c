package chaos

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestCountPC1Runs(t *testing.T) {
	// The format of a worker's log (slog's default handler), as in a real run.
	line := func(sector string, layer int) string {
		return "2026/11/23 21:06:31 INFO layer labelled component=sdr dir=/r/store/cache/" + sector +
			".sealfleet-tmp layer=" + string(rune('0'+layer)) + " seconds=0.007 hasher_gathered=63\n"
	}
	// The kills happen 1 s (cuts a run logged just before) or 1 h (long after) after the runs at 21:06:31.
	kill := killMarker + " " + time.Date(2026, 11, 23, 21, 6, 32, 0, time.Local).Format(time.RFC3339Nano) + "\n"
	lateKill := killMarker + " " + time.Date(2026, 11, 23, 22, 6, 31, 0, time.Local).Format(time.RFC3339Nano) + "\n"
	tests := []struct {
		name    string
		log     string
		want    map[string]int
		wantCut map[string]int
	}{
		{"one run", line("s-t01000-1", 1) + line("s-t01000-1", 2), map[string]int{"s-t01000-1": 1}, map[string]int{}},
		{"layer 1 only", line("s-t01000-1", 1), map[string]int{}, map[string]int{}},
		{"twice in one lifetime", line("s-t01000-1", 2) + line("s-t01000-1", 2), map[string]int{"s-t01000-1": 2}, map[string]int{}},
		{"run, kill, run again", line("s-t01000-1", 2) + kill + line("s-t01000-1", 2),
			map[string]int{"s-t01000-1": 2}, map[string]int{"s-t01000-1": 1}},
		{"run, kill much later, run again", line("s-t01000-1", 2) + lateKill + line("s-t01000-1", 2),
			map[string]int{"s-t01000-1": 2}, map[string]int{}},
		{"killed twice without runs", kill + kill + line("s-t01000-3", 2), map[string]int{"s-t01000-3": 1}, map[string]int{}},
		{"text handler format", "time=x level=INFO msg=\"layer labelled\" component=sdr dir=/r/cache/s-t01000-5 layer=2\n",
			map[string]int{"s-t01000-5": 1}, map[string]int{}},
		{"two sectors", line("s-t01000-1", 2) + line("s-t01000-12", 2), map[string]int{"s-t01000-1": 1, "s-t01000-12": 1}, map[string]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "w.log")
			if err := os.WriteFile(log, []byte(tc.log), 0o644); err != nil {
				t.Fatal(err)
			}
			got, cut := map[string]int{}, map[string]int{}
			if err := countPC1Runs(log, got, cut); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) || !maps.Equal(cut, tc.wantCut) {
				t.Fatalf("runs %v cut %v, want %v and %v", got, cut, tc.want, tc.wantCut)
			}
		})
	}
}

func TestTempFiles(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"store/sealed/s-t01000-1", "store/cache/s-t01000-1.sealfleet-tmp/p_aux",
		"store/sealed/fetching/s-t01000-2", "store/cache/s-t01000-3/sc-02-data-layer-1.dat.tmp", "storage.json"} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, p := range tempFiles(root) {
		rel, _ := filepath.Rel(root, p)
		got = append(got, rel)
	}
	want := []string{"store/cache/s-t01000-1.sealfleet-tmp", "store/cache/s-t01000-3/sc-02-data-layer-1.dat.tmp",
		"store/sealed/fetching/s-t01000-2"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"no binary", Config{Dir: "d", Sectors: 1}, false},
		{"no dir", Config{Binary: "b", Sectors: 1}, false},
		{"no sectors", Config{Binary: "b", Dir: "d"}, false},
		{"negative kills", Config{Binary: "b", Dir: "d", Sectors: 1, Kills: -1}, false},
		{"defaults", Config{Binary: "b", Dir: "d", Sectors: 1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.validate()
			if (err == nil) != tc.ok {
				t.Fatalf("validate: %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (tc.cfg.Workers != 3 || tc.cfg.SectorSize != "2KiB" || tc.cfg.Timeout == 0) {
				t.Fatalf("defaults not applied: %+v", tc.cfg)
			}
		})
	}
}

// TestRunShort is the CI-sized chaos run: 6 sectors of 2KiB, 3 kills, on a freshly built sealfleet binary.
// Skipped with -short.
func TestRunShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sealfleet and runs real processes")
	}
	bin := filepath.Join(t.TempDir(), "sealfleet")
	cmd := exec.Command("go", "build", "-o", bin, "sealfleet/cmd/sealfleet")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	seed := uint64(time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{Binary: bin, Dir: t.TempDir(), Seed: seed, Sectors: 6, Kills: 3})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	t.Logf("seed %d: %+v", seed, rep)
	if !rep.OK || rep.Proving != 6 || rep.ProofsVerified != 6 || len(rep.Kills) != 3 {
		t.Fatalf("seed %d: %+v", seed, rep)
	}
}
