package poseidon

import (
	"math/big"
	"math/bits"
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// The integer-MDS form. The Cauchy matrix M[i][j] = 1/(i+j+t) equals M'/L
// where L = lcm(t .. 3t−2) and M' = L·M has small integer entries. A row of
// M'·s is then t word-by-element products summed in five limbs and reduced
// once, much cheaper than t Montgomery multiplications. The reduction is
// one Montgomery step (divide by 2^64 mod r, see montRow), so a row
// computes (M'·s)_i·2^−64. Neither 1/L nor 2^−64 is applied: the hash
// tracks the real state as k·u for a scalar k known in advance, so only
// constants change (D = 2^64/L):
//
//	full round:    u ← M'·(u + c/k)^5·2^−64,                 k ← k^5·D
//	partial round: u0 ← (u0 + c0/k)^5·k^4, uj += cj/k; u ← M'·u·2^−64,  k ← k·D
//	digest:        k·u1
//
// (foldPartialConstants then moves the uj constants of the partial rounds
// into later rounds, so a partial round adds only pc0 to u0.) On amd64 with
// ADX the whole permutation runs in one assembly call (permADX).
//
// Montgomery form is linear, so integer products and reduction mod r apply
// directly to the Montgomery representation.

// intMDS holds the integer-MDS form of one width, or is nil when L does
// not fit the reduction's bounds (L < 2^61).
type intMDS struct {
	m      []uint64       // M' = L·M, row major (t·t words)
	rc     [][]fr.Element // per round: c_r / k_r
	k4     []fr.Element   // per partial round: k_r^4
	pc0    []fr.Element   // per partial round: the folded constant of u0
	fullRC []fr.Element   // the full rounds' rc, R_F·t elements in round order
	kFinal fr.Element
}

// rLimbs is the modulus r as little-endian limbs; qInvNeg = −r⁻¹ mod 2^64.
var rLimbs = func() [4]uint64 {
	var l [4]uint64
	w := fr.Modulus().Bits()
	for i := range l {
		l[i] = uint64(w[i])
	}
	return l
}()

const qInvNeg = 0xfffffffeffffffff

// intMDSLCM returns lcm(t .. 3t−2), the denominator of the t×t Cauchy matrix.
func intMDSLCM(t int) *big.Int {
	lcm := big.NewInt(1)
	for d := int64(t); d <= int64(3*t-2); d++ {
		g := new(big.Int).GCD(nil, nil, lcm, big.NewInt(d))
		lcm.Mul(lcm, big.NewInt(d))
		lcm.Div(lcm, g)
	}
	return lcm
}

func newIntMDS(c *Constants) *intMDS {
	t := c.width
	lcm := intMDSLCM(t)
	if lcm.BitLen() > 61 {
		return nil
	}
	L := lcm.Uint64()
	im := &intMDS{m: make([]uint64, t*t)}
	for i := 0; i < t; i++ {
		for j := 0; j < t; j++ {
			im.m[i*t+j] = L / uint64(i+j+t)
		}
	}
	// step = 2^64 / L: the factor each integer-MDS layer leaves on k.
	var step, lInv fr.Element
	step.SetUint64(1 << 63)
	step.Double(&step)
	lInv.SetUint64(L)
	lInv.Inverse(&lInv)
	step.Mul(&step, &lInv)
	var k fr.Element
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
			k.Mul(&k5, &step)
		} else {
			var k4 fr.Element
			k4.Square(&k)
			k4.Square(&k4)
			im.k4 = append(im.k4, k4)
			k.Mul(&k, &step)
		}
	}
	im.kFinal = k
	im.foldPartialConstants(c.rp)
	for r := range im.rc {
		if r < half || r >= half+c.rp {
			im.fullRC = append(im.fullRC, im.rc[r]...)
		}
	}
	return im
}

// foldPartialConstants moves the constants a partial round adds to
// u1..u_{t−1} through the round's linear layer into the next round (as
// the sparse form does): a partial round then adds only pc0[i] to u0, and
// the carried vector joins the constants of the first full round after
// the partial rounds. The layer is R = M'·2^−64 over the field, which is
// exactly what mulInt computes, so the fold is exact.
func (im *intMDS) foldPartialConstants(rp int) {
	t, half := len(im.rc[0]), FullRounds/2
	carry := make([]fr.Element, t)
	next := make([]fr.Element, t)
	im.pc0 = make([]fr.Element, rp)
	for i := 0; i < rp; i++ {
		rc := im.rc[half+i]
		var v [MaxArity + 1]fr.Element
		for j := 0; j < t; j++ {
			v[j].Add(&rc[j], &carry[j])
		}
		im.pc0[i] = v[0]
		v[0].SetZero()
		mulIntGo(&next[0], &v[0], im.m, t)
		carry, next = next, carry
	}
	after := im.rc[half+rp]
	for j := 0; j < t; j++ {
		after[j].Add(&after[j], &carry[j])
	}
}

