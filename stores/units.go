package stores

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

var byteUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"PiB", 1 << 50},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15},
	{"B", 1}, {"", 1},
}

// ParseBytes parses a byte count such as "4096", "512MiB", "2TiB", "1.5TB" (binary and decimal units, case of
// the unit as written here). The error names what is accepted.
func ParseBytes(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	for _, u := range byteUnits {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || v*u.mult >= math.MaxUint64 {
			break
		}
		return uint64(v * u.mult), nil
	}
	return 0, fmt.Errorf("byte size %q: accepted is a number with an optional unit B, KiB, MiB, GiB, TiB, PiB, KB, MB, GB, TB, PB (e.g. 2TiB)", s)
}

// FormatBytes renders a byte count with a binary unit, e.g. "1.5 GiB"; counts under 1 KiB as "512 B".
func FormatBytes(n int64) string {
	if n < 0 {
		return "-" + FormatBytes(-n)
	}
	if n < 1<<10 {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		f /= 1024
		if f < 1024 || u == "PiB" {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return fmt.Sprintf("%d B", n)
}
