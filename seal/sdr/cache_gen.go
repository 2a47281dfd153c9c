package sdr

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// cacheEntryBytes is the size of one node's entry in a parents cache file: TotalParents little-endian u32.
const cacheEntryBytes = TotalParents * 4

// genChunkNodes is the unit of work handed to a generator goroutine.
const genChunkNodes = 1 << 14

// ParentsCacheSize returns the size in bytes of cfg's parents cache file (56 bytes per node).
func ParentsCacheSize(cfg Config) uint64 { return cfg.Nodes * cacheEntryBytes }

// FillParents writes the parents cache of g into dst (len = ParentsCacheSize) using workers goroutines
// (runtime.GOMAXPROCS when workers <= 0). Each node's entry is its TotalParents parents as little-endian u32, in
// Parents order, exactly as storage-proofs-porep stacked/vanilla/cache.rs generate writes it.
func FillParents(ctx context.Context, g *Graph, dst []byte, workers int) error {
	if uint64(len(dst)) != ParentsCacheSize(g.cfg) {
		return fmt.Errorf("filling parents: buffer has %d bytes, want %d", len(dst), ParentsCacheSize(g.cfg))
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Uint64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var p [TotalParents]uint32
			for {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				start := next.Add(genChunkNodes) - genChunkNodes
				if start >= g.cfg.Nodes {
					return
				}
				end := min(start+genChunkNodes, g.cfg.Nodes)
				for v := start; v < end; v++ {
					g.Parents(v, &p)
					e := dst[v*cacheEntryBytes : (v+1)*cacheEntryBytes]
					for i, q := range p {
						binary.LittleEndian.PutUint32(e[4*i:], q)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// WriteParentsCache generates cfg's parents cache into path (written under a temporary name, then renamed) and
// returns its SHA-256. If rust-fil-proofs publishes a digest for cfg and the generated file does not
// match it, nothing is left at path and an error is returned.
func WriteParentsCache(ctx context.Context, path string, cfg Config) ([32]byte, error) {
	var digest [32]byte
	g, err := NewGraph(cfg)
	if err != nil {
		return digest, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return digest, fmt.Errorf("creating parents cache dir: %w", err)
	}
	tmp := fmt.Sprintf("%s.tmp-%d-%d", path, os.Getpid(), time.Now().UnixNano())
	digest, err = writeParentsFile(ctx, tmp, g)
	if err != nil {
		_ = os.Remove(tmp)
		return digest, err
	}
	if want, ok := KnownParentsCacheDigest(cfg); ok && want != digest {
		_ = os.Remove(tmp)
		return digest, fmt.Errorf("generated parents cache %s has digest %x, rust-fil-proofs publishes %x",
			filepath.Base(path), digest, want)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return digest, fmt.Errorf("installing parents cache: %w", err)
	}
	return digest, nil
}

// writeParentsFile creates name, fills it through a shared writable mapping and returns its digest.
func writeParentsFile(ctx context.Context, name string, g *Graph) ([32]byte, error) {
	var digest [32]byte
	size := ParentsCacheSize(g.cfg)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return digest, fmt.Errorf("creating parents cache: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(int64(size)); err != nil {
		return digest, fmt.Errorf("sizing parents cache to %d bytes: %w", size, err)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_SHARED|mapPopulate) // one bulk fault-in instead of one fault per page
	if err != nil {
		return digest, fmt.Errorf("mapping parents cache: %w", err)
	}
	defer syscall.Munmap(data)
	if err := FillParents(ctx, g, data, 0); err != nil {
		return digest, fmt.Errorf("generating parents cache: %w", err)
	}
	// No fsync: every open hashes the file before trusting it, so a file damaged by a crash before writeback is
	// detected and regenerated; waiting for ~1 GB to reach a 100 MB/s disk would double the generation time.
	digest = sha256.Sum256(data)
	return digest, nil
}

// digestFileName is the sidecar holding the hex SHA-256 of a cache file that has no published digest.
func digestFileName(cachePath string) string { return cachePath + ".sha256" }

// writeDigestFile stores digest beside the cache file (temp name, then rename).
func writeDigestFile(cachePath string, digest [32]byte) error {
	name := digestFileName(cachePath)
	tmp := fmt.Sprintf("%s.tmp-%d", name, os.Getpid())
	if err := os.WriteFile(tmp, []byte(hex.EncodeToString(digest[:])+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing parents cache digest: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("installing parents cache digest: %w", err)
	}
	return nil
}

// readDigestFile reads the sidecar digest; ok is false if it is missing or malformed.
func readDigestFile(cachePath string) (digest [32]byte, ok bool) {
	b, err := os.ReadFile(digestFileName(cachePath))
	if err != nil {
		return digest, false
	}
	raw, err := hex.DecodeString(string(trimSpace(b)))
	if err != nil || len(raw) != 32 {
		return digest, false
	}
	copy(digest[:], raw)
	return digest, true
}

// trimSpace drops trailing whitespace.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
