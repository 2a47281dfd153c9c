// Package fr32 converts between raw bytes and the Fr32-padded form Filecoin stores in sectors.
//
// Every 127 raw bytes (1016 bits, read as a little-endian bit stream) are cut into four 254-bit chunks; each chunk
// is written as a 32-byte little-endian word whose two top bits are zero, so every word is a valid BLS12-381
// scalar. 127 raw bytes therefore become 128 padded bytes. The byte form follows rust-fil-proofs `fr32` and
// go-fil-commp-hashhash `commp.go`.
//
// Whole-buffer functions (Pad, Unpad) work on multiples of 127 / 128 bytes and use every available core for large
// buffers; the streaming types (NewPadReader, NewUnpadReader, PadWriter) wrap io.Reader / io.Writer.
package fr32

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
)

const (
	// UnpaddedBlock is the number of raw bytes in one padding unit.
	UnpaddedBlock = 127
	// PaddedBlock is the number of padded bytes one unit becomes.
	PaddedBlock = 128

	// parallelMin is the smallest buffer (in blocks) worth splitting across goroutines: below ~2 MiB the cost of
	// starting goroutines is comparable to the work.
	parallelMin = 16384
)

var le = binary.LittleEndian

// padBlock pads one 127-byte block into 128 bytes.
//
// Word form of the byte rules (out[32+i] = in[32+i]<<2 | in[31+i]>>6, and likewise with shifts 4 and 6): shifting a
// little-endian 64-bit load left by s moves each byte's top bits into the next byte, and the byte before the load
// supplies the low bits of the first one.
func padBlock(in *[UnpaddedBlock]byte, out *[PaddedBlock]byte) {
	// Chunk 0: bits 0..253 stay in place.
	copy(out[0:32], in[0:32])
	out[31] &= 0x3f
	// Chunk 1: raw bits 254..507 start at in[31] bit 6.
	for k := 0; k < 32; k += 8 {
		le.PutUint64(out[32+k:], le.Uint64(in[32+k:])<<2|uint64(in[31+k]>>6))
	}
	out[63] &= 0x3f
	// Chunk 2: raw bits 508..761 start at in[63] bit 4.
	for k := 0; k < 32; k += 8 {
		le.PutUint64(out[64+k:], le.Uint64(in[64+k:])<<4|uint64(in[63+k]>>4))
	}
	out[95] &= 0x3f
	// Chunk 3: raw bits 762..1015 start at in[95] bit 2; the last word has no in[127], so it is a plain shift.
	for k := 0; k < 24; k += 8 {
		le.PutUint64(out[96+k:], le.Uint64(in[95+k:])>>2|uint64(in[103+k])<<62)
	}
	le.PutUint64(out[120:], le.Uint64(in[119:])>>2)
}

// unpadBlock is the inverse of padBlock. The two top bits of each padded word are ignored.
func unpadBlock(in *[PaddedBlock]byte, out *[UnpaddedBlock]byte) {
	// Chunk 0 gives raw bytes 0..30 and the low 6 bits of byte 31.
	copy(out[0:31], in[0:31])
	out[31] = in[31]&0x3f | in[32]<<6
	// Chunk 1 (in[32..63], 254 bits) lands at raw bit 254: out[32+j] = in[32+j]>>2 | in[33+j]<<6 for j < 31.
	for k := 0; k < 24; k += 8 {
		le.PutUint64(out[32+k:], le.Uint64(in[32+k:])>>2|uint64(in[40+k])<<62)
	}
	// out[56..62] from in[56..63]; byte 63 combines chunk 1's last 4 bits with chunk 2.
	v := le.Uint64(in[56:]) & (1<<62 - 1)
	out[56], out[57], out[58], out[59] = byte(v>>2), byte(v>>10), byte(v>>18), byte(v>>26)
	out[60], out[61], out[62] = byte(v>>34), byte(v>>42), byte(v>>50)
	out[63] = byte(v>>58) | in[64]<<4
	// Chunk 2 (in[64..95]) lands at raw bit 508: out[64+j] = in[64+j]>>4 | in[65+j]<<4.
	for k := 0; k < 24; k += 8 {
		le.PutUint64(out[64+k:], le.Uint64(in[64+k:])>>4|uint64(in[72+k])<<60)
	}
	v = le.Uint64(in[88:]) & (1<<62 - 1)
	out[88], out[89], out[90], out[91] = byte(v>>4), byte(v>>12), byte(v>>20), byte(v>>28)
	out[92], out[93], out[94] = byte(v>>36), byte(v>>44), byte(v>>52)
	out[95] = byte(v>>60) | in[96]<<2
	// Chunk 3 (in[96..127]) lands at raw bit 762: out[96+j] = in[96+j]>>6 | in[97+j]<<2.
	for k := 0; k < 24; k += 8 {
		le.PutUint64(out[96+k:], le.Uint64(in[96+k:])>>6|uint64(in[104+k])<<58)
	}
	v = le.Uint64(in[120:]) & (1<<62 - 1)
	out[120], out[121], out[122], out[123] = byte(v>>6), byte(v>>14), byte(v>>22), byte(v>>30)
	out[124], out[125], out[126] = byte(v>>38), byte(v>>46), byte(v>>54)
}

