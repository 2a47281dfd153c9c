package sdr

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// ParentsCache is a memory-mapped, read-only parents cache file: for every node its TotalParents parents as
// little-endian u32 (base then expander). Parents returns slices into the mapping, so the cache must stay open
// while they are used. A ParentsCache is safe for concurrent readers.
type ParentsCache struct {
	cfg     Config
	path    string
	digest  [32]byte
	data    []byte
	parents []uint32

	closeMu sync.Mutex
	// refs counts the gatherer goroutines using the mapping (retain); a Close while some are still running
	// (starved of CPU after their layer ended) only marks the cache closing, and the last release unmaps it.
	refs    int
	closing bool
}

// verifiedCache remembers cache files whose digest this process has checked, so opening the same unchanged
// file again (PC1, then C1) does not hash it again.
type verifiedCache struct {
	size    int64
	modTime time.Time
	digest  [32]byte
}

var (
	verifiedMu sync.Mutex
	verified   = map[string]verifiedCache{}
	pathLocks  sync.Map // path → *sync.Mutex: one opener/generator per file in this process
)

// OpenParentsCache opens cfg's parents cache in dir (DefaultParentsCacheDir when dir is ""), named like the
// reference (ParentsCacheFileName). A missing file is generated with all cores. An existing file is trusted only
// after its SHA-256 matches the digest rust-fil-proofs publishes for the graph (parent_cache.json) or, for graphs
// without a published digest (synthetic, test sizes), the digest recorded in the "<name>.sha256" sidecar when
// this package generated it. A file of the wrong size, with a wrong digest or without any digest to check is
// logged, deleted and regenerated; if regenerating does not produce the published digest, OpenParentsCache fails.
// Checking and generating hold an exclusive flock on "<name>.lock", so processes sharing the directory generate
// it once; a read-only directory with a good cache file is used without the lock.
func OpenParentsCache(dir string, cfg Config) (*ParentsCache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		return nil, errors.New("parents cache: mapping u32 entries directly needs a little-endian machine")
	}
	if dir == "" {
		d, err := DefaultParentsCacheDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating parents cache dir: %w", err)
	}
	path := filepath.Join(dir, ParentsCacheFileName(cfg))
	mu, _ := pathLocks.LoadOrStore(path, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		// A read-only directory holding a good cache is fine: only generating needs the lock.
		if c, verr := openVerified(path, cfg); verr == nil {
			return c, nil
		}
		return nil, err
	}
	defer unlock()

	c, err := openVerified(path, cfg)
	if err == nil {
		return c, nil
	}
	log := slog.Default().With("component", "sdr", "file", path)
	if !errors.Is(err, fs.ErrNotExist) {
		log.Warn("parents cache not trusted, regenerating", "reason", err)
	} else {
		log.Info("generating parents cache", "nodes", cfg.Nodes)
	}
	_ = os.Remove(path)
	start := time.Now()
	digest, err := WriteParentsCache(context.Background(), path, cfg)
	if err != nil {
		return nil, err
	}
	if _, known := KnownParentsCacheDigest(cfg); !known {
		if err := writeDigestFile(path, digest); err != nil {
			return nil, err
		}
	}
	log.Info("parents cache generated", "seconds", time.Since(start).Seconds(), "sha256", fmt.Sprintf("%x", digest))
	return openVerified(path, cfg)
}

// openVerified maps path and checks its size and digest; an error wrapping fs.ErrNotExist means "absent".
func openVerified(path string, cfg Config) (*ParentsCache, error) {
	want, ok := KnownParentsCacheDigest(cfg)
	if !ok {
		want, ok = readDigestFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if uint64(st.Size()) != ParentsCacheSize(cfg) {
		return nil, fmt.Errorf("size %d bytes, want %d", st.Size(), ParentsCacheSize(cfg))
	}
	if !ok {
		return nil, errors.New("no published or recorded digest to check it against")
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping parents cache: %w", err)
	}
	verifiedMu.Lock()
	memo, seen := verified[path]
	verifiedMu.Unlock()
	if !seen || memo.size != st.Size() || !memo.modTime.Equal(st.ModTime()) || memo.digest != want {
		if got := sha256.Sum256(data); got != want {
			_ = syscall.Munmap(data)
			return nil, fmt.Errorf("digest %x, want %x", got, want)
		}
		verifiedMu.Lock()
		verified[path] = verifiedCache{size: st.Size(), modTime: st.ModTime(), digest: want}
		verifiedMu.Unlock()
	}
	return &ParentsCache{
		cfg:     cfg,
		path:    path,
		digest:  want,
		data:    data,
		parents: unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(data))), len(data)/4),
	}, nil
}

// lockFile takes an exclusive flock on name (created if needed) and returns its release.
func lockFile(name string) (func(), error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening parents cache lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking parents cache: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Parents returns the TotalParents parents of node (base then expander) as a slice into the mapping: no copy,
// valid until Close. node must be below the graph's node count.
func (c *ParentsCache) Parents(node uint64) []uint32 {
	i := node * TotalParents
	return c.parents[i : i+TotalParents : i+TotalParents]
}

// Config returns the graph configuration of the cache.
func (c *ParentsCache) Config() Config { return c.cfg }

// Path returns the cache file's path.
func (c *ParentsCache) Path() string { return c.path }

// Digest returns the verified SHA-256 of the cache file.
func (c *ParentsCache) Digest() [32]byte { return c.digest }

// closed reports whether Close has been called.
func (c *ParentsCache) closed() bool {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.data == nil || c.closing
}

// retain keeps the mapping until the matching release, even past Close; it reports false if the cache is
// already closed.
func (c *ParentsCache) retain() bool {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.data == nil || c.closing {
		return false
	}
	c.refs++
	return true
}

// release drops a retain; the last one after Close unmaps the file.
func (c *ParentsCache) release() {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.refs--; c.refs == 0 && c.closing {
		_ = c.unmapLocked()
	}
}

// Close unmaps the file, or, while a gatherer still holds it (retain), leaves that to its release. Slices
// returned by Parents must not be used afterwards. Close is idempotent.
func (c *ParentsCache) Close() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.data == nil || c.closing {
		return nil
	}
	c.closing = true
	if c.refs > 0 {
		return nil
	}
	return c.unmapLocked()
}

// unmapLocked unmaps the file (closeMu held).
func (c *ParentsCache) unmapLocked() error {
	err := syscall.Munmap(c.data)
	c.data, c.parents = nil, nil
	if err != nil {
		return fmt.Errorf("unmapping parents cache: %w", err)
	}
	return nil
}
