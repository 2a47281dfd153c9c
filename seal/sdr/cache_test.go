package sdr

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"
)

// forgetVerified drops the in-process digest memo so the next open hashes the file again.
func forgetVerified() {
	verifiedMu.Lock()
	defer verifiedMu.Unlock()
	clear(verified)
}

func TestParentsCachePublishedDigests(t *testing.T) {
	// Digests from rust-fil-proofs storage-proofs-porep/parent_cache.json for the 2KiB and 8MiB graphs, V1 and
	// V1_1 (WriteParentsCache refuses a generated file that does not match).
	tests := []struct {
		proof abi.RegisteredSealProof
	}{
		{abi.RegisteredSealProof_StackedDrg2KiBV1},
		{abi.RegisteredSealProof_StackedDrg2KiBV1_1},
		{abi.RegisteredSealProof_StackedDrg8MiBV1},
		{abi.RegisteredSealProof_StackedDrg8MiBV1_1},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(fmt.Sprint(int64(tc.proof)), func(t *testing.T) {
			cfg, err := ConfigFor(tc.proof)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := KnownParentsCacheDigest(cfg)
			if !ok {
				t.Fatal("no published digest")
			}
			c, err := OpenParentsCache(dir, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Digest() != want {
				t.Fatalf("digest %x, want %x", c.Digest(), want)
			}
			g, err := NewGraph(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var p [TotalParents]uint32
			for v := uint64(0); v < cfg.Nodes; v += 1 + cfg.Nodes/512 {
				g.Parents(v, &p)
				if got := c.Parents(v); string(u32bytes(got)) != string(u32bytes(p[:])) {
					t.Fatalf("node %d: cache %v, graph %v", v, got, p)
				}
			}
		})
	}
}

func u32bytes(p []uint32) []byte {
	b := make([]byte, 0, 4*len(p))
	for _, x := range p {
		b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
	}
	return b
}

func TestParentsCacheRecovers(t *testing.T) {
	known, _ := ConfigFor(abi.RegisteredSealProof_StackedDrg2KiBV1_1)
	unknown, _ := ConfigFor(abi.RegisteredSealProof_StackedDrg2KiBV1_1_Feat_SyntheticPoRep)
	tests := []struct {
		name    string
		cfg     Config
		corrupt func(t *testing.T, path string)
	}{
		{"flipped byte, published digest", known, flipByte},
		{"truncated, published digest", known, truncate},
		{"flipped byte, sidecar digest", unknown, flipByte},
		{"sidecar missing", unknown, func(t *testing.T, path string) { mustRemove(t, digestFileName(path)) }},
		{"sidecar garbage", unknown, func(t *testing.T, path string) {
			if err := os.WriteFile(digestFileName(path), []byte("zz"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := OpenParentsCache(dir, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			good := c.Digest()
			path := c.Path()
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			tc.corrupt(t, path)
			forgetVerified()
			c, err = OpenParentsCache(dir, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Digest() != good {
				t.Fatalf("digest after recovery %x, want %x", c.Digest(), good)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if uint64(len(b)) != ParentsCacheSize(tc.cfg) {
				t.Fatalf("file has %d bytes", len(b))
			}
			if d, ok := readDigestFile(path); !ok && tc.cfg == unknown {
				t.Fatal("sidecar not rewritten")
			} else if ok && d != good {
				t.Fatalf("sidecar %x", d)
			}
			left, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*"))
			if len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

func flipByte(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string) {
	if err := os.Truncate(path, 100); err != nil {
		t.Fatal(err)
	}
}

func mustRemove(t *testing.T, path string) {
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func TestWriteParentsCache(t *testing.T) {
	// A bad config writes nothing; a graph without a published digest is written and its digest returned.
	dir := t.TempDir()
	path := filepath.Join(dir, "x.cache")
	if _, err := WriteParentsCache(t.Context(), path, Config{Nodes: 1}); err == nil {
		t.Fatal("accepted Nodes = 1")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file left behind: %v", err)
	}
	cfg := Config{Nodes: 64, Layers: 2, PoRepID: [32]byte{9}, Version: V1_1}
	d, err := WriteParentsCache(t.Context(), path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(b) != d || uint64(len(b)) != ParentsCacheSize(cfg) {
		t.Fatalf("file (%d bytes) does not match returned digest %s", len(b), hex.EncodeToString(d[:]))
	}
}

func TestOpenParentsCacheConcurrently(t *testing.T) {
	// Several openers of a missing cache in one directory: one generates, all get the same verified file.
	cfg := Config{Nodes: 1 << 12, Layers: 2, PoRepID: [32]byte{31}, Version: V1_1}
	dir := t.TempDir()
	const openers = 4
	digests := make([][32]byte, openers)
	errs := make([]error, openers)
	var wg sync.WaitGroup
	for i := 0; i < openers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := OpenParentsCache(dir, cfg)
			if err != nil {
				errs[i] = err
				return
			}
			digests[i] = c.Digest()
			errs[i] = c.Close()
		}(i)
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if digests[i] != digests[0] {
			t.Fatalf("opener %d saw digest %x, opener 0 %x", i, digests[i], digests[0])
		}
	}
}

func TestOpenParentsCacheReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	cfg := Config{Nodes: 64, Layers: 2, PoRepID: [32]byte{32}, Version: V1_1}
	dir := t.TempDir()
	c, err := OpenParentsCache(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	mustRemove(t, c.Path()+".lock")
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	forgetVerified()
	c, err = OpenParentsCache(dir, cfg)
	if err != nil {
		t.Fatalf("read-only dir with a good cache: %v", err)
	}
	c.Close()
}
