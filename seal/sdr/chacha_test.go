package sdr

import (
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// chacha8Rng is a word-at-a-time model of rand_chacha 0.3's ChaCha8Rng::from_seed as rand 0.8 draws from it (the versions
// rust-fil-proofs' Cargo.lock pins): the keystream of ChaCha with 8 rounds, the 32-byte seed as key, a 64-bit
// block counter starting at 0 in words 12–13 and a zero 64-bit stream id in words 14–15, consumed as a stream of
// little-endian u32 words. rand_core's BlockRng::next_u64 takes two consecutive words of that stream, low word
// first (also across a buffer refill), so a u64 draw is w[i] | w[i+1]<<32. rand's `gen::<u64>()` is next_u64.
//
// Blocks are computed one at a time on demand; rand_chacha computes four at once, which yields the same stream.
type chacha8Rng struct {
	key     [8]uint32
	counter uint64
	block   [16]uint32
	idx     int // next unread word of block; 16 = exhausted
}

// newChaCha8Rng seeds the generator like ChaCha8Rng::from_seed.
func newChaCha8Rng(seed *[32]byte) chacha8Rng {
	var r chacha8Rng
	r.reset(seed)
	return r
}

// reset reseeds r in place (no allocation).
func (r *chacha8Rng) reset(seed *[32]byte) {
	for i := range r.key {
		r.key[i] = binary.LittleEndian.Uint32(seed[4*i:])
	}
	r.counter = 0
	r.idx = 16
}

// nextU32 returns the next word of the keystream.
func (r *chacha8Rng) nextU32() uint32 {
	if r.idx == 16 {
		chachaBlock(&r.key, r.counter, 0, 4, &r.block)
		r.counter++
		r.idx = 0
	}
	w := r.block[r.idx]
	r.idx++
	return w
}

// nextU64 returns two consecutive words, the first as the low half (rand_core BlockRng::next_u64).
func (r *chacha8Rng) nextU64() uint64 {
	lo := r.nextU32()
	hi := r.nextU32()
	return uint64(hi)<<32 | uint64(lo)
}

func TestChaChaKeystream(t *testing.T) {
	tests := []struct {
		name         string
		doubleRounds int
		// first two blocks of keystream for an all-zero key and nonce
		want string
	}{
		{
			// draft-strombergson-chacha-test-vectors-01, TC1: all zero key and IV, 256-bit key, 8 rounds.
			name:         "chacha8 TC1",
			doubleRounds: 4,
			want: "3e00ef2f895f40d67f5bb8e81f09a5a12c840ec3ce9a7f3b181be188ef711a1e" +
				"984ce172b9216f419f445367456d5619314a42a3da86b001387bfdb80e0cfe42" +
				"d2aefa0deaa5c151bf0adb6c01f2a5adc0fd581259f9a2aadcf20f8fd566a26b" +
				"5032ec38bbc5da98ee0c6f568b872a65a08abf251deb21bb4b56e5d8821e68aa",
		},
		{
			// rust-random/rand rand_chacha/src/chacha.rs test_chacha_true_values_a (ChaCha20Rng, zero seed),
			// words 0..31 written little-endian.
			name:         "chacha20 rand_chacha true values a",
			doubleRounds: 10,
			want: words("ade0b876 903df1a0 e56a5d40 28bd8653 b819d2bd 1aed8da0 ccef36a8 c70d778b " +
				"7c5941da 8d485751 3fe02477 374ad8b8 f4b8436a 1ca11815 69b687c3 8665eeb2 " +
				"bee7079f 7a385155 7c97ba98 0d082d73 a0290fcb 6965e348 3e53c612 ed7aee32 " +
				"7621b729 434ee69c b03371d5 d539d874 281fed31 45fb0a51 1f0ae1ac 6f4d794b"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var key [8]uint32
			var got []byte
			for ctr := uint64(0); ctr < 2; ctr++ {
				var blk [16]uint32
				chachaBlock(&key, ctr, 0, tc.doubleRounds, &blk)
				for _, w := range blk {
					got = binary.LittleEndian.AppendUint32(got, w)
				}
			}
			if hex.EncodeToString(got) != tc.want {
				t.Fatalf("keystream\n got %x\nwant %s", got, tc.want)
			}
		})
	}
}

// words converts space-separated big-endian hex u32 words to their little-endian byte stream in hex.
func words(s string) string {
	var out []byte
	var w uint32
	n := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if n > 0 {
				out = binary.LittleEndian.AppendUint32(out, w)
			}
			w, n = 0, 0
			continue
		}
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			w = w<<4 | uint32(c-'0')
		default:
			w = w<<4 | uint32(c-'a'+10)
		}
		n++
	}
	return hex.EncodeToString(out)
}

func TestChaCha8RngWordOrder(t *testing.T) {
	// The rng is the keystream consumed as u32 words; next_u64 = w[i] | w[i+1]<<32 also across blocks.
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(i * 7)
	}
	var key [8]uint32
	for i := range key {
		key[i] = binary.LittleEndian.Uint32(seed[4*i:])
	}
	var stream []uint32
	for ctr := uint64(0); ctr < 3; ctr++ {
		var blk [16]uint32
		chachaBlock(&key, ctr, 0, 4, &blk)
		stream = append(stream, blk[:]...)
	}
	tests := []struct {
		name  string
		first int // u32 draws before the u64 draws
	}{
		{"aligned", 0},
		{"odd offset straddles block", 15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newChaCha8Rng(&seed)
			i := 0
			for ; i < tc.first; i++ {
				if got := r.nextU32(); got != stream[i] {
					t.Fatalf("word %d: got %08x want %08x", i, got, stream[i])
				}
			}
			for ; i+1 < len(stream); i += 2 {
				want := uint64(stream[i+1])<<32 | uint64(stream[i])
				if got := r.nextU64(); got != want {
					t.Fatalf("u64 at word %d: got %016x want %016x", i, got, want)
				}
			}
		})
	}
}

func TestDRGDrawsMatchRng(t *testing.T) {
	for s := 0; s < 50; s++ {
		var seed [32]byte
		for i := range seed {
			seed[i] = byte(s*31 + i*i)
		}
		r := newChaCha8Rng(&seed)
		got := drgDraws(&seed)
		for i, d := range got {
			if want := r.nextU64(); d != want {
				t.Fatalf("seed %d draw %d: %016x, rng %016x", s, i, d, want)
			}
		}
	}
}
