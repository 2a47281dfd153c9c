package workertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/seal"
	"sealfleet/storiface"
)

// Backend is a fast seal.Backend that writes small files with the reference's names and derives every output
// from a SHA-256 of its inputs. It counts calls per method, and Hold makes calls of one method wait until
// released (or their context ends), so tests can observe running work without sleeping.
type Backend struct {
	mu      sync.Mutex
	calls   map[string]int
	gates   map[string]chan struct{}
	Entered chan string // receives the method name when a held call starts waiting
}

var _ seal.Backend = (*Backend)(nil)

// NewBackend returns a backend with no holds.
func NewBackend() *Backend {
	return &Backend{calls: map[string]int{}, gates: map[string]chan struct{}{}, Entered: make(chan string, 64)}
}

// Calls returns how many times method has been called.
func (b *Backend) Calls(method string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[method]
}

// Hold makes later calls of method wait; the returned func releases them (and later calls run freely).
func (b *Backend) Hold(method string) (release func()) {
	ch := make(chan struct{})
	b.mu.Lock()
	b.gates[method] = ch
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.gates, method)
			b.mu.Unlock()
			close(ch)
		})
	}
}

func (b *Backend) enter(ctx context.Context, method string) error {
	b.mu.Lock()
	b.calls[method]++
	gate := b.gates[method]
	b.mu.Unlock()
	if gate == nil {
		return nil
	}
	b.Entered <- method
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func digest(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	d := h.Sum(nil)
	d[31] &= 0x3f // a valid Fr element, as real commitments are
	return d
}

// DataCid hashes the data.
func (b *Backend) DataCid(ctx context.Context, size abi.UnpaddedPieceSize, data io.Reader) (abi.PieceInfo, error) {
	if err := b.enter(ctx, "DataCid"); err != nil {
		return abi.PieceInfo{}, err
	}
	buf, err := io.ReadAll(data)
	if err != nil {
		return abi.PieceInfo{}, err
	}
	return pieceInfo(size, buf)
}

func pieceInfo(size abi.UnpaddedPieceSize, buf []byte) (abi.PieceInfo, error) {
	if uint64(len(buf)) != uint64(size) {
		return abi.PieceInfo{}, fmt.Errorf("piece has %d bytes, want %d", len(buf), size)
	}
	c, err := commcid.PieceCommitmentV1ToCID(digest(buf))
	if err != nil {
		return abi.PieceInfo{}, err
	}
	return abi.PieceInfo{Size: size.Padded(), PieceCID: c}, nil
}

// AddPiece appends the piece's bytes to the unsealed file.
func (b *Backend) AddPiece(ctx context.Context, _ storiface.SectorRef, paths storiface.SectorPaths, _ []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize, data io.Reader) (abi.PieceInfo, error) {
	if err := b.enter(ctx, "AddPiece"); err != nil {
		return abi.PieceInfo{}, err
	}
	buf, err := io.ReadAll(data)
	if err != nil {
		return abi.PieceInfo{}, err
	}
	f, err := os.OpenFile(paths.Unsealed, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return abi.PieceInfo{}, err
	}
	defer f.Close()
	if _, err := f.Write(buf); err != nil {
		return abi.PieceInfo{}, err
	}
	return pieceInfo(size, buf)
}

// SealPreCommit1 copies unsealed to sealed and writes cache/p_aux.
func (b *Backend) SealPreCommit1(ctx context.Context, _ storiface.SectorRef, paths storiface.SectorPaths, ticket abi.SealRandomness, _ []abi.PieceInfo) (storiface.PreCommit1Out, error) {
	if err := b.enter(ctx, "SealPreCommit1"); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(paths.Unsealed)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(paths.Sealed, data, 0o644); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(paths.Cache, 0o755); err != nil {
		return nil, err
	}
	out := digest(data, ticket)
	return out, os.WriteFile(filepath.Join(paths.Cache, "p_aux"), out, 0o644)
}

// SealPreCommit2 derives the commitments from the PreCommit1 output.
func (b *Backend) SealPreCommit2(ctx context.Context, _ storiface.SectorRef, paths storiface.SectorPaths, pc1o storiface.PreCommit1Out) (storiface.SectorCids, error) {
	if err := b.enter(ctx, "SealPreCommit2"); err != nil {
		return storiface.SectorCids{}, err
	}
	aux, err := os.ReadFile(filepath.Join(paths.Cache, "p_aux"))
	if err != nil {
		return storiface.SectorCids{}, err
	}
	if !bytes.Equal(aux, pc1o) {
		return storiface.SectorCids{}, fmt.Errorf("p_aux does not match the PreCommit1 output")
	}
	d, err := commcid.DataCommitmentV1ToCID(digest(pc1o, []byte("d")))
	if err != nil {
		return storiface.SectorCids{}, err
	}
	r, err := commcid.ReplicaCommitmentV1ToCID(digest(pc1o, []byte("r")))
	if err != nil {
		return storiface.SectorCids{}, err
	}
	return storiface.SectorCids{Unsealed: d, Sealed: r}, nil
}

// SealCommit1 hashes the seed with the sealed commitment.
func (b *Backend) SealCommit1(ctx context.Context, _ storiface.SectorRef, paths storiface.SectorPaths, _ abi.SealRandomness, seed abi.InteractiveSealRandomness, _ []abi.PieceInfo, cids storiface.SectorCids) (storiface.Commit1Out, error) {
	if err := b.enter(ctx, "SealCommit1"); err != nil {
		return nil, err
	}
	if _, err := os.Stat(paths.Sealed); err != nil {
		return nil, err
	}
	return digest(seed, cids.Sealed.Bytes()), nil
}

// SealCommit2 hashes the Commit1 output.
func (b *Backend) SealCommit2(ctx context.Context, _ storiface.SectorRef, c1o storiface.Commit1Out) (storiface.Proof, error) {
	if err := b.enter(ctx, "SealCommit2"); err != nil {
		return nil, err
	}
	return digest(c1o), nil
}

// FinalizeSector writes a marker in the cache.
func (b *Backend) FinalizeSector(ctx context.Context, _ storiface.SectorRef, paths storiface.SectorPaths) error {
	if err := b.enter(ctx, "FinalizeSector"); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(paths.Cache, "finalized"), nil, 0o644)
}

// UnsealPiece copies sealed to unsealed.
func (b *Backend) UnsealPiece(ctx context.Context, _ storiface.SectorRef, paths storiface.SectorPaths, _ storiface.UnpaddedByteIndex, _ abi.UnpaddedPieceSize, _ abi.SealRandomness, _ cid.Cid) error {
	if err := b.enter(ctx, "UnsealPiece"); err != nil {
		return err
	}
	data, err := os.ReadFile(paths.Sealed)
	if err != nil {
		return err
	}
	return os.WriteFile(paths.Unsealed, data, 0o644)
}

// ReadPiece copies a range of the unsealed file.
func (b *Backend) ReadPiece(ctx context.Context, w io.Writer, _ storiface.SectorRef, paths storiface.SectorPaths, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) error {
	if err := b.enter(ctx, "ReadPiece"); err != nil {
		return err
	}
	f, err := os.Open(paths.Unsealed)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, io.NewSectionReader(f, int64(offset), int64(size)))
	return err
}
