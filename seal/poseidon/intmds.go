package poseidon

import (
	"math/big"
	"math/bits"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// The integer-MDS form. The Cauchy matrix M[i][j] = 1/(i+j+t) equals M'/L
// where L = lcm(t .. 3t−2) and M' = L·M has small integer entries. A row of
// M'·s is then t word-by-element products summed in five limbs and reduced
// once, much cheaper than t Montgomery multiplications. The 1/L factors
// are not applied: the hash tracks the real state as k·u for a scalar k
// known in advance, so only constants change:
//
//	full round:    u ← M'·(u + c/k)^5,               k ← k^5/L
//	partial round: u0 ← (u0 + c0/k)^5·k^4, uj += cj/k; u ← M'·u,  k ← k/L
//	digest:        k·u1
//
// Montgomery form is linear, so integer products and reduction mod r apply
// directly to the Montgomery representation.

// intMDS holds the integer-MDS form of one width, or is nil when L does
// not fit the reduction's bounds (L < 2^61).
type intMDS struct {
	m      [][]uint64     // M' = L·M
	rc     [][]fr.Element // per round: c_r / k_r
	k4     []fr.Element   // per partial round: k_r^4
	kFinal fr.Element
}

// rLimbs is the modulus r as little-endian limbs; quotMul = floor(2^317 / r)
// (about 2^62.1) turns the top bits of a sum into a quotient estimate.
var rLimbs, quotMul = func() ([4]uint64, uint64) {
	var l [4]uint64
	w := fr.Modulus().Bits()
	for i := range l {
		l[i] = uint64(w[i])
	}
	m := new(big.Int).Lsh(big.NewInt(1), 317)
	m.Div(m, fr.Modulus())
	return l, m.Uint64()
}()

func newIntMDS(c *Constants) *intMDS {
	t := c.width
	lcm := big.NewInt(1)
	for d := int64(t); d <= int64(3*t-2); d++ {
		g := new(big.Int).GCD(nil, nil, lcm, big.NewInt(d))
		lcm.Mul(lcm, big.NewInt(d))
		lcm.Div(lcm, g)
	}
	if lcm.BitLen() > 61 {
		return nil
	}
	L := lcm.Uint64()
	im := &intMDS{m: make([][]uint64, t)}
	for i := 0; i < t; i++ {
		im.m[i] = make([]uint64, t)
		for j := 0; j < t; j++ {
			im.m[i][j] = L / uint64(i+j+t)
		}
	}
	var lInv, k fr.Element
	lInv.SetUint64(L)
	lInv.Inverse(&lInv)
	k.SetOne()
	half := FullRounds / 2
	for r := 0; r < FullRounds+c.rp; r++ {
		var kInv fr.Element
		kInv.Inverse(&k)
		rc := make([]fr.Element, t)
		for j := 0; j < t; j++ {
			rc[j].Mul(&c.rc[r*t+j], &kInv)
		}
		im.rc = append(im.rc, rc)
		if r < half || r >= half+c.rp {
			var k5 fr.Element
			k5.Square(&k)
			k5.Square(&k5)
			k5.Mul(&k5, &k)
			k.Mul(&k5, &lInv)
		} else {
			var k4 fr.Element
			k4.Square(&k)
			k4.Square(&k4)
			im.k4 = append(im.k4, k4)
			k.Mul(&k, &lInv)
		}
	}
	im.kFinal = k
	return im
}

// mulInt sets dst ← M'·src over the first t elements (dst ≠ src).
func (im *intMDS) mulInt(dst, s *state, t int) {
	for i := 0; i < t; i++ {
		row := im.m[i]
		var a0, a1, a2, a3, a4 uint64
		for k := 0; k < t; k++ {
			m, x := row[k], &s[k]
			h0, l0 := bits.Mul64(m, x[0])
			h1, l1 := bits.Mul64(m, x[1])
			h2, l2 := bits.Mul64(m, x[2])
			h3, l3 := bits.Mul64(m, x[3])
			var c uint64
			a0, c = bits.Add64(a0, l0, 0)
			a1, c = bits.Add64(a1, h0, c)
			a2, c = bits.Add64(a2, h1, c)
			a3, c = bits.Add64(a3, h2, c)
			a4 += h3 + c
			a1, c = bits.Add64(a1, l1, 0)
			a2, c = bits.Add64(a2, l2, c)
			a3, c = bits.Add64(a3, l3, c)
			a4 += c
		}
		reduce5(&dst[i], a0, a1, a2, a3, a4)
	}
}

// reduce5 sets z = (a4·2^256 + a3·2^192 + … + a0) mod r for a sum below
// 2^316 (a4 < 2^60; guaranteed by L < 2^61 since every row sum is below
// L·r). The quotient estimate ((X >> 253)·quotMul) >> 64 is at most the
// true quotient and at most 3 below it, so at most three conditional
// subtractions finish the reduction.
func reduce5(z *fr.Element, a0, a1, a2, a3, a4 uint64) {
	q, _ := bits.Mul64(a4<<3|a3>>61, quotMul)
	h0, l0 := bits.Mul64(q, rLimbs[0])
	h1, l1 := bits.Mul64(q, rLimbs[1])
	h2, l2 := bits.Mul64(q, rLimbs[2])
	h3, l3 := bits.Mul64(q, rLimbs[3])
	// p = q·r in five limbs.
	var c uint64
	p1, c := bits.Add64(h0, l1, 0)
	p2, c := bits.Add64(h1, l2, c)
	p3, c := bits.Add64(h2, l3, c)
	p4 := h3 + c
	var b uint64
	a0, b = bits.Sub64(a0, l0, 0)
	a1, b = bits.Sub64(a1, p1, b)
	a2, b = bits.Sub64(a2, p2, b)
	a3, b = bits.Sub64(a3, p3, b)
	a4 -= p4 + b
	for a4 != 0 || !lessThanR(a0, a1, a2, a3) {
		a0, b = bits.Sub64(a0, rLimbs[0], 0)
		a1, b = bits.Sub64(a1, rLimbs[1], b)
		a2, b = bits.Sub64(a2, rLimbs[2], b)
		a3, b = bits.Sub64(a3, rLimbs[3], b)
		a4 -= b
	}
	z[0], z[1], z[2], z[3] = a0, a1, a2, a3
}

func lessThanR(a0, a1, a2, a3 uint64) bool {
	if a3 != rLimbs[3] {
		return a3 < rLimbs[3]
	}
	if a2 != rLimbs[2] {
		return a2 < rLimbs[2]
	}
	if a1 != rLimbs[1] {
		return a1 < rLimbs[1]
	}
	return a0 < rLimbs[0]
}

// hashInt is Hash in the integer-MDS form.
func (c *Constants) hashInt(in []fr.Element) fr.Element {
	im := c.intForm
	t, half := c.width, FullRounds/2
	var bufs [2]state
	s, next := &bufs[0], &bufs[1]
	s[0] = c.domainTag
	copy(s[1:t], in)
	p := 0
	for r := 0; r < FullRounds+c.rp; r++ {
		rc := im.rc[r]
		if r < half || r >= half+c.rp {
			for j := 0; j < t; j++ {
				s[j].Add(&s[j], &rc[j])
				sbox(&s[j])
			}
		} else {
			for j := 0; j < t; j++ {
				s[j].Add(&s[j], &rc[j])
			}
			sbox(&s[0])
			s[0].Mul(&s[0], &im.k4[p])
			p++
		}
		im.mulInt(next, s, t)
		s, next = next, s
	}
	var out fr.Element
	out.Mul(&s[1], &im.kFinal)
	return out
}

// intMinWidth is the smallest width for which Hash uses the integer-MDS
// form; below it the sparse form is as fast (see BenchmarkHash).
const intMinWidth = 3
