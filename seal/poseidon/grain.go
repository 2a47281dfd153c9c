package poseidon

import (
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Parameters of the Grain LFSR initialisation, as in the Poseidon paper
// (eprint 2019/458, appendix F) and neptune `src/lib.rs` (FIELD = 1: GF(p);
// SBOX = 1: x^5). The field size is the bit length of the BLS12-381 scalar
// field modulus.
const (
	grainField     = 1
	grainSbox      = 1
	grainFieldBits = 255
)

// grain is the Grain LFSR in self-shrinking mode used to derive Poseidon
// round constants. The 80-bit state is a ring buffer of bits.
type grain struct {
	state [80]bool
	head  int // index of b_i (the oldest bit)
}

// newGrain initialises the LFSR with the instance description
// (field, sbox, n, t, R_F, R_P, thirty 1 bits), each field written most
// significant bit first, then discards 160 output bits.
func newGrain(t, rf, rp int) *grain {
	g := &grain{}
	pos := 0
	put := func(bits int, v uint64) {
		for i := bits - 1; i >= 0; i-- {
			g.state[pos] = (v>>uint(i))&1 == 1
			pos++
		}
	}
	put(2, grainField)
	put(4, grainSbox)
	put(12, grainFieldBits)
	put(12, uint64(t))
	put(10, uint64(rf))
	put(10, uint64(rp))
	put(30, 1<<30-1)
	for i := 0; i < 160; i++ {
		g.step()
	}
	return g
}

// bit returns b_{i+k} for the current window.
func (g *grain) bit(k int) bool { return g.state[(g.head+k)%80] }

// step computes b_{i+80} = b_{i+62} ⊕ b_{i+51} ⊕ b_{i+38} ⊕ b_{i+23} ⊕ b_{i+13} ⊕ b_i,
// shifts it in and returns it.
func (g *grain) step() bool {
	nb := g.bit(62) != g.bit(51)
	nb = nb != g.bit(38)
	nb = nb != g.bit(23)
	nb = nb != g.bit(13)
	nb = nb != g.bit(0)
	g.state[g.head] = nb
	g.head = (g.head + 1) % 80
	return nb
}

// next returns the next self-shrunk bit: bits are taken in pairs; a pair
// starting with 1 yields its second bit, a pair starting with 0 is dropped.
func (g *grain) next() bool {
	for !g.step() {
		g.step()
	}
	return g.step()
}

// nextBytes fills a 32-byte big-endian integer: the first byte takes
// grainFieldBits%8 bits, every other byte 8 bits, most significant first.
func (g *grain) nextBytes() [32]byte {
	var out [32]byte
	for i := range out {
		n := 8
		if i == 0 && grainFieldBits%8 != 0 {
			n = grainFieldBits % 8
		}
		var b byte
		for j := 0; j < n; j++ {
			b <<= 1
			if g.next() {
				b |= 1
			}
		}
		out[i] = b
	}
	return out
}

// roundConstants derives the t·(R_F+R_P) round constants of one Poseidon
// instance, rejecting candidates that are not below the field modulus.
func roundConstants(t, rf, rp int) []fr.Element {
	g := newGrain(t, rf, rp)
	out := make([]fr.Element, 0, t*(rf+rp))
	for len(out) < cap(out) {
		b := g.nextBytes()
		e, err := fr.BigEndian.Element(&b)
		if err != nil {
			continue // not canonical: draw again
		}
		out = append(out, e)
	}
	return out
}
