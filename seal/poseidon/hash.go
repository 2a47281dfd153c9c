// Package poseidon implements the Poseidon hash over the BLS12-381 scalar
// field exactly as neptune computes it for Filecoin: width t = arity+1,
// state [2^arity − 1, x1..x_arity], R_F = 8 full rounds, R_P partial rounds
// per width, S-box x^5, Cauchy MDS matrix, Grain-LFSR round constants; the
// digest is state[1]. Field elements travel as 32-byte little-endian words.
package poseidon

import (
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

type state [MaxArity + 1]fr.Element

func sbox(x *fr.Element) {
	var t fr.Element
	t.Square(x)
	t.Square(&t)
	x.Mul(x, &t)
}

// mulDense sets s ← m·s over the first t elements.
func mulDense(s *state, m matrix, t int) {
	var out state
	var tmp fr.Element
	for i := 0; i < t; i++ {
		row := m[i]
		var acc fr.Element
		for k := 0; k < t; k++ {
			tmp.Mul(&row[k], &s[k])
			acc.Add(&acc, &tmp)
		}
		out[i] = acc
	}
	copy(s[:t], out[:t])
}

// mulSparse sets s ← B·s for B = [[b00, b], [w, I]].
func mulSparse(s *state, sp *sparseMatrix, t int) {
	var s0, tmp fr.Element
	s0.Mul(&sp.b00, &s[0])
	for j := 1; j < t; j++ {
		tmp.Mul(&sp.b[j-1], &s[j])
		s0.Add(&s0, &tmp)
	}
	for j := 1; j < t; j++ {
		tmp.Mul(&sp.w[j-1], &s[0])
		s[j].Add(&s[j], &tmp)
	}
	s[0] = s0
}

// fullRound adds rc, applies the S-box to every element and multiplies by m.
func fullRound(s *state, rc []fr.Element, m matrix, t int) {
	for i := 0; i < t; i++ {
		s[i].Add(&s[i], &rc[i])
		sbox(&s[i])
	}
	mulDense(s, m, t)
}

// Hash returns the Poseidon digest of in, whose length must equal the
// arity of c; it panics otherwise (a programming error, not bad input).
// It uses the integer-MDS form where the width allows it (arity ≤ 13) and
// the sparse partial-round form otherwise; both equal the reference.
func (c *Constants) Hash(in []fr.Element) fr.Element {
	if len(in) != c.arity {
		panic(fmt.Sprintf("poseidon: %d inputs for arity %d", len(in), c.arity))
	}
	if c.useInt {
		return c.hashInt(in)
	}
	return c.hashSparse(in)
}

// hashSparse is Hash in the sparse partial-round form.
func (c *Constants) hashSparse(in []fr.Element) fr.Element {
	t, half := c.width, FullRounds/2
	var s state
	s[0] = c.domainTag
	copy(s[1:t], in)
	for r := 0; r < half-1; r++ {
		fullRound(&s, c.fullRC[r], c.mds, t)
	}
	fullRound(&s, c.fullRC[half-1], c.pre, t)
	for i := 0; i < c.rp; i++ {
		s[0].Add(&s[0], &c.partialRC[i])
		sbox(&s[0])
		mulSparse(&s, &c.sparse[i], t)
	}
	for r := half; r < FullRounds; r++ {
		fullRound(&s, c.fullRC[r], c.mds, t)
	}
	return s[1]
}

// hashReference is the textbook permutation (neptune `hash_correct`):
// every round adds its t constants; full rounds apply the S-box to all
// elements, partial rounds to s0 only; each round ends with the MDS matrix.
// Tests use it to check the optimised form.
func (c *Constants) hashReference(in []fr.Element) fr.Element {
	t, half := c.width, FullRounds/2
	var s state
	s[0] = c.domainTag
	copy(s[1:t], in)
	round := 0
	for r := 0; r < half; r++ {
		fullRound(&s, c.rc[round*t:], c.mds, t)
		round++
	}
	for i := 0; i < c.rp; i++ {
		for j := 0; j < t; j++ {
			s[j].Add(&s[j], &c.rc[round*t+j])
		}
		sbox(&s[0])
		mulDense(&s, c.mds, t)
		round++
	}
	for r := 0; r < half; r++ {
		fullRound(&s, c.rc[round*t:], c.mds, t)
		round++
	}
	return s[1]
}

// HashBytes hashes len(in) (= arity) 32-byte little-endian field elements.
// It returns an error naming the offending input if one is not a canonical
// field element, or if the arity is unsupported.
func HashBytes(in [][32]byte) ([32]byte, error) {
	c, err := ConstantsFor(len(in))
	if err != nil {
		return [32]byte{}, err
	}
	var buf [MaxArity]fr.Element
	for i := range in {
		e, err := fr.LittleEndian.Element(&in[i])
		if err != nil {
			return [32]byte{}, fmt.Errorf("poseidon input %d: not a canonical BLS12-381 scalar", i)
		}
		buf[i] = e
	}
	d := c.Hash(buf[:len(in)])
	var out [32]byte
	fr.LittleEndian.PutElement(&out, d)
	return out, nil
}

// ToBytes encodes e as 32 little-endian bytes.
func ToBytes(e fr.Element) [32]byte {
	var out [32]byte
	fr.LittleEndian.PutElement(&out, e)
	return out
}

// FromBytes decodes 32 little-endian bytes; it fails if b is not a
// canonical field element (not below the modulus).
func FromBytes(b [32]byte) (fr.Element, error) {
	e, err := fr.LittleEndian.Element(&b)
	if err != nil {
		return fr.Element{}, fmt.Errorf("decoding field element %x: not below the BLS12-381 scalar modulus", b)
	}
	return e, nil
}

// Throughput measures hashes per second at arity on one goroutine locked
// to its OS thread, hashing for about d of that thread's CPU time (chained,
// so the work cannot be skipped). It divides by the thread's CPU time
// (getrusage RUSAGE_THREAD), so other load on the machine inflates the
// figure less than it would a wall-clock rate; it falls back to wall time
// where thread CPU time is unavailable. For benchmarks and `bench pc2`.
func Throughput(arity int, d time.Duration) (float64, error) {
	c, err := ConstantsFor(arity)
	if err != nil {
		return 0, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	clock := threadCPU
	if _, ok := threadCPU(); !ok {
		clock = func() (time.Duration, bool) { return time.Duration(time.Now().UnixNano()), true }
	}
	in := make([]fr.Element, arity)
	for i := range in {
		in[i].SetUint64(uint64(i))
	}
	start, _ := clock()
	n := 0
	for {
		for k := 0; k < 16; k++ {
			in[0] = c.Hash(in)
		}
		n += 16
		now, _ := clock()
		if el := now - start; el >= d {
			return float64(n) / el.Seconds(), nil
		}
	}
}

// threadCPU returns the calling thread's CPU time (Linux RUSAGE_THREAD).
func threadCPU() (time.Duration, bool) {
	const rusageThread = 1
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
