package poseidon

import (
	"errors"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// matrix is a dense square matrix over Fr, row major.
type matrix [][]fr.Element

func newMatrix(n int) matrix {
	m := make(matrix, n)
	for i := range m {
		m[i] = make([]fr.Element, n)
	}
	return m
}

// cauchyMDS returns the t×t Cauchy matrix M[i][j] = 1/(x_i + y_j) with
// x_i = i and y_j = t + j (neptune `src/mds.rs::generate_mds`). It is
// symmetric, so M·s and s·M agree.
func cauchyMDS(t int) matrix {
	m := newMatrix(t)
	for i := 0; i < t; i++ {
		for j := 0; j < t; j++ {
			var e fr.Element
			e.SetUint64(uint64(i + t + j))
			m[i][j].Inverse(&e)
		}
	}
	return m
}

// mul returns a·b.
func (a matrix) mul(b matrix) matrix {
	n := len(a)
	out := newMatrix(n)
	var tmp fr.Element
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var acc fr.Element
			for k := 0; k < n; k++ {
				tmp.Mul(&a[i][k], &b[k][j])
				acc.Add(&acc, &tmp)
			}
			out[i][j] = acc
		}
	}
	return out
}

// apply returns a·v for a column vector v.
func (a matrix) apply(v []fr.Element) []fr.Element {
	out := make([]fr.Element, len(a))
	var tmp fr.Element
	for i := range a {
		for k := range v {
			tmp.Mul(&a[i][k], &v[k])
			out[i].Add(&out[i], &tmp)
		}
	}
	return out
}

// minor11 returns the lower-right (n−1)×(n−1) block of a.
func (a matrix) minor11() matrix {
	n := len(a) - 1
	out := newMatrix(n)
	for i := 0; i < n; i++ {
		copy(out[i], a[i+1][1:])
	}
	return out
}

// inverse returns a⁻¹ by Gauss–Jordan elimination.
func (a matrix) inverse() (matrix, error) {
	n := len(a)
	w := newMatrix(n)
	inv := newMatrix(n)
	for i := 0; i < n; i++ {
		copy(w[i], a[i])
		inv[i][i].SetOne()
	}
	var f, tmp fr.Element
	for col := 0; col < n; col++ {
		p := col
		for p < n && w[p][col].IsZero() {
			p++
		}
		if p == n {
			return nil, errors.New("matrix is singular")
		}
		w[col], w[p] = w[p], w[col]
		inv[col], inv[p] = inv[p], inv[col]
		var pinv fr.Element
		pinv.Inverse(&w[col][col])
		for j := 0; j < n; j++ {
			w[col][j].Mul(&w[col][j], &pinv)
			inv[col][j].Mul(&inv[col][j], &pinv)
		}
		for r := 0; r < n; r++ {
			if r == col || w[r][col].IsZero() {
				continue
			}
			f = w[r][col]
			for j := 0; j < n; j++ {
				tmp.Mul(&f, &w[col][j])
				w[r][j].Sub(&w[r][j], &tmp)
				tmp.Mul(&f, &inv[col][j])
				inv[r][j].Sub(&inv[r][j], &tmp)
			}
		}
	}
	return inv, nil
}
