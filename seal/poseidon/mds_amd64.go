//go:build amd64 && !purego

package poseidon

import (
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"golang.org/x/sys/cpu"
)

// useADX selects the assembly kernels (MULX, ADCX, ADOX).
var useADX = cpu.X86.HasADX && cpu.X86.HasBMI2

// mulIntADX is mulIntGo in assembly: dst[i] ← (M'·s)_i·2^−64 mod r for
// i < t, with m the t·t row-major integer matrix. dst must not alias s.
//
//go:noescape
func mulIntADX(dst, s *fr.Element, m *uint64, t int)

// mulInt sets dst[i] ← (M'·s)_i·2^−64 mod r for i < t; see mulIntGo.
func mulInt(dst, s *fr.Element, m []uint64, t int) {
	if useADX {
		mulIntADX(dst, s, &m[0], t)
		return
	}
	mulIntGo(dst, s, m, t)
}

// sbox5ADX sets z ← (z + c)^5.
//
//go:noescape
func sbox5ADX(z, c *fr.Element)

// sbox5kADX sets z ← (z + c)^5·k.
//
//go:noescape
func sbox5kADX(z, c, k *fr.Element)

// mulADX sets z ← x·y.
//
//go:noescape
func mulADX(z, x, y *fr.Element)

// fullSbox sets s[j] ← (s[j] + rc[j])^5 for j < t.
func fullSbox(s *state, rc []fr.Element, t int) {
	if useADX {
		for j := range rc[:t] {
			sbox5ADX(&s[j], &rc[j])
		}
		return
	}
	fullSboxGo(s, rc, t)
}

// partialSbox sets z ← (z + c)^5·k.
func partialSbox(z, c, k *fr.Element) {
	if useADX {
		sbox5kADX(z, c, k)
		return
	}
	partialSboxGo(z, c, k)
}

// sqrADX sets z ← x².
//
//go:noescape
func sqrADX(z, x *fr.Element)

// permADX runs the whole integer-MDS permutation on s (tmp is the second
// buffer): rc holds the R_F·t full-round constants in round order, pc0 and
// k4 one element per partial round, m the t·t matrix. The final state is
// in s when R_F + rp is even, else in tmp.
//
//go:noescape
func permADX(s, tmp, rc, pc0, k4 *fr.Element, m *uint64, t, rp int)

// fusedPerm selects permADX (one assembly call per hash) over the per-round
// kernels when useADX is set; tests compare the two.
var fusedPerm = true

// permFused runs the whole permutation on s (next is the second buffer)
// with permADX and reports true, or reports false (and does nothing) when
// the per-round kernels are to be used.
func permFused(s, next *state, im *intMDS, t, rp int) bool {
	if !useADX || !fusedPerm {
		return false
	}
	permADX(&s[0], &next[0], &im.fullRC[0], &im.pc0[0], &im.k4[0], &im.m[0], t, rp)
	return true
}
