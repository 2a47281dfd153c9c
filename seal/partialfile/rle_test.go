package partialfile

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRLEKnownAnswer: go-bitfield rle/rleplus_test.go TestDecode — the set {0, 2, 4, 5, 6, 11..27} encodes to
// [124, 71, 34, 2] (the Rust reference output with the version header added).
func TestRLEKnownAnswer(t *testing.T) {
	s := spans{{0, 1}, {2, 1}, {4, 3}, {11, 17}}
	got := encodeRLE(s)
	if want := []byte{124, 71, 34, 2}; !bytes.Equal(got, want) {
		t.Fatalf("encode: got %v want %v", got, want)
	}
	back, err := decodeRLE(got, 1<<20)
	if err != nil || !slices.Equal(back, s) {
		t.Fatalf("decode: got %v, %v", back, err)
	}
}

func TestRLEEdgeCases(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		want  spans
		isErr bool
	}{
		{"empty", nil, nil, false},
		{"go-bitfield empty form", []byte{0}, nil, false},
		{"bad version", []byte{0x01}, nil, true},
		{"run past limit", encodeRLE(spans{{0, 4096}}), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeRLE(tc.in, 2048)
			if (err != nil) != tc.isErr || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func TestRLERoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 500 {
		var s spans
		var pos uint64
		for range r.IntN(8) {
			pos += uint64(r.IntN(3)) * uint64(1+r.IntN(300))
			if len(s) > 0 && pos == s[len(s)-1].End() {
				pos++
			}
			size := uint64(1 + r.IntN(1<<uint(r.IntN(20))))
			s = append(s, Span{pos, size})
			pos += size
		}
		got, err := decodeRLE(encodeRLE(s), 1<<40)
		if err != nil || !slices.Equal(got, s) {
			t.Fatalf("%v: got %v, %v", s, got, err)
		}
	}
}

func TestSpans(t *testing.T) {
	var s spans
	s = s.add(Span{100, 50}).add(Span{300, 10}).add(Span{150, 10}) // adjacent merges
	if want := (spans{{100, 60}, {300, 10}}); !slices.Equal(s, want) {
		t.Fatalf("add: %v", s)
	}
	s = s.add(Span{50, 300})
	if want := (spans{{50, 300}}); !slices.Equal(s, want) {
		t.Fatalf("add covering: %v", s)
	}
	s = s.subtract(Span{100, 10})
	if want := (spans{{50, 50}, {110, 240}}); !slices.Equal(s, want) {
		t.Fatalf("subtract: %v", s)
	}
	if got := s.covered(Span{90, 30}); got != 20 {
		t.Fatalf("covered: %d", got)
	}
}
