package sdr

import (
	"encoding/binary"
	"math/bits"
)

// The DRG draws from rand_chacha 0.3's ChaCha8Rng::from_seed as rand 0.8 uses it (the versions rust-fil-proofs'
// Cargo.lock pins): the keystream of ChaCha with 8 rounds, the 32-byte seed as key, a 64-bit block counter
// starting at 0 in words 12–13 and a zero 64-bit stream id in words 14–15, consumed as a stream of little-endian
// u32 words. rand_core's BlockRng::next_u64 takes two consecutive words of that stream, low word first (also
// across a buffer refill), and rand's `gen::<u64>()` is next_u64. The DRG uses `gen::<u64>() % n` (no
// rejection sampling), so ten draws need exactly the first 20 words. chacha_test.go keeps a word-at-a-time
// model of the generator that checks drgDraws.

// chachaConst is "expand 32-byte k" as four little-endian words.
var chachaConst = [4]uint32{0x61707865, 0x3320646e, 0x79622d32, 0x6b206574}

// drgDraws returns the first ten u64 draws of ChaCha8Rng::from_seed(seed) — all the DRG needs per node — from
// the first 20 words of the keystream (two blocks), without the word-at-a-time generator.
func drgDraws(seed *[32]byte) [2 * (BaseDegree - 1)]uint64 {
	var key [8]uint32
	for i := range key {
		key[i] = binary.LittleEndian.Uint32(seed[4*i:])
	}
	var b0, b1 [16]uint32
	chachaBlock(&key, 0, 0, 4, &b0)
	chachaBlock(&key, 1, 0, 4, &b1)
	var d [2 * (BaseDegree - 1)]uint64
	for i := 0; i < 8; i++ {
		d[i] = uint64(b0[2*i+1])<<32 | uint64(b0[2*i])
	}
	d[8] = uint64(b1[1])<<32 | uint64(b1[0])
	d[9] = uint64(b1[3])<<32 | uint64(b1[2])
	return d
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
