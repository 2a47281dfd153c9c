package poseidon

import (
	"fmt"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// FullRounds is R_F, the number of full rounds for every supported width
// (neptune `src/round_numbers.rs`, 128-bit security, standard strength).
const FullRounds = 8

// MaxArity is the largest arity this package supports.
const MaxArity = 16

// partialRounds maps width t = arity+1 to R_P, as computed by neptune's
// `calc_round_numbers` with the security margin; the values are those of
// neptune `src/round_numbers.rs::test_round_numbers_against_known_values`.
var partialRounds = map[int]int{
	2: 55, 3: 55, 4: 56, 5: 56, 6: 56, 7: 56, 8: 57, 9: 57,
	10: 57, 11: 57, 12: 57, 13: 57, 14: 57, 15: 57, 16: 59, 17: 59,
}

// sparseMatrix is the factor [[b00, b], [w, I]] of one partial round's
// linear layer in the optimised form.
type sparseMatrix struct {
	b00 fr.Element
	b   []fr.Element // row 0, columns 1..t−1
	w   []fr.Element // column 0, rows 1..t−1
}

// Constants holds everything needed to hash with one arity: the reference
// round constants and MDS matrix, and the derived constants of the
// optimised partial-round form. A Constants is immutable and safe for
// concurrent use.
type Constants struct {
	arity, width int
	rp           int
	domainTag    fr.Element
	mds          matrix
	rc           []fr.Element // t·(R_F+R_P) reference round constants

	// Optimised form (see optimise).
	fullRC    [][]fr.Element // FullRounds vectors of width t
	partialRC []fr.Element   // one scalar per partial round, added to s0
	pre       matrix         // linear layer of the last first-half full round
	sparse    []sparseMatrix // linear layer of each partial round

	intForm *intMDS // integer-MDS form (nil if unavailable for this width)
	useInt  bool    // Hash uses intForm
}

var (
	cacheMu sync.Mutex
	cache   = map[int]*Constants{}
)

// ConstantsFor returns the (cached) constants for arity, which must be in
// 1..MaxArity. The domain tag is the Merkle-tree tag 2^arity − 1 that
// Filecoin uses for every Poseidon hash.
func ConstantsFor(arity int) (*Constants, error) {
	if arity < 1 || arity > MaxArity {
		return nil, fmt.Errorf("poseidon arity %d: accepted 1..%d", arity, MaxArity)
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if c, ok := cache[arity]; ok {
		return c, nil
	}
	c, err := newConstants(arity)
	if err != nil {
		return nil, fmt.Errorf("deriving poseidon constants for arity %d: %w", arity, err)
	}
	cache[arity] = c
	return c, nil
}

// MustConstants is ConstantsFor for arities known to be valid at compile
// time; it panics on an unsupported arity.
func MustConstants(arity int) *Constants {
	c, err := ConstantsFor(arity)
	if err != nil {
		panic(err)
	}
	return c
}

// Arity returns the number of inputs one hash takes.
func (c *Constants) Arity() int { return c.arity }

func newConstants(arity int) (*Constants, error) {
	t := arity + 1
	rp := partialRounds[t]
	c := &Constants{
		arity: arity,
		width: t,
		rp:    rp,
		mds:   cauchyMDS(t),
		rc:    roundConstants(t, FullRounds, rp),
	}
	c.domainTag.SetUint64(1<<uint(arity) - 1)
	if err := c.optimise(); err != nil {
		return nil, err
	}
	c.intForm = newIntMDS(c)
	c.useInt = c.intForm != nil && t >= intMinWidth
	return c, nil
}

// optimise derives the optimised partial-round form (Poseidon paper,
// appendix B; neptune's "OptimizedStatic" mode) by two rewrites that keep
// the permutation unchanged:
//
//  1. Round constants: in a partial round only s0 goes through the S-box,
//     so the constants of s1..s_{t−1} can be added after the S-box and
//     pushed through the linear layer into the next round. After the last
//     partial round the carried vector joins the first full round of the
//     second half. Each partial round then adds one scalar.
//  2. Linear layers: write the partial rounds' matrix chain backwards as
//     N = B·A with A = diag(1, N11) and B = [[n00, n01·N11⁻¹], [n10, I]].
//     A commutes with the S-box of s0 and the scalar addition, so it moves
//     into the previous round's matrix (N ← A·M). The last first-half full
//     round ends with the dense matrix A_0·M, every partial round with a
//     sparse B_i costing 2(t−1)+1 multiplications instead of t².
func (c *Constants) optimise() error {
	t, half := c.width, FullRounds/2
	c.fullRC = make([][]fr.Element, FullRounds)
	for r := 0; r < half; r++ {
		c.fullRC[r] = append([]fr.Element(nil), c.rc[r*t:(r+1)*t]...)
	}
	carry := make([]fr.Element, t)
	c.partialRC = make([]fr.Element, c.rp)
	for i := 0; i < c.rp; i++ {
		e := make([]fr.Element, t)
		base := (half + i) * t
		for j := 0; j < t; j++ {
			e[j].Add(&c.rc[base+j], &carry[j])
		}
		c.partialRC[i] = e[0]
		e[0].SetZero()
		carry = c.mds.apply(e)
	}
	for r := half; r < FullRounds; r++ {
		base := (r + c.rp) * t
		c.fullRC[r] = append([]fr.Element(nil), c.rc[base:base+t]...)
	}
	for j := 0; j < t; j++ {
		c.fullRC[half][j].Add(&c.fullRC[half][j], &carry[j])
	}

	c.sparse = make([]sparseMatrix, c.rp)
	n := c.mds
	for i := c.rp - 1; i >= 0; i-- {
		n11 := n.minor11()
		inv, err := n11.inverse()
		if err != nil {
			return fmt.Errorf("factoring partial round %d: %w", i, err)
		}
		sp := sparseMatrix{b00: n[0][0], b: make([]fr.Element, t-1), w: make([]fr.Element, t-1)}
		var tmp fr.Element
		for j := 0; j < t-1; j++ {
			sp.w[j] = n[j+1][0]
			for k := 0; k < t-1; k++ {
				tmp.Mul(&n[0][k+1], &inv[k][j])
				sp.b[j].Add(&sp.b[j], &tmp)
			}
		}
		c.sparse[i] = sp
		a := newMatrix(t)
		a[0][0].SetOne()
		for r := 1; r < t; r++ {
			copy(a[r][1:], n11[r-1])
		}
		n = a.mul(c.mds)
	}
	c.pre = n
	return nil
}
