package sdr

import (
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	// The aggregate line's layout is proc(5): user nice system idle iowait irq softirq steal guest guest_nice.
	for _, tc := range []struct {
		name        string
		data        string
		steal, busy time.Duration
		ok          bool
	}{
		{"typical", "cpu  2091471 74874 441692 1569604 27140 0 12186 94347 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n",
			943470 * time.Millisecond, 26202230 * time.Millisecond, true},
		{"no steal column", "cpu  1 2 3 4 5 6 7\n", 0, 0, false},
		{"per-CPU line first", "cpu0 1 2 3 4 5 6 7 8\n", 0, 0, false},
		{"not a number", "cpu  1 2 3 4 5 6 7 x\n", 0, 0, false},
		{"empty", "", 0, 0, false},
	} {
		steal, busy, ok := parseProcStat([]byte(tc.data))
		if steal != tc.steal || busy != tc.busy || ok != tc.ok {
			t.Errorf("%s: got %v, %v, %v; want %v, %v, %v", tc.name, steal, busy, ok, tc.steal, tc.busy, tc.ok)
		}
	}
}
