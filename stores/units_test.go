package stores

import "testing"

func TestParseFormatBytes(t *testing.T) {
	parse := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"4096", 4096, true}, {"512MiB", 512 << 20, true}, {"2TiB", 2 << 40, true}, {"1.5TB", 1_500_000_000_000, true},
		{"10 GiB", 10 << 30, true}, {"7B", 7, true}, {"", 0, false}, {"-1GiB", 0, false}, {"2XB", 0, false}, {"GiB", 0, false},
	}
	for _, tc := range parse {
		t.Run("parse "+tc.in, func(t *testing.T) {
			got, err := ParseBytes(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseBytes(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
	format := []struct {
		in   int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KiB"}, {3 << 30, "3.0 GiB"}, {-2048, "-2.0 KiB"}}
	for _, tc := range format {
		if got := FormatBytes(tc.in); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
