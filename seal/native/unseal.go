package native

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/seal/partialfile"
	"sealfleet/seal/porep"
	"sealfleet/seal/sdr"
	"sealfleet/storiface"
)

// unsealChunk is how many bytes of sealed data and key are decoded at a time (bounded memory).
const unsealChunk = 1 << 20

// UnsealPiece decodes the unpadded range [offset, offset+size) of the replica back into the unsealed file
// (created if absent) and marks it allocated. The key is the last SDR layer: taken from the cache when the layers
// are still there, otherwise regenerated from the ticket and CommD into a temporary directory removed afterwards.
func (b *Backend) UnsealPiece(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) error {
	ssize, err := sectorSize(sector)
	if err != nil {
		return err
	}
	if err := offset.Valid(); err != nil {
		return storiface.Err(storiface.ErrBadInput, fmt.Errorf("unseal offset: %w", err))
	}
	if err := size.Validate(); err != nil {
		return storiface.Err(storiface.ErrBadInput, fmt.Errorf("unseal size: %w", err))
	}
	off, psize := offset.Padded(), size.Padded()
	if uint64(off)+uint64(psize) > uint64(ssize) {
		return storiface.Errf(storiface.ErrBadInput, "unseal range %d+%d (padded) is past the sector end %d", off, psize, ssize)
	}
	t, err := ticket32("ticket", ticket)
	if err != nil {
		return storiface.Err(storiface.ErrBadInput, err)
	}
	dBytes, err := commcid.CIDToDataCommitmentV1(commD)
	if err != nil {
		return storiface.Err(storiface.ErrBadInput, fmt.Errorf("commD %s: %w", commD, err))
	}
	var d [32]byte
	copy(d[:], dBytes)
	if paths.Sealed == "" || paths.Unsealed == "" || paths.Cache == "" {
		return fmt.Errorf("unseal %s needs sealed, unsealed and cache paths", sector)
	}
	keyPath, cleanup, err := b.lastLayer(ctx, sector, paths.Cache, t, d)
	if err != nil {
		return fmt.Errorf("unseal %s: %w", sector, err)
	}
	defer cleanup()
	return decodeRange(ctx, paths, ssize, keyPath, off, psize)
}

// lastLayer returns the path of the sector's last layer file, relabeling into a temporary directory if needed.
func (b *Backend) lastLayer(ctx context.Context, sector storiface.SectorRef, cacheDir string, ticket, commD [32]byte) (string, func(), error) {
	cfg, err := sdr.ConfigFor(sector.ProofType)
	if err != nil {
		return "", nil, err
	}
	name := sdr.LayerFileName(cfg.Layers)
	if st, err := os.Stat(filepath.Join(cacheDir, name)); err == nil && uint64(st.Size()) == cfg.Nodes*sdr.NodeSize {
		return filepath.Join(cacheDir, name), func() {}, nil
	}
	replicaID, err := ReplicaIDFor(sector, ticket, commD)
	if err != nil {
		return "", nil, err
	}
	pc, err := b.parentsCache(cfg)
	if err != nil {
		return "", nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(cacheDir), ".unseal-"+filepath.Base(cacheDir)+"-")
	if err != nil {
		return "", nil, fmt.Errorf("creating relabel dir: %w", err)
	}
	cleanup := func() { os.RemoveAll(tmp) }
	if err := sdr.Label(ctx, cfg, pc, replicaID, tmp); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("regenerating labels: %w", err)
	}
	return filepath.Join(tmp, name), cleanup, nil
}

// decodeRange writes data = sealed − key (mod r) for the padded range into the unsealed file and marks it allocated.
func decodeRange(ctx context.Context, paths storiface.SectorPaths, ssize abi.SectorSize, keyPath string, off storiface.PaddedByteIndex, psize abi.PaddedPieceSize) error {
	sealed, err := os.Open(paths.Sealed)
	if err != nil {
		return fmt.Errorf("opening sealed file: %w", err)
	}
	defer sealed.Close()
	key, err := os.Open(keyPath)
	if err != nil {
		return fmt.Errorf("opening last layer: %w", err)
	}
	defer key.Close()
	pf, err := partialfile.Open(paths.Unsealed, abi.PaddedPieceSize(ssize))
	if errors.Is(err, os.ErrNotExist) {
		pf, err = partialfile.Create(paths.Unsealed, abi.PaddedPieceSize(ssize))
	}
	if err != nil {
		return fmt.Errorf("opening unsealed file: %w", err)
	}
	defer pf.Close()
	w, err := pf.Writer(off, psize)
	if err != nil {
		return err
	}
	sbuf, kbuf, dbuf := make([]byte, unsealChunk), make([]byte, unsealChunk), make([]byte, unsealChunk)
	for pos := uint64(0); pos < uint64(psize); pos += unsealChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(uint64(unsealChunk), uint64(psize)-pos)
		at := int64(uint64(off) + pos)
		if _, err := sealed.ReadAt(sbuf[:n], at); err != nil && err != io.EOF {
			return fmt.Errorf("reading sealed file: %w", err)
		}
		if _, err := key.ReadAt(kbuf[:n], at); err != nil && err != io.EOF {
			return fmt.Errorf("reading last layer: %w", err)
		}
		for i := uint64(0); i < n; i += 32 {
			if err := porep.DecodeNode(dbuf[i:i+32], sbuf[i:i+32], kbuf[i:i+32]); err != nil {
				return fmt.Errorf("decoding node %d: %w", (uint64(off)+pos+i)/32, err)
			}
		}
		if _, err := w.Write(dbuf[:n]); err != nil {
			return fmt.Errorf("writing unsealed data: %w", err)
		}
	}
	return pf.MarkAllocated(off, psize)
}

// Relabel regenerates every SDR layer of a sector into dir from its ticket and CommD (for verification).
func (b *Backend) Relabel(ctx context.Context, sector storiface.SectorRef, ticket, commD [32]byte, dir string) error {
	cfg, err := sdr.ConfigFor(sector.ProofType)
	if err != nil {
		return err
	}
	replicaID, err := ReplicaIDFor(sector, ticket, commD)
	if err != nil {
		return err
	}
	pc, err := b.parentsCache(cfg)
	if err != nil {
		return err
	}
	return sdr.Label(ctx, cfg, pc, replicaID, dir)
}
