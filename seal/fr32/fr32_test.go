package fr32

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"
)

// refPad is a bit-by-bit model of Fr32 padding: after every 254 data bits, two zero bits; output rounded up to a
// byte. It mirrors the BitVec padder used as the oracle in rust-fil-proofs fr32/src/reader.rs tests.
func refPad(in []byte) []byte {
	var bits []bool
	for i := 0; i < len(in)*8; i++ {
		bits = append(bits, in[i/8]>>(i%8)&1 == 1)
		if (i+1)%254 == 0 {
			bits = append(bits, false, false)
		}
	}
	return packBits(bits)
}

// refUnpad drops bits 254 and 255 of every 256 and rounds the result down to a byte.
func refUnpad(in []byte) []byte {
	var bits []bool
	for i := 0; i < len(in)*8; i++ {
		if i%256 < 254 {
			bits = append(bits, in[i/8]>>(i%8)&1 == 1)
		}
	}
	return packBits(bits[:len(bits)/8*8])
}

func packBits(bits []bool) []byte {
	out := make([]byte, (len(bits)+7)/8)
	for i, b := range bits {
		if b {
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func padAll(t testing.TB, in []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(NewPadReader(bytes.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKnownAnswers checks the vectors of rust-fil-proofs fr32/src/reader.rs tests.
func TestKnownAnswers(t *testing.T) {
	t.Run("test_simple_127", func(t *testing.T) {
		// rust-fil-proofs fr32/src/reader.rs test_simple_127: 127×0xff → each 32-byte word is ff×31, 3f.
		out := make([]byte, 128)
		if err := Pad(bytes.Repeat([]byte{0xff}, 127), out); err != nil {
			t.Fatal(err)
		}
		want := bytes.Repeat(append(bytes.Repeat([]byte{0xff}, 31), 0x3f), 4)
		if !bytes.Equal(out, want) {
			t.Fatalf("got %x\nwant %x", out, want)
		}
	})
	t.Run("test_simple_single", func(t *testing.T) {
		// rust-fil-proofs fr32/src/reader.rs test_simple_single: 32×0xff → 31×ff, 0x3f, 0x03 (33 bytes).
		out := padAll(t, bytes.Repeat([]byte{0xff}, 32))
		want := append(bytes.Repeat([]byte{0xff}, 31), 0x3f, 0x03)
		if !bytes.Equal(out, want) {
			t.Fatalf("got %x want %x", out, want)
		}
	})
	t.Run("test_simple_short", func(t *testing.T) {
		// rust-fil-proofs fr32/src/reader.rs test_simple_short: 30×3 is unchanged.
		in := bytes.Repeat([]byte{3}, 30)
		if out := padAll(t, in); !bytes.Equal(out, in) {
			t.Fatalf("got %x want %x", out, in)
		}
	})
	t.Run("test_exotic", func(t *testing.T) {
		// rust-fil-proofs fr32/src/reader.rs test_exotic.
		var src []byte
		for range 2 {
			for i := 1; i <= 31; i++ {
				src = append(src, byte(i))
			}
			src = append(src, 0xff)
		}
		src = append(src, 9, 9, 9, 0xff)
		buf := padAll(t, src)
		for i := 0; i < 31; i++ {
			if buf[i] != byte(i+1) {
				t.Fatalf("buf[%d] = %d, want %d", i, buf[i], i+1)
			}
		}
		checks := map[int]byte{31: 63, 32: 1<<2 | 0b11, 63: 0x0f << 2, 64: 0x0f | 9<<4, 65: 9 << 4, 66: 9 << 4, 67: 0xf0, 68: 0x0f}
		for i := 33; i < 63; i++ {
			checks[i] = byte(i-31) << 2
		}
		for i, want := range checks {
			if buf[i] != want {
				t.Errorf("buf[%d] = %#x, want %#x", i, buf[i], want)
			}
		}
		if !bytes.Equal(buf, refPad(src)) {
			t.Fatalf("differs from bit model")
		}
	})
}

func TestPadMatchesBitModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, blocks := range []int{1, 2, 3, 17} {
		in := randBytes(r, blocks*UnpaddedBlock)
		out := make([]byte, blocks*PaddedBlock)
		if err := Pad(in, out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, refPad(in)) {
			t.Fatalf("%d blocks: Pad differs from bit model", blocks)
		}
		back := make([]byte, len(in))
		if err := Unpad(out, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, in) {
			t.Fatalf("%d blocks: round trip differs", blocks)
		}
		// Unpad ignores the two top bits of each word.
		dirty := bytes.Clone(out)
		for w := 31; w < len(dirty); w += 32 {
			dirty[w] |= 0xc0
		}
		if err := Unpad(dirty, back); err != nil || !bytes.Equal(back, in) {
			t.Fatalf("%d blocks: unpad does not ignore top bits", blocks)
		}
	}
}

func TestLengthErrors(t *testing.T) {
	tests := []struct {
		name    string
		fn      func([]byte, []byte) error
		in, out int
	}{
		{"pad input not multiple", Pad, 126, 128},
		{"pad output wrong", Pad, 127, 127},
		{"unpad input not multiple", Unpad, 129, 127},
		{"unpad output wrong", Unpad, 128, 128},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.fn(make([]byte, tc.in), make([]byte, tc.out)); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

// TestParallelMatchesSerial covers the split across goroutines, including a ragged last range.
func TestParallelMatchesSerial(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2")
	}
	r := rand.New(rand.NewPCG(3, 4))
	blocks := parallelMin*2 + 13
	in := randBytes(r, blocks*UnpaddedBlock)
	par, ser := make([]byte, blocks*PaddedBlock), make([]byte, blocks*PaddedBlock)
	if err := Pad(in, par); err != nil {
		t.Fatal(err)
	}
	PadSerial(in, ser)
	if !bytes.Equal(par, ser) {
		t.Fatal("parallel pad differs from serial")
	}
	back := make([]byte, len(in))
	if err := Unpad(par, back); err != nil || !bytes.Equal(back, in) {
		t.Fatal("parallel unpad round trip differs")
	}
}

func TestStreamingLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 3*UnpaddedBlock+1; n++ {
		in := randBytes(r, n)
		padded := padAll(t, in)
		if !bytes.Equal(padded, refPad(in)) {
			t.Fatalf("n=%d: pad reader differs from bit model", n)
		}
		if uint64(len(padded)) != PaddedLen(uint64(n)) {
			t.Fatalf("n=%d: PaddedLen %d, got %d", n, PaddedLen(uint64(n)), len(padded))
		}
		back, err := io.ReadAll(NewUnpadReader(bytes.NewReader(padded)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, in) {
			t.Fatalf("n=%d: unpad reader round trip differs", n)
		}
		if !bytes.Equal(back, refUnpad(padded)) {
			t.Fatalf("n=%d: unpad reader differs from bit model", n)
		}
		var sink bytes.Buffer
		w := NewPadWriter(&sink)
		if _, err := w.Write(in); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sink.Bytes(), padded) {
			t.Fatalf("n=%d: pad writer differs from pad reader", n)
		}
	}
}

// TestStreamingBatches crosses the internal batch boundary with odd read and write sizes.
func TestStreamingBatches(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	in := randBytes(r, streamBlocks*UnpaddedBlock*2+500)
	want := make([]byte, 0, PaddedLen(uint64(len(in))))
	full := len(in) / UnpaddedBlock * UnpaddedBlock
	want = want[:full/UnpaddedBlock*PaddedBlock]
	PadSerial(in[:full], want)
	want = append(want, refPad(in[full:])...)

	got, err := io.ReadAll(iotest.OneByteReader(NewPadReader(iotest.HalfReader(bytes.NewReader(in)))))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("pad reader with odd reads: err=%v equal=%v", err, bytes.Equal(got, want))
	}
	var sink bytes.Buffer
	w := NewPadWriter(&sink)
	for rest := in; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(70000))
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil || !bytes.Equal(sink.Bytes(), want) {
		t.Fatalf("pad writer with odd writes: err=%v", err)
	}
	back, err := io.ReadAll(NewUnpadReader(iotest.HalfReader(bytes.NewReader(want))))
	if err != nil || !bytes.Equal(back, in) {
		t.Fatalf("unpad reader: err=%v equal=%v", err, bytes.Equal(back, in))
	}
}

func TestStreamingErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := io.ReadAll(NewPadReader(iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Fatalf("pad reader: want wrapped source error, got %v", err)
	}
	_, err = io.ReadAll(NewUnpadReader(iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Fatalf("unpad reader: want wrapped source error, got %v", err)
	}
	w := NewPadWriter(io.Discard)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte{1}); err == nil {
		t.Fatal("write after close: want error")
	}
}

func TestPadAllocations(t *testing.T) {
	in := make([]byte, 64*UnpaddedBlock)
	out := make([]byte, 64*PaddedBlock)
	if n := testing.AllocsPerRun(10, func() { PadSerial(in, out); UnpadSerial(out, in) }); n != 0 {
		t.Fatalf("pad/unpad allocate %v times per run", n)
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 127))
	f.Add(bytes.Repeat([]byte{0xcc}, 300))
	f.Fuzz(func(t *testing.T, in []byte) {
		padded := padAll(t, in)
		if !bytes.Equal(padded, refPad(in)) {
			t.Fatal("pad reader differs from bit model")
		}
		back, err := io.ReadAll(NewUnpadReader(bytes.NewReader(padded)))
		if err != nil || !bytes.Equal(back, in) {
			t.Fatalf("round trip: err=%v", err)
		}
		full := len(in) / UnpaddedBlock * UnpaddedBlock
		out := make([]byte, full/UnpaddedBlock*PaddedBlock)
		if err := Pad(in[:full], out); err != nil || !bytes.Equal(out, padded[:len(out)]) {
			t.Fatalf("Pad differs from pad reader: %v", err)
		}
	})
}
