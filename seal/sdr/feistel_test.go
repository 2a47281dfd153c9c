package sdr

import "testing"

func TestFeistelPermutation(t *testing.T) {
	// storage-proofs-core crypto/feistel.rs tests: keys [1,2,3,4]; powers of four are bijections of the encode
	// step itself, and permute (with cycle walking) is a bijection on any domain, e.g. BAD_NS = 5, 6, 8, 12, 17.
	keys := [4]uint64{1, 2, 3, 4}
	for _, n := range []uint64{4, 16, 64, 256, 5, 6, 8, 12, 17, 1000, 8 * 64} {
		t.Run("", func(t *testing.T) {
			f := newFeistel(n, keys)
			seen := make([]bool, n)
			for i := uint64(0); i < n; i++ {
				p := f.permute(i)
				if p >= n {
					t.Fatalf("n=%d: permute(%d) = %d out of range", n, i, p)
				}
				if seen[p] {
					t.Fatalf("n=%d: permute(%d) = %d repeats", n, i, p)
				}
				seen[p] = true
				if back := f.invertPermute(p); back != i {
					t.Fatalf("n=%d: invert(permute(%d)) = %d", n, i, back)
				}
			}
		})
	}
}

func TestFeistelTableMatchesRoundFunction(t *testing.T) {
	keys := feistelKeys([32]byte{5})
	f := newFeistel(8*2048, keys)
	for r := 0; r < feistelRounds; r++ {
		for right := uint64(0); right <= f.rightMask; right += 37 {
			if got, want := uint64(f.table[r][right]), feistelRound(right, keys[r], f.rightMask); got != want {
				t.Fatalf("round %d right %d: table %x, direct %x", r, right, got, want)
			}
		}
	}
	if f.halfBits != 7 { // 8·2048 = 2^14 = 4^7
		t.Fatalf("halfBits = %d, want 7", f.halfBits)
	}
}

func TestPermute8MatchesPermute(t *testing.T) {
	for _, n := range []uint64{64 * 8, 1000 * 8, 1 << 27} {
		f := newFeistel(n, feistelKeys([32]byte{3}))
		for base := uint64(0); base+8 <= min(n, 1<<16); base += 8 {
			var idx [ExpDegree]uint64
			for k := range idx {
				idx[k] = base + uint64(k)
			}
			f.permute8(&idx)
			for k, got := range idx {
				if want := f.permute(base + uint64(k)); got != want {
					t.Fatalf("n=%d index %d: permute8 %d, permute %d", n, base+uint64(k), got, want)
				}
			}
		}
	}
}
