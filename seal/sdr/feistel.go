package sdr

import (
	"encoding/binary"

	"golang.org/x/crypto/blake2b"
)

// feistelRounds is the number of Feistel rounds (storage-proofs-core crypto/feistel.rs FEISTEL_ROUNDS); only the
// first three of the four derived keys are used.
const feistelRounds = 3

// feistelDST is the domain separation tag of the Feistel keys (storage-proofs-core crypto/mod.rs FEISTEL_DST).
const feistelDST = "Filecoin_Feistel"

// feistel is the keyed permutation of [0, numElements) that places expander parents, as
// storage-proofs-core crypto/feistel.rs: indices are split into two halves of halfBits bits (the smallest even
// bit count covering numElements, at least 4 bits in total), three rounds of L, R = R, L ^ F(R, key) run, and
// values that land outside the domain are encrypted again (cycle walking).
//
// The round function F(R, key) = first 8 bytes (big-endian) of BLAKE2b-512(BE64(R) ‖ BE64(key)), masked to
// halfBits. Because R < 2^halfBits, F is tabulated once per round: 3 · 2^halfBits BLAKE2b calls when the graph
// is built (2^14 per round for 512MiB, 2^17 for 32GiB) instead of about six per expander parent.
type feistel struct {
	numElements uint64
	keys        [4]uint64
	halfBits    uint
	leftMask    uint64
	rightMask   uint64
	table       [feistelRounds][]uint32
}

// newFeistel precomputes the masks and round tables for a domain of numElements values.
func newFeistel(numElements uint64, keys [4]uint64) *feistel {
	nextPow4, log4 := uint64(4), uint(1)
	for nextPow4 < numElements {
		nextPow4 *= 4
		log4++
	}
	f := &feistel{
		numElements: numElements,
		keys:        keys,
		halfBits:    log4,
		rightMask:   1<<log4 - 1,
		leftMask:    (1<<log4 - 1) << log4,
	}
	for r := 0; r < feistelRounds; r++ {
		t := make([]uint32, 1<<log4)
		for right := range t {
			t[right] = uint32(feistelRound(uint64(right), keys[r], f.rightMask))
		}
		f.table[r] = t
	}
	return f
}

// feistelKeys derives the four keys from SHA256("Filecoin_Feistel" ‖ porepID) read as little-endian u64 words
// (storage-proofs-porep stacked/vanilla/graph.rs derive_feistel_keys).
func feistelKeys(porepID [32]byte) [4]uint64 {
	seed := domainSeed(feistelDST, porepID)
	var k [4]uint64
	for i := range k {
		k[i] = binary.LittleEndian.Uint64(seed[8*i:])
	}
	return k
}

// feistelRound is F(right, key) computed with BLAKE2b (the reference's `feistel` function, 16-byte branch).
func feistelRound(right, key, rightMask uint64) uint64 {
	var data [16]byte
	binary.BigEndian.PutUint64(data[0:8], right)
	binary.BigEndian.PutUint64(data[8:16], key)
	h := blake2b.Sum512(data[:])
	return binary.BigEndian.Uint64(h[0:8]) & rightMask
}

// encode runs the three rounds on index using the tabulated round function.
func (f *feistel) encode(index uint64) uint64 {
	left := (index & f.leftMask) >> f.halfBits
	right := index & f.rightMask
	for r := 0; r < feistelRounds; r++ {
		left, right = right, left^uint64(f.table[r][right])
	}
	return left<<f.halfBits | right
}

// decode inverts encode.
func (f *feistel) decode(index uint64) uint64 {
	left := (index & f.leftMask) >> f.halfBits
	right := index & f.rightMask
	for r := feistelRounds - 1; r >= 0; r-- {
		left, right = right^uint64(f.table[r][left]), left
	}
	return left<<f.halfBits | right
}

// permute maps index in [0, numElements) to its image in the same range.
func (f *feistel) permute(index uint64) uint64 {
	u := f.encode(index)
	for u >= f.numElements {
		u = f.encode(u)
	}
	return u
}

// permute8 permutes eight indices in place, with the result of permute on each. The first encryption runs in
// lockstep over all eight, whose table lookups are independent and overlap; the ones that land outside the
// domain then walk on one by one.
func (f *feistel) permute8(idx *[ExpDegree]uint64) {
	var left, right [ExpDegree]uint64
	for k, x := range idx {
		left[k], right[k] = (x&f.leftMask)>>f.halfBits, x&f.rightMask
	}
	for r := 0; r < feistelRounds; r++ {
		t := f.table[r]
		for k := range left {
			left[k], right[k] = right[k], left[k]^uint64(t[right[k]&f.rightMask])
		}
	}
	for k := range idx {
		u := left[k]<<f.halfBits | right[k]
		for u >= f.numElements {
			u = f.encode(u)
		}
		idx[k] = u
	}
}

// invertPermute is the inverse of permute.
func (f *feistel) invertPermute(index uint64) uint64 {
	u := f.decode(index)
	for u >= f.numElements {
		u = f.decode(u)
	}
	return u
}
