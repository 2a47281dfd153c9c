package fr32

import (
	"fmt"
	"runtime"
	"testing"
)

func BenchmarkPad(b *testing.B) {
	for _, blocks := range []int{1, 1 << 13, 1 << 16} {
		in := make([]byte, blocks*UnpaddedBlock)
		out := make([]byte, blocks*PaddedBlock)
		b.Run(fmt.Sprintf("serial/%dKiB", len(in)>>10), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				PadSerial(in, out)
			}
		})
		b.Run(fmt.Sprintf("parallel%d/%dKiB", runtime.GOMAXPROCS(0), len(in)>>10), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				_ = Pad(in, out)
			}
		})
	}
}

func BenchmarkUnpad(b *testing.B) {
	blocks := 1 << 13
	in := make([]byte, blocks*PaddedBlock)
	out := make([]byte, blocks*UnpaddedBlock)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		UnpadSerial(in, out)
	}
}