// Pad writes the Fr32 padding of in to out. len(in) must be a multiple of 127 and len(out) exactly
// len(in)/127*128; in and out must not overlap. Buffers of 1 MiB or more are split across GOMAXPROCS goroutines.
func Pad(in, out []byte) error {
	if len(in)%UnpaddedBlock != 0 {
		return fmt.Errorf("fr32 pad: input length %d must be a multiple of %d", len(in), UnpaddedBlock)
	}
	if want := len(in) / UnpaddedBlock * PaddedBlock; len(out) != want {
		return fmt.Errorf("fr32 pad: output length %d must be %d for %d input bytes", len(out), want, len(in))
	}
	if len(in) < parallelMin*UnpaddedBlock {
		padBlocks(in, out)
		return nil
	}
	parallel(len(in)/UnpaddedBlock, func(from, to int) {
		padBlocks(in[from*UnpaddedBlock:to*UnpaddedBlock], out[from*PaddedBlock:to*PaddedBlock])
	})
	return nil
}

// Unpad writes the raw bytes of the Fr32-padded in to out. len(in) must be a multiple of 128 and len(out) exactly
// len(in)/128*127; in and out must not overlap. The two top bits of every 32-byte word of in are ignored.
func Unpad(in, out []byte) error {
	if len(in)%PaddedBlock != 0 {
		return fmt.Errorf("fr32 unpad: input length %d must be a multiple of %d", len(in), PaddedBlock)
	}
	if want := len(in) / PaddedBlock * UnpaddedBlock; len(out) != want {
		return fmt.Errorf("fr32 unpad: output length %d must be %d for %d input bytes", len(out), want, len(in))
	}
	if len(in) < parallelMin*PaddedBlock {
		unpadBlocks(in, out)
		return nil
	}
	parallel(len(in)/PaddedBlock, func(from, to int) {
		unpadBlocks(in[from*PaddedBlock:to*PaddedBlock], out[from*UnpaddedBlock:to*UnpaddedBlock])
	})
	return nil
}

// PadSerial is Pad on the calling goroutine only, for callers that parallelise at a coarser grain.
// It panics if the lengths are not as Pad requires.
func PadSerial(in, out []byte) {
	if len(in)%UnpaddedBlock != 0 || len(out) != len(in)/UnpaddedBlock*PaddedBlock {
		panic(fmt.Sprintf("fr32.PadSerial: bad lengths in=%d out=%d", len(in), len(out)))
	}
	padBlocks(in, out)
}

// UnpadSerial is Unpad on the calling goroutine only. It panics if the lengths are not as Unpad requires.
func UnpadSerial(in, out []byte) {
	if len(in)%PaddedBlock != 0 || len(out) != len(in)/PaddedBlock*UnpaddedBlock {
		panic(fmt.Sprintf("fr32.UnpadSerial: bad lengths in=%d out=%d", len(in), len(out)))
	}
	unpadBlocks(in, out)
}

func padBlocks(in, out []byte) {
	for len(in) >= UnpaddedBlock {
		padBlock((*[UnpaddedBlock]byte)(in), (*[PaddedBlock]byte)(out))
		in, out = in[UnpaddedBlock:], out[PaddedBlock:]
	}
}

func unpadBlocks(in, out []byte) {
	for len(in) >= PaddedBlock {
		unpadBlock((*[PaddedBlock]byte)(in), (*[UnpaddedBlock]byte)(out))
		in, out = in[PaddedBlock:], out[UnpaddedBlock:]
	}
}

// parallel runs fn over [0, blocks) split into one contiguous range per available core, or inline for small work.
func parallel(blocks int, fn func(from, to int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || blocks < parallelMin {
		fn(0, blocks)
		return
	}
	if workers > blocks/(parallelMin/2) {
		workers = blocks / (parallelMin / 2)
	}
	var wg sync.WaitGroup
	per := (blocks + workers - 1) / workers
	for from := per; from < blocks; from += per {
		to := min(from+per, blocks)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(from, to)
		}()
	}
	fn(0, min(per, blocks))
	wg.Wait()
}
