package partialfile

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"
	"sealfleet/storiface"
)

// model is the in-memory truth the fuzz test compares the file with: the unpadded sector bytes and which
// 128-byte padded blocks are allocated.
type model struct {
	data     []byte
	alloc    []bool
	existing []abi.UnpaddedPieceSize
	end      uint64 // padded end of the last piece
}

const fuzzSector = abi.SectorSize(4096)

// FuzzAddReadFree drives AddPiece, ReadPiece and Free with operations decoded from the input and checks every
// result against the model.
func FuzzAddReadFree(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 2, 1, 1, 0, 10, 0, 200})
	f.Add([]byte{0, 4, 2, 1, 0, 0, 0, 3, 3, 2, 5, 1, 1, 0, 0, 1, 255})
	f.Fuzz(func(t *testing.T, ops []byte) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "u")
		usize := int(abi.PaddedPieceSize(fuzzSector).Unpadded())
		m := &model{data: make([]byte, usize), alloc: make([]bool, fuzzSector/128)}
		next := func() int {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return int(b)
		}
		for step := 0; len(ops) > 0 && step < 40; step++ {
			switch next() % 3 {
			case 0:
				m.add(t, ctx, path, next()%6, next()%4, uint64(next()))
			case 1:
				m.read(t, ctx, path, (next()<<8|next())%usize, 1+(next()<<8|next())%usize)
			case 2:
				m.free(t, path, next()%32, 1+next()%8)
			}
		}
	})
}

func (m *model) add(t *testing.T, ctx context.Context, path string, k, kind int, seed uint64) {
	size := abi.UnpaddedPieceSize(127 << k)
	padded := uint64(size.Padded())
	off := (m.end + padded - 1) / padded * padded
	var data []byte
	reader := bytes.NewReader(nil)
	switch kind {
	case 0, 1: // random bytes; 1 is a short reader
		data = randData(rand.New(rand.NewPCG(seed, 9)), int(size))
		reader = bytes.NewReader(data)
		if kind == 1 {
			reader = bytes.NewReader(data[:len(data)-1])
		}
	case 2: // zeros
		data = make([]byte, size)
		reader = bytes.NewReader(data)
	}
	var err error
	if kind == 3 {
		data = make([]byte, size)
		_, err = AddPiece(ctx, path, fuzzSector, m.existing, size, nil)
	} else {
		_, err = AddPiece(ctx, path, fuzzSector, m.existing, size, reader)
	}
	ok := kind != 1 && off+padded <= uint64(fuzzSector)
	for b := m.end / 128; ok && b < (off+padded)/128; b++ {
		ok = !m.alloc[b]
	}
	if ok != (err == nil) {
		t.Fatalf("add %d bytes at %d (kind %d): err = %v, model expects ok=%v", size, off, kind, err, ok)
	}
	if !ok {
		return
	}
	copy(m.data[off/128*127:], data)
	for b := m.end / 128; b < (off+padded)/128; b++ {
		m.alloc[b] = true
	}
	m.end = off + padded
	m.existing = append(m.existing, size)
}

func (m *model) read(t *testing.T, ctx context.Context, path string, off, size int) {
	size = min(size, len(m.data)-off)
	var buf bytes.Buffer
	err := ReadPiece(ctx, &buf, path, fuzzSector, storiface.UnpaddedByteIndex(off), abi.UnpaddedPieceSize(size))
	if len(m.existing) == 0 && err != nil {
		return // no file yet
	}
	ok := true
	for b := off / 127; b < (off+size+126)/127; b++ {
		ok = ok && m.alloc[b]
	}
	if ok != (err == nil) {
		t.Fatalf("read [%d, +%d): err = %v, model expects ok=%v", off, size, err, ok)
	}
	if ok && !bytes.Equal(buf.Bytes(), m.data[off:off+size]) {
		t.Fatalf("read [%d, +%d): bytes differ from the model", off, size)
	}
}

func (m *model) free(t *testing.T, path string, block, blocks int) {
	if len(m.existing) == 0 {
		return
	}
	blocks = min(blocks, len(m.alloc)-block)
	pf, err := Open(path, abi.PaddedPieceSize(fuzzSector))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if err := pf.Free(storiface.PaddedByteIndex(block*128), abi.PaddedPieceSize(blocks*128)); err != nil {
		t.Fatal(err)
	}
	for b := block; b < block+blocks; b++ {
		m.alloc[b] = false
		clear(m.data[b*127 : (b+1)*127])
	}
}
