package commp

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// TestHashPairs checks the node hash kernel (SHA-NI where available) against crypto/sha256, out of place and in
// place.
func TestHashPairs(t *testing.T) {
	t.Logf("SHA-NI kernel in use: %v", useSHANI)
	r := rand.New(rand.NewPCG(21, 22))
	h := newHasher()
	for _, n := range []int{1, 2, 3, 17, 256} {
		src := make([]byte, 64*n)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		want := make([]byte, 32*n)
		for i := 0; i < n; i++ {
			d := sha256.Sum256(src[64*i : 64*i+64])
			d[31] &= 0x3f
			copy(want[32*i:], d[:])
		}
		dst := make([]byte, 32*n)
		hashPairs(h, dst, src, n)
		if !bytes.Equal(dst, want) {
			t.Fatalf("n=%d: out of place differs", n)
		}
		hashPairs(h, src, src, n)
		if !bytes.Equal(src[:32*n], want) {
			t.Fatalf("n=%d: in place differs", n)
		}
	}
}

func BenchmarkHashPairs(b *testing.B) {
	src := make([]byte, 64*1024)
	dst := make([]byte, 32*1024)
	h := newHasher()
	b.SetBytes(int64(len(src)))
	b.Run("kernel", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			hashPairs(h, dst, src, 1024)
		}
	})
	b.Run("crypto-sha256", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			for i := 0; i < 1024; i++ {
				h.pair(dst[32*i:], src[64*i:])
			}
		}
	})
}

func TestHashLayer(t *testing.T) {
	src := make([]byte, 128)
	for i := range src {
		src[i] = byte(i)
	}
	dst := make([]byte, 64)
	if err := HashLayer(dst, src); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		d := sha256.Sum256(src[64*i : 64*i+64])
		d[31] &= 0x3f
		if !bytes.Equal(dst[32*i:32*i+32], d[:]) {
			t.Fatalf("node %d differs", i)
		}
	}
	if err := HashLayer(dst, src[:100]); err == nil {
		t.Fatal("odd source: want error")
	}
	if err := HashLayer(dst[:10], src); err == nil {
		t.Fatal("short destination: want error")
	}
}
