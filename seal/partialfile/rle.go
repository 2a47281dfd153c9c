package partialfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Span is a half-open range [Offset, Offset+Size) of padded bytes.
type Span struct {
	Offset uint64
	Size   uint64
}

// End returns the first byte after the span.
func (s Span) End() uint64 { return s.Offset + s.Size }

// spans is a sorted list of non-empty, non-overlapping, non-adjacent spans (the allocation map).
type spans []Span

// add returns the union of s and x.
func (s spans) add(x Span) spans {
	if x.Size == 0 {
		return s
	}
	out := make(spans, 0, len(s)+1)
	i := 0
	for ; i < len(s) && s[i].End() < x.Offset; i++ {
		out = append(out, s[i])
	}
	start, end := x.Offset, x.End()
	for ; i < len(s) && s[i].Offset <= end; i++ {
		start, end = min(start, s[i].Offset), max(end, s[i].End())
	}
	out = append(out, Span{start, end - start})
	return append(out, s[i:]...)
}

// subtract returns s without x.
func (s spans) subtract(x Span) spans {
	out := make(spans, 0, len(s)+1)
	for _, r := range s {
		if r.End() <= x.Offset || r.Offset >= x.End() {
			out = append(out, r)
			continue
		}
		if r.Offset < x.Offset {
			out = append(out, Span{r.Offset, x.Offset - r.Offset})
		}
		if r.End() > x.End() {
			out = append(out, Span{x.End(), r.End() - x.End()})
		}
	}
	return out
}

// covered returns how many bytes of x are in s.
func (s spans) covered(x Span) uint64 {
	var n uint64
	i := sort.Search(len(s), func(i int) bool { return s[i].End() > x.Offset })
	for ; i < len(s) && s[i].Offset < x.End(); i++ {
		n += min(s[i].End(), x.End()) - max(s[i].Offset, x.Offset)
	}
	return n
}

// The trailer is an RLE+ bitfield (Filecoin spec; github.com/filecoin-project/go-bitfield rle) over padded byte
// indexes, set where data is allocated, so lotus and sealfleet read each other's unsealed files:
//
//	2 bits version (0), 1 bit value of the first run, then per run (values alternate):
//	  "1"                      a run of length 1
//	  "01" + 4-bit length      a run of length 2..15
//	  "00" + unsigned varint   a run of length ≥ 16, as whole bytes
//
// Bits are packed least significant first. A zero-length run (or the end of the data) ends the list. The empty
// set is written as zero bytes; go-bitfield's one-byte form (0x00) is accepted when reading.

type bitWriter struct {
	out  []byte
	acc  uint32
	nacc uint
}

func (w *bitWriter) put(v uint32, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

func (w *bitWriter) flush() []byte {
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc))
	}
	return w.out
}

// encodeRLE encodes the allocation map.
func encodeRLE(s spans) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	w := &bitWriter{}
	w.put(0, 2) // version
	var runs []uint64
	if s[0].Offset > 0 {
		w.put(0, 1)
		runs = append(runs, s[0].Offset)
	} else {
		w.put(1, 1)
	}
	for i, r := range s {
		if i > 0 {
			runs = append(runs, r.Offset-s[i-1].End())
		}
		runs = append(runs, r.Size)
	}
	var vb [binary.MaxVarintLen64]byte
	for _, n := range runs {
		switch {
		case n == 1:
			w.put(1, 1)
		case n < 16:
			w.put(2, 2)
			w.put(uint32(n), 4)
		default:
			w.put(0, 2)
			k := binary.PutUvarint(vb[:], n)
			for _, b := range vb[:k] {
				w.put(uint32(b), 8)
			}
		}
	}
	return w.flush()
}

type bitReader struct {
	in  []byte
	pos uint // bit position
}

func (r *bitReader) bit() uint64 {
	if r.pos >= uint(len(r.in))*8 {
		r.pos++
		return 0
	}
	b := uint64(r.in[r.pos/8]>>(r.pos%8)) & 1
	r.pos++
	return b
}

func (r *bitReader) bits(n uint) uint64 {
	var v uint64
	for i := uint(0); i < n; i++ {
		v |= r.bit() << i
	}
	return v
}

func (r *bitReader) done() bool { return r.pos >= uint(len(r.in))*8 }

var errRLE = errors.New("allocation trailer is not a valid RLE+ bitfield")

// decodeRLE decodes a trailer into an allocation map, rejecting runs past limit.
func decodeRLE(buf []byte, limit uint64) (spans, error) {
	if len(buf) == 0 || (len(buf) == 1 && buf[0] == 0) {
		return nil, nil
	}
	r := &bitReader{in: buf}
	if v := r.bits(2); v != 0 {
		return nil, fmt.Errorf("%w: version %d", errRLE, v)
	}
	val := r.bit() == 1
	var out spans
	var pos uint64
	for !r.done() {
		n, err := readRun(r)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		if pos+n < pos || pos+n > limit {
			return nil, fmt.Errorf("%w: run to byte %d is past the %d-byte sector", errRLE, pos+n, limit)
		}
		if val {
			out = append(out, Span{pos, n})
		}
		pos += n
		val = !val
	}
	return out, nil
}

func readRun(r *bitReader) (uint64, error) {
	if r.bit() == 1 {
		return 1, nil
	}
	if r.bit() == 1 {
		return r.bits(4), nil
	}
	var x uint64
	for i, s := 0, uint(0); ; i, s = i+1, s+7 {
		if i == binary.MaxVarintLen64 {
			return 0, fmt.Errorf("%w: run length overflows", errRLE)
		}
		b := r.bits(8)
		x |= (b & 0x7f) << s
		if b < 0x80 {
			return x, nil
		}
	}
}
