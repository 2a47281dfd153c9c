package sdr

import (
	"testing"
	"time"
)

func TestPacerNap(t *testing.T) {
	// A pacer's first nap starts its measure of the labeler's pace and returns the least nap; later naps are
	// napShare of the time the labeler should take to reach the node, at the pace seen so far, within
	// [least, most].
	const least, most = 200 * time.Microsecond, 20 * time.Millisecond
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name     string
		labelled uint64 // at the second nap
		at       time.Duration
		need     uint64
		want     time.Duration
	}{
		{"pace not known yet", 1 + minPaceNodes/2, time.Millisecond, 1 << 14, least},
		{"1 µs per node, 8Ki nodes to go", 1 + 1<<12, 4096 * time.Microsecond, 1<<12 + 1<<13 + 1,
			time.Duration(napShare * float64(8192*time.Microsecond))},
		{"nearly there", 1 + 1<<12, 4096 * time.Microsecond, 1<<12 + 10, least},
		{"already there", 1 + 1<<12, 4096 * time.Microsecond, 1 << 12, least},
		{"far away", 1 + 1<<12, 4096 * time.Microsecond, 1 << 20, most},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p pacer
			if d := p.nap(1, tc.need, t0, least, most); d != least {
				t.Fatalf("first nap: %v, want %v", d, least)
			}
			if d := p.nap(tc.labelled, tc.need, t0.Add(tc.at), least, most); d != tc.want {
				t.Fatalf("nap: %v, want %v", d, tc.want)
			}
		})
	}
}
