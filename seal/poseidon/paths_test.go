package poseidon

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// inputSets returns the inputs the path tests hash at one arity: all
// zeros, all r−1, patterns of the edge values of edgeAndRandom, and n
// random vectors.
func inputSets(arity, n int, rng *rand.Rand) [][]fr.Element {
	edges := edgeAndRandom(0)
	var sets [][]fr.Element
	for _, e := range edges {
		v := make([]fr.Element, arity)
		for i := range v {
			v[i] = e
		}
		sets = append(sets, v)
	}
	for k := 0; k < len(edges); k++ {
		v := make([]fr.Element, arity)
		for i := range v {
			v[i] = edges[(i+k)%len(edges)]
		}
		sets = append(sets, v)
	}
	for k := 0; k < n; k++ {
		v := make([]fr.Element, arity)
		for i := range v {
			if rng.Intn(5) == 0 {
				v[i] = edges[rng.Intn(len(edges))]
			} else {
				v[i].SetRandom()
			}
		}
		sets = append(sets, v)
	}
	return sets
}

// TestPathsMatchReference checks every optimised path — Hash as
// dispatched (the fused assembly permutation where the CPU has ADX), the
// integer-MDS form with the per-round kernels and with the portable Go
// kernels, and the sparse form — against the
// textbook permutation for every arity on edge-value and random inputs.
func TestPathsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	paths := []struct {
		name string
		hash func(c *Constants, in []fr.Element) (fr.Element, bool)
	}{
		{"Hash", func(c *Constants, in []fr.Element) (fr.Element, bool) { return c.Hash(in), true }},
		{"int-portable", func(c *Constants, in []fr.Element) (fr.Element, bool) {
			if c.intForm == nil {
				return fr.Element{}, false
			}
			saved := useADX
			useADX = false
			defer func() { useADX = saved }()
			return c.hashInt(in), true
		}},
		{"int-per-round-kernels", func(c *Constants, in []fr.Element) (fr.Element, bool) {
			if c.intForm == nil {
				return fr.Element{}, false
			}
			restore := setFused(false)
			defer restore()
			return c.hashInt(in), true
		}},
		{"sparse", func(c *Constants, in []fr.Element) (fr.Element, bool) { return c.hashSparse(in), true }},
	}
	for arity := 1; arity <= MaxArity; arity++ {
		c := MustConstants(arity)
		sets := inputSets(arity, 25, rng)
		for _, p := range paths {
			t.Run(fmt.Sprintf("arity%d/%s", arity, p.name), func(t *testing.T) {
				for _, in := range sets {
					got, ok := p.hash(c, in)
					if !ok {
						t.Skip("form unavailable at this width")
					}
					if want := c.hashReference(in); got != want {
						t.Fatalf("inputs %v: got %s, reference %s", in, got.String(), want.String())
					}
				}
			})
		}
	}
}

// TestMulIntKernels compares the integer-MDS row kernel the build uses
// with the portable one, at every width, on edge-value and random states.
func TestMulIntKernels(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	for arity := 1; arity <= MaxArity; arity++ {
		c := MustConstants(arity)
		if c.intForm == nil {
			continue
		}
		tw := c.width
		t.Run(fmt.Sprintf("t%d", tw), func(t *testing.T) {
			for _, in := range inputSets(tw, 50, rng) {
				var got, want state
				mulInt(&got[0], &in[0], c.intForm.m, tw)
				mulIntGo(&want[0], &in[0], c.intForm.m, tw)
				if got != want {
					t.Fatalf("state %v: kernel %v, portable %v", in, got[:tw], want[:tw])
				}
			}
		})
	}
}
