// Package native is sealfleet's pure-Go sealing backend: AddPiece and ReadPiece on fr32-padded unsealed files
// (seal/partialfile), PC1 with SDR labeling (seal/sdr), PC2 and C1 (seal/porep), C2 through a pluggable Prover,
// unsealing and finalizing. Everything up to and including C1 is bit-identical to rust-fil-proofs.
package native

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal"
	"sealfleet/seal/commp"
	"sealfleet/seal/partialfile"
	"sealfleet/seal/sdr"
	"sealfleet/storiface"
)

// Config configures the native backend.
type Config struct {
	// ParentsCacheDir holds the SDR parents cache files ("" means sdr.DefaultParentsCacheDir()).
	ParentsCacheDir string
	// Prover turns C1 output into a proof (nil means the VanillaProver, which the chain does not accept).
	Prover Prover
	// Logger receives the backend's logs (nil means slog.Default()).
	Logger *slog.Logger
}

// Backend is the native seal.Backend. It keeps parents caches open (memory-mapped) across sectors.
type Backend struct {
	cfg    Config
	prover Prover
	log    *slog.Logger

	mu      sync.Mutex
	parents map[sdr.Config]*sdr.ParentsCache
}

var _ seal.Backend = (*Backend)(nil)

// New returns a native backend.
func New(cfg Config) *Backend {
	b := &Backend{cfg: cfg, prover: cfg.Prover, log: cfg.Logger, parents: map[sdr.Config]*sdr.ParentsCache{}}
	if b.prover == nil {
		b.prover = VanillaProver{}
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("component", "seal/native")
	return b
}

// Close unmaps the parents caches.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var first error
	for k, pc := range b.parents {
		if err := pc.Close(); err != nil && first == nil {
			first = err
		}
		delete(b.parents, k)
	}
	return first
}

// parentsCache returns the open parents cache of a graph, opening (and if needed generating) it once.
func (b *Backend) parentsCache(cfg sdr.Config) (*sdr.ParentsCache, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if pc, ok := b.parents[cfg]; ok {
		return pc, nil
	}
	pc, err := sdr.OpenParentsCache(b.cfg.ParentsCacheDir, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening parents cache: %w", err)
	}
	b.parents[cfg] = pc
	return pc, nil
}

// DataCid computes the piece commitment of size bytes of data.
func (b *Backend) DataCid(ctx context.Context, size abi.UnpaddedPieceSize, data io.Reader) (abi.PieceInfo, error) {
	return commp.GeneratePieceCID(data, size)
}

// AddPiece writes a piece into the sector's unsealed file; a nil data adds a zero piece without writing.
func (b *Backend) AddPiece(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths, existing []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize, data io.Reader) (abi.PieceInfo, error) {
	ssize, err := sectorSize(sector)
	if err != nil {
		return abi.PieceInfo{}, err
	}
	if paths.Unsealed == "" {
		return abi.PieceInfo{}, fmt.Errorf("add piece to %s: no unsealed path acquired", sector)
	}
	return partialfile.AddPiece(ctx, paths.Unsealed, ssize, existing, size, data)
}

// ReadPiece writes the original bytes of an unpadded range of the unsealed file to w.
func (b *Backend) ReadPiece(ctx context.Context, w io.Writer, sector storiface.SectorRef, paths storiface.SectorPaths, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) error {
	ssize, err := sectorSize(sector)
	if err != nil {
		return err
	}
	if paths.Unsealed == "" {
		return fmt.Errorf("read piece of %s: no unsealed path acquired", sector)
	}
	return partialfile.ReadPiece(ctx, w, paths.Unsealed, ssize, offset, size)
}

func sectorSize(sector storiface.SectorRef) (abi.SectorSize, error) {
	ssize, err := sector.ProofType.SectorSize()
	if err != nil {
		return 0, fmt.Errorf("sector %s: proof type %d: %w", sector, sector.ProofType, err)
	}
	return ssize, nil
}