// mulIntGo sets dst[i] ← (M'·s)_i·2^−64 mod r for i < t (dst ≠ s), the
// portable form of mulInt. Every s[k] must be below r.
func mulIntGo(dst, s *fr.Element, m []uint64, t int) {
	src := unsafe.Slice(s, t)
	out := unsafe.Slice(dst, t)
	for i := range out {
		row := m[i*t : i*t+t]
		var a0, a1, a2, a3, a4 uint64
		for k, mk := range row {
			x := &src[k]
			h0, l0 := bits.Mul64(mk, x[0])
			h1, l1 := bits.Mul64(mk, x[1])
			h2, l2 := bits.Mul64(mk, x[2])
			h3, l3 := bits.Mul64(mk, x[3])
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
		montRow(&out[i], a0, a1, a2, a3, a4)
	}
}

// montRow sets z = X·2^−64 mod r for X = a4·2^256 + … + a0 < 2^316 (every
// row sum is below L·r < 2^316 since a row of M' sums to less than L). One
// Montgomery step: m = a0·(−r⁻¹) mod 2^64 makes X + m·r divisible by 2^64,
// and (X + m·r)/2^64 < 2^252 + r < 2r, so one conditional subtraction
// finishes.
func montRow(z *fr.Element, a0, a1, a2, a3, a4 uint64) {
	m := a0 * qInvNeg
	h0, l0 := bits.Mul64(m, rLimbs[0])
	h1, l1 := bits.Mul64(m, rLimbs[1])
	h2, l2 := bits.Mul64(m, rLimbs[2])
	h3, l3 := bits.Mul64(m, rLimbs[3])
	var c uint64
	_, c = bits.Add64(a0, l0, 0)
	a1, c = bits.Add64(a1, l1, c)
	a2, c = bits.Add64(a2, l2, c)
	a3, c = bits.Add64(a3, l3, c)
	a4 += c
	a1, c = bits.Add64(a1, h0, 0)
	a2, c = bits.Add64(a2, h1, c)
	a3, c = bits.Add64(a3, h2, c)
	a4 += h3 + c
	var b uint64
	s0, b := bits.Sub64(a1, rLimbs[0], 0)
	s1, b := bits.Sub64(a2, rLimbs[1], b)
	s2, b := bits.Sub64(a3, rLimbs[2], b)
	s3, b := bits.Sub64(a4, rLimbs[3], b)
	if b == 0 {
		a1, a2, a3, a4 = s0, s1, s2, s3
	}
	z[0], z[1], z[2], z[3] = a1, a2, a3, a4
}

// hashInt is Hash in the integer-MDS form.
func (c *Constants) hashInt(in []fr.Element) fr.Element {
	im := c.intForm
	t, half := c.width, FullRounds/2
	var bufs [2]state
	s, next := &bufs[0], &bufs[1]
	s[0] = c.domainTag
	copy(s[1:t], in)
	if permFused(s, next, im, t, c.rp) {
		if (FullRounds+c.rp)%2 == 1 {
			s = next
		}
		var out fr.Element
		out.Mul(&s[1], &im.kFinal)
		return out
	}
	for r := 0; r < half; r++ {
		fullSbox(s, im.rc[r], t)
		mulInt(&next[0], &s[0], im.m, t)
		s, next = next, s
	}
	for p := 0; p < c.rp; p++ {
		partialSbox(&s[0], &im.pc0[p], &im.k4[p])
		mulInt(&next[0], &s[0], im.m, t)
		s, next = next, s
	}
	for r := half + c.rp; r < FullRounds+c.rp; r++ {
		fullSbox(s, im.rc[r], t)
		mulInt(&next[0], &s[0], im.m, t)
		s, next = next, s
	}
	var out fr.Element
	out.Mul(&s[1], &im.kFinal)
	return out
}

// fullSboxGo sets s[j] ← (s[j] + rc[j])^5 for j < t.
func fullSboxGo(s *state, rc []fr.Element, t int) {
	for j := 0; j < t; j++ {
		s[j].Add(&s[j], &rc[j])
		sbox(&s[j])
	}
}

// partialSboxGo sets z ← (z + c)^5·k.
func partialSboxGo(z, c, k *fr.Element) {
	z.Add(z, c)
	sbox(z)
	z.Mul(z, k)
}

// intMinWidth is the smallest width for which Hash uses the integer-MDS
// form; below it the sparse form is as fast (see BenchmarkHash).
const intMinWidth = 3
