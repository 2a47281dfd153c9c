//go:build amd64 && !purego

package poseidon

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// TestKernelsADX compares the assembly field kernels with gnark-crypto on
// random and edge-value operands.
func TestKernelsADX(t *testing.T) {
	if !useADX {
		t.Skip("CPU lacks ADX/BMI2")
	}
	vals := edgeAndRandom(200)
	t.Run("mul", func(t *testing.T) {
		for i := range vals {
			for j := range vals {
				var got, want fr.Element
				mulADX(&got, &vals[i], &vals[j])
				want.Mul(&vals[i], &vals[j])
				if got != want {
					t.Fatalf("mul(%s, %s) = %s, want %s", vals[i].String(), vals[j].String(), got.String(), want.String())
				}
			}
		}
	})
	t.Run("square", func(t *testing.T) {
		for i := range vals {
			var got, want fr.Element
			sqrADX(&got, &vals[i])
			want.Square(&vals[i])
			if got != want {
				t.Fatalf("square(%s) = %s, want %s", vals[i].String(), got.String(), want.String())
			}
		}
	})
	t.Run("sbox", func(t *testing.T) {
		for i := range vals {
			c := vals[(i*7+3)%len(vals)]
			k := vals[(i*13+5)%len(vals)]
			var want, a fr.Element
			a.Add(&vals[i], &c)
			want.Square(&a)
			want.Square(&want)
			want.Mul(&want, &a)
			got := vals[i]
			sbox5ADX(&got, &c)
			if got != want {
				t.Fatalf("sbox5(%s + %s) = %s, want %s", vals[i].String(), c.String(), got.String(), want.String())
			}
			want.Mul(&want, &k)
			got = vals[i]
			sbox5kADX(&got, &c, &k)
			if got != want {
				t.Fatalf("sbox5k(%s + %s) = %s, want %s", vals[i].String(), c.String(), got.String(), want.String())
			}
		}
	})
}

func BenchmarkKernelsADX(b *testing.B) {
	var x, y fr.Element
	x.SetUint64(12345)
	y.SetUint64(777)
	b.Run("gnark-mul-chain", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			x.Mul(&x, &y)
		}
	})
	b.Run("adx-mul-chain", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			mulADX(&x, &x, &y)
		}
	})
	b.Run("gnark-sbox5k", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			x.Add(&x, &y)
			var t fr.Element
			t.Square(&x)
			t.Square(&t)
			x.Mul(&x, &t)
			x.Mul(&x, &y)
		}
	})
	b.Run("adx-sbox5k", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sbox5kADX(&x, &y, &y)
		}
	})
}
