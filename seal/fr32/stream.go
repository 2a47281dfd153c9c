package fr32

import (
	"errors"
	"fmt"
	"io"
)

// streamBlocks is how many blocks the streaming types convert per batch (about 512 KiB).
const streamBlocks = 4096

// PaddedLen returns the padded length of n raw bytes as the streaming padder emits it: whole 127-byte blocks
// become 128 bytes; a trailing partial block becomes its bits plus two zero bits after every 254, rounded up to a
// byte (rust-fil-proofs Fr32Reader).
func PaddedLen(n uint64) uint64 {
	full, rest := n/UnpaddedBlock, n%UnpaddedBlock
	bits := rest * 8
	outBits := bits/254*256 + bits%254
	return full*PaddedBlock + (outBits+7)/8
}

// UnpaddedLen returns the raw length of n padded bytes: whole 128-byte blocks become 127 bytes, a trailing partial
// block gives its data bits (254 of every 256) rounded down to a byte.
func UnpaddedLen(n uint64) uint64 {
	full, rest := n/PaddedBlock, n%PaddedBlock
	bits := rest * 8
	dataBits := bits/256*254 + min(bits%256, 254)
	return full*UnpaddedBlock + dataBits/8
}

// padReader is the io.Reader returned by NewPadReader.
type padReader struct {
	src    io.Reader
	in     []byte // raw input batch
	out    []byte // padded output batch
	outPos int    // next unread byte of out
	outEnd int    // end of valid bytes in out
	err    error  // sticky source error (io.EOF at the end)
}

// NewPadReader returns a reader of the Fr32 padding of r. Whole 127-byte blocks of r become 128 bytes; if r ends
// in a partial block, it is padded as if followed by zeros and cut to PaddedLen bytes, as rust-fil-proofs
// Fr32Reader does. Errors of r other than io.EOF are returned after the bytes padded so far.
func NewPadReader(r io.Reader) io.Reader {
	return &padReader{
		src: r,
		in:  make([]byte, streamBlocks*UnpaddedBlock),
		out: make([]byte, streamBlocks*PaddedBlock),
	}
}

func (p *padReader) Read(b []byte) (int, error) {
	for p.outPos == p.outEnd {
		if p.err != nil {
			return 0, p.err
		}
		p.fill()
	}
	n := copy(b, p.out[p.outPos:p.outEnd])
	p.outPos += n
	return n, nil
}

// fill reads one batch from the source and pads it into out.
func (p *padReader) fill() {
	n, err := io.ReadFull(p.src, p.in)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = io.EOF
	case err != nil && !errors.Is(err, io.EOF):
		err = fmt.Errorf("fr32 pad reader: reading source: %w", err)
	}
	p.err = err
	full := n / UnpaddedBlock * UnpaddedBlock
	padBlocks(p.in[:full], p.out[:full/UnpaddedBlock*PaddedBlock])
	end := full / UnpaddedBlock * PaddedBlock
	if rest := n - full; rest > 0 {
		clear(p.in[n : full+UnpaddedBlock])
		padBlock((*[UnpaddedBlock]byte)(p.in[full:]), (*[PaddedBlock]byte)(p.out[end:]))
		end += int(PaddedLen(uint64(rest)))
		if p.err == nil { // a partial block can only be the last one
			p.err = io.EOF
		}
	}
	p.outPos, p.outEnd = 0, end
}

// unpadReader is the io.Reader returned by NewUnpadReader.
type unpadReader struct {
	src    io.Reader
	in     []byte
	out    []byte
	outPos int
	outEnd int
	err    error
}

// NewUnpadReader returns a reader of the raw bytes of the Fr32-padded stream r. A trailing partial 128-byte block
// yields UnpaddedLen of its length, so NewUnpadReader(NewPadReader(x)) reads back exactly x.
func NewUnpadReader(r io.Reader) io.Reader {
	return &unpadReader{
		src: r,
		in:  make([]byte, streamBlocks*PaddedBlock),
		out: make([]byte, streamBlocks*UnpaddedBlock),
	}
}

