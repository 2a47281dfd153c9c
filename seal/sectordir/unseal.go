package sectordir

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/native"
	"sealfleet/storiface"
)

// Unseal decodes the sector in dir from its sealed file (never from an unsealed copy) and writes the original
// payload — dataSize bytes, or the whole sector's capacity for a CC sector — to w.
func Unseal(ctx context.Context, b *native.Backend, dir string, w io.Writer) error {
	rec, err := ReadRecord(dir)
	if err != nil {
		return err
	}
	pub, cids, err := rec.Public()
	if err != nil {
		return err
	}
	ssize, err := rec.ProofType.SectorSize()
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp(dir, ".unseal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	paths := Paths(dir, pub.Sector.ID)
	paths.Unsealed = filepath.Join(scratch, storiface.SectorName(pub.Sector.ID))
	capacity := abi.PaddedPieceSize(ssize).Unpadded()
	if err := b.UnsealPiece(ctx, pub.Sector, paths, 0, capacity, pub.Ticket[:], cids.Unsealed); err != nil {
		return fmt.Errorf("unsealing: %w", err)
	}
	size := abi.UnpaddedPieceSize(rec.DataSize)
	if size == 0 {
		size = capacity
	}
	return b.ReadPiece(ctx, w, pub.Sector, paths, 0, size)
}
