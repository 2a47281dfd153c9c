package commp

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	hashhash "github.com/filecoin-project/go-fil-commp-hashhash"
	"github.com/filecoin-project/go-state-types/abi"
)

// benchSize is the payload of the Go benchmarks: 127 × 256 KiB (a 32 MiB padded piece). `sealfleet bench piece`
// measures 512 MiB.
const benchSize = 127 << 18

// BenchmarkCalc compares this package (1 and 2 workers) with go-fil-commp-hashhash on the same payload. Run it with
// -cpu 1,2 to see single-core and two-core figures.
func BenchmarkCalc(b *testing.B) {
	data := make([]byte, benchSize)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("sealfleet/w%d", workers), func(b *testing.B) {
			c := NewCalc(workers)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.Copy(c, bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.Digest(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("hashhash", func(b *testing.B) {
		c := &hashhash.Calc{}
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := io.Copy(c, bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
			if _, _, err := c.Digest(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkComputeCommD32GiB(b *testing.B) {
	z, _ := ZeroPiece(1 << 30)
	pieces := make([]abi.PieceInfo, 32)
	for i := range pieces {
		pieces[i] = z
	}
	for b.Loop() {
		if _, err := ComputeCommD(32<<30, pieces); err != nil {
			b.Fatal(err)
		}
	}
}
