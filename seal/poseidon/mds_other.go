//go:build !amd64 || purego

package poseidon

import "github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

// useADX is false: no assembly kernels on this platform (tests may set it).
var useADX = false

// mulInt sets dst[i] ← (M'·s)_i·2^−64 mod r for i < t; see mulIntGo.
func mulInt(dst, s *fr.Element, m []uint64, t int) {
	mulIntGo(dst, s, m, t)
}

// fullSbox sets s[j] ← (s[j] + rc[j])^5 for j < t.
func fullSbox(s *state, rc []fr.Element, t int) { fullSboxGo(s, rc, t) }

// partialSbox sets z ← (z + c)^5·k.
func partialSbox(z, c, k *fr.Element) { partialSboxGo(z, c, k) }

// permFused reports false: this platform has no fused permutation kernel.
func permFused(s, next *state, im *intMDS, t, rp int) bool { return false }
