package sdr

import (
	"encoding/binary"
	"math/bits"
)

// chacha8Rng reproduces rand_chacha 0.3's ChaCha8Rng::from_seed as rand 0.8 draws from it (the versions
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

// chachaConst is "expand 32-byte k" as four little-endian words.
var chachaConst = [4]uint32{0x61707865, 0x3320646e, 0x79622d32, 0x6b206574}

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

// chachaBlock computes one ChaCha block (djb layout: 64-bit counter, 64-bit nonce) with 2·doubleRounds rounds.
func chachaBlock(key *[8]uint32, counter, nonce uint64, doubleRounds int, out *[16]uint32) {
	x0, x1, x2, x3 := chachaConst[0], chachaConst[1], chachaConst[2], chachaConst[3]
	x4, x5, x6, x7 := key[0], key[1], key[2], key[3]
	x8, x9, x10, x11 := key[4], key[5], key[6], key[7]
	x12, x13 := uint32(counter), uint32(counter>>32)
	x14, x15 := uint32(nonce), uint32(nonce>>32)
	for i := 0; i < doubleRounds; i++ {
		// Column round.
		x0, x4, x8, x12 = quarterRound(x0, x4, x8, x12)
		x1, x5, x9, x13 = quarterRound(x1, x5, x9, x13)
		x2, x6, x10, x14 = quarterRound(x2, x6, x10, x14)
		x3, x7, x11, x15 = quarterRound(x3, x7, x11, x15)
		// Diagonal round.
		x0, x5, x10, x15 = quarterRound(x0, x5, x10, x15)
		x1, x6, x11, x12 = quarterRound(x1, x6, x11, x12)
		x2, x7, x8, x13 = quarterRound(x2, x7, x8, x13)
		x3, x4, x9, x14 = quarterRound(x3, x4, x9, x14)
	}
	out[0], out[1], out[2], out[3] = x0+chachaConst[0], x1+chachaConst[1], x2+chachaConst[2], x3+chachaConst[3]
	out[4], out[5], out[6], out[7] = x4+key[0], x5+key[1], x6+key[2], x7+key[3]
	out[8], out[9], out[10], out[11] = x8+key[4], x9+key[5], x10+key[6], x11+key[7]
	out[12], out[13] = x12+uint32(counter), x13+uint32(counter>>32)
	out[14], out[15] = x14+uint32(nonce), x15+uint32(nonce>>32)
}

// quarterRound is ChaCha's quarter round.
func quarterRound(a, b, c, d uint32) (uint32, uint32, uint32, uint32) {
	a += b
	d = bits.RotateLeft32(d^a, 16)
	c += d
	b = bits.RotateLeft32(b^c, 12)
	a += b
	d = bits.RotateLeft32(d^a, 8)
	c += d
	b = bits.RotateLeft32(b^c, 7)
	return a, b, c, d
}