func (u *unpadReader) Read(b []byte) (int, error) {
	for u.outPos == u.outEnd {
		if u.err != nil {
			return 0, u.err
		}
		u.fill()
	}
	n := copy(b, u.out[u.outPos:u.outEnd])
	u.outPos += n
	return n, nil
}

func (u *unpadReader) fill() {
	n, err := io.ReadFull(u.src, u.in)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = io.EOF
	case err != nil && !errors.Is(err, io.EOF):
		err = fmt.Errorf("fr32 unpad reader: reading source: %w", err)
	}
	u.err = err
	full := n / PaddedBlock * PaddedBlock
	unpadBlocks(u.in[:full], u.out[:full/PaddedBlock*UnpaddedBlock])
	end := full / PaddedBlock * UnpaddedBlock
	if rest := n - full; rest > 0 {
		clear(u.in[n : full+PaddedBlock])
		unpadBlock((*[PaddedBlock]byte)(u.in[full:]), (*[UnpaddedBlock]byte)(u.out[end:]))
		end += int(UnpaddedLen(uint64(rest)))
		if u.err == nil {
			u.err = io.EOF
		}
	}
	u.outPos, u.outEnd = 0, end
}

// PadWriter pads what is written to it and writes the padded bytes to an underlying writer. Bytes are buffered
// until a whole 127-byte block is available; Close pads and flushes a trailing partial block (as PaddedLen says).
// A PadWriter is not safe for concurrent use.
type PadWriter struct {
	dst    io.Writer
	in     []byte // pending raw bytes, less than one batch
	out    []byte
	closed bool
}

// NewPadWriter returns a PadWriter writing to w.
func NewPadWriter(w io.Writer) *PadWriter {
	return &PadWriter{
		dst: w,
		in:  make([]byte, 0, streamBlocks*UnpaddedBlock),
		out: make([]byte, streamBlocks*PaddedBlock),
	}
}

// Write buffers p and writes the padding of every complete batch of blocks. It returns len(p) unless the
// underlying writer fails.
func (w *PadWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("fr32 pad writer: write after close")
	}
	written := 0
	for len(p) > 0 {
		n := copy(w.in[len(w.in):cap(w.in)], p)
		w.in = w.in[:len(w.in)+n]
		p = p[n:]
		written += n
		if len(w.in) == cap(w.in) {
			if err := w.flush(len(w.in)); err != nil {
				return written - n, err
			}
		}
	}
	return written, nil
}

// flush pads and writes the first n buffered bytes (a multiple of 127), keeping the rest.
func (w *PadWriter) flush(n int) error {
	padBlocks(w.in[:n], w.out[:n/UnpaddedBlock*PaddedBlock])
	if _, err := w.dst.Write(w.out[:n/UnpaddedBlock*PaddedBlock]); err != nil {
		return fmt.Errorf("fr32 pad writer: writing padded data: %w", err)
	}
	rest := copy(w.in, w.in[n:])
	w.in = w.in[:rest]
	return nil
}

// Close writes every buffered byte, padding a trailing partial block with zeros and cutting it to PaddedLen. It
// does not close the underlying writer. Calling Close twice is an error.
func (w *PadWriter) Close() error {
	if w.closed {
		return errors.New("fr32 pad writer: already closed")
	}
	w.closed = true
	full := len(w.in) / UnpaddedBlock * UnpaddedBlock
	if full > 0 {
		if err := w.flush(full); err != nil {
			return err
		}
	}
	if rest := len(w.in); rest > 0 {
		block := w.in[:UnpaddedBlock]
		clear(block[rest:])
		padBlock((*[UnpaddedBlock]byte)(block), (*[PaddedBlock]byte)(w.out))
		if _, err := w.dst.Write(w.out[:PaddedLen(uint64(rest))]); err != nil {
			return fmt.Errorf("fr32 pad writer: writing final block: %w", err)
		}
		w.in = w.in[:0]
	}
	return nil
}
