package partialfile

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"
)

// BenchmarkAddPiece writes one 8MiB-sector piece of non-zero data (pad + CommP + write + fsync) and reads it
// back.
func BenchmarkAddPiece(b *testing.B) {
	const sector = abi.SectorSize(8 << 20)
	size := abi.PaddedPieceSize(sector).Unpadded()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*31 + 1)
	}
	dir := b.TempDir()
	b.SetBytes(int64(size))
	b.Run("add", func(b *testing.B) {
		b.SetBytes(int64(size))
		i := 0
		for b.Loop() {
			path := filepath.Join(dir, "add", string(rune('a'+i%26)))
			i++
			_ = mkdirAll(filepath.Dir(path))
			removeFile(path)
			if _, err := AddPiece(context.Background(), path, sector, nil, size, bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	path := filepath.Join(dir, "read")
	if _, err := AddPiece(context.Background(), path, sector, nil, size, bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	b.Run("read", func(b *testing.B) {
		b.SetBytes(int64(size))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := ReadPiece(context.Background(), &buf, path, sector, 0, size); err != nil {
				b.Fatal(err)
			}
		}
	})
}
