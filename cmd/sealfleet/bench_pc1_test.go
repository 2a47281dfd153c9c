package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"sealfleet/seal/sdr"
)

func TestBenchPC1Runs(t *testing.T) {
	// --runs 2 --json prints one result object per run, one per line, each of a full 2KiB PC1.
	dir := t.TempDir()
	out, err := runPieceApp(t, "bench", "pc1", "--sector-size", "2KiB", "--runs", "2", "--json",
		"--parents-cache", dir, "--tmp-dir", dir)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		var res sdr.PC1BenchResult
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("line %d: %v: %q", n+1, err, sc.Text())
		}
		if res.Nodes != 64 || res.Layers != 2 || res.Ratio <= 0 || res.ShaNsPerNode <= 0 {
			t.Fatalf("line %d: %+v", n+1, res)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d result lines, want 2: %q", n, out)
	}

	if out, err := runPieceApp(t, "bench", "pc1", "--sector-size", "2KiB", "--runs", "0"); err == nil ||
		!strings.Contains(err.Error(), "--runs 0: want 1 or more") {
		t.Fatalf("--runs 0: %v (%s)", err, out)
	}
}

func TestMedianRange(t *testing.T) {
	for _, tc := range []struct {
		xs           []float64
		lo, med, max float64
	}{
		{[]float64{1.2}, 1.2, 1.2, 1.2},
		{[]float64{1.3, 1.1}, 1.1, 1.2, 1.3},
		{[]float64{1.5, 1.0, 1.2}, 1.0, 1.2, 1.5},
		{[]float64{1.0, 1.4, 1.1, 1.3}, 1.0, 1.2, 1.4},
	} {
		lo, med, hi := medianRange(tc.xs)
		if lo != tc.lo || hi != tc.max || med < tc.med-1e-9 || med > tc.med+1e-9 {
			t.Errorf("medianRange(%v) = %v, %v, %v; want %v, %v, %v", tc.xs, lo, med, hi, tc.lo, tc.med, tc.max)
		}
	}
}
