package merkle

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"sync"
	"testing"
)

// randomLeaves returns n random leaves that are valid field elements.
func randomLeaves(n uint64, seed int64) []byte {
	rng := rand.New(rand.NewSource(seed))
	b := make([]byte, n*NodeSize)
	rng.Read(b)
	for i := uint64(0); i < n; i++ {
		b[i*NodeSize+31] &= 0x3f
	}
	return b
}

func sliceFill(leaves []byte) LeafFunc {
	return func(start uint64, buf []byte) error {
		copy(buf, leaves[start*NodeSize:])
		return nil
	}
}

// naiveLevels computes every level of one full tree by plain recursion.
func naiveLevels(t *testing.T, h Hasher, arity int, leaves []byte) [][]Node {
	var cur []Node
	for i := 0; i < len(leaves); i += NodeSize {
		var n Node
		copy(n[:], leaves[i:])
		cur = append(cur, n)
	}
	levels := [][]Node{cur}
	for len(cur) > 1 {
		next := make([]Node, len(cur)/arity)
		for i := range next {
			n, err := h.Hash(cur[i*arity : (i+1)*arity])
			if err != nil {
				t.Fatal(err)
			}
			next[i] = n
		}
		levels = append(levels, next)
		cur = next
	}
	return levels
}

// TestZeroCommD: the SHA254 binary tree over an all-zero 2KiB sector has the
// 2KiB zero commitment. Source: go-commp-utils `zerocomm/zerocomm.go`
// (PieceComms[0], the 2KiB entry; also the all-zero 2KiB CommD quoted in
// lotus `storage/pipeline` tests as baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy).
func TestZeroCommD(t *testing.T) {
	dir := t.TempDir()
	zero := make([]byte, 64*NodeSize)
	root, err := BuildFile(context.Background(), dir+"/d.dat", SHA254, 2, 64, 0, sliceFill(zero), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833"
	if hex.EncodeToString(root[:]) != want {
		t.Fatalf("root %x, want %s", root, want)
	}
}

func TestBuildMatchesNaive(t *testing.T) {
	cases := []struct {
		name     string
		h        Hasher
		arity    int
		leaves   uint64
		maxChunk uint64
	}{
		{"sha254 one leaf", SHA254, 2, 1, 1 << 19},
		{"sha254 64", SHA254, 2, 64, 1 << 19},
		{"sha254 1024 chunked by 16", SHA254, 2, 1024, 16},
		{"poseidon8 64", Poseidon, 8, 64, 1 << 19},
		{"poseidon8 512 chunked by 8", Poseidon, 8, 512, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaves := randomLeaves(tc.leaves, int64(tc.leaves))
			path := t.TempDir() + "/tree.dat"
			root, err := buildFile(context.Background(), path, tc.h, tc.arity, tc.leaves, 0, sliceFill(leaves), 2, tc.maxChunk, 0)
			if err != nil {
				t.Fatal(err)
			}
			levels := naiveLevels(t, tc.h, tc.arity, leaves)
			top := levels[len(levels)-1][0]
			if root != top {
				t.Fatalf("root %x, naive %x", root, top)
			}
			// Layout: all levels concatenated, leaves first.
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var want []byte
			for _, l := range levels {
				for _, n := range l {
					want = append(want, n[:]...)
				}
			}
			if string(file) != string(want) {
				t.Fatalf("file layout differs from the naive levels (%d vs %d bytes)", len(file), len(want))
			}
			if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
				t.Fatalf("temporary file left behind: %v", err)
			}
		})
	}
}

func TestCompoundAndProofs(t *testing.T) {
	cases := []struct {
		name  string
		nodes uint64
		h     Hasher
		shape Shape
	}{
		{"2KiB", 64, Poseidon, Shape{}},
		{"4KiB 8x2", 128, Poseidon, Shape{}},
		{"16KiB 8x8", 512, Poseidon, Shape{}},
		{"32KiB 8x8x2", 1024, Poseidon, Shape{}},
		{"binary sha254", 256, SHA254, BinaryShape(256)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			shape := tc.shape
			if shape.Leaves == 0 {
				var err error
				if shape, err = ShapeForNodes(tc.nodes); err != nil {
					t.Fatal(err)
				}
			}
			leaves := randomLeaves(tc.nodes, 7)
			dir := t.TempDir()
			paths := shape.FilePaths(dir, "tree-x")
			root, baseRoots, err := BuildTrees(context.Background(), paths, shape, tc.h, sliceFill(leaves), 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(baseRoots) != shape.BaseTrees() {
				t.Fatalf("%d base roots", len(baseRoots))
			}
			// The compound root equals hashing the whole leaf set with the
			// level arities of the shape.
			want := naiveCompound(t, tc.h, shape, leaves)
			if root != want {
				t.Fatalf("root %x, naive %x", root, want)
			}
			tree, err := Open(paths, shape, tc.h)
			if err != nil {
				t.Fatal(err)
			}
			defer tree.Close()
			if tree.Root() != root {
				t.Fatalf("opened root %x, built %x", tree.Root(), root)
			}
			for _, i := range []uint64{0, 1, tc.nodes / 3, tc.nodes/2 + 5, tc.nodes - 1} {
				p, err := tree.Prove(i)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Verify(tc.h, shape, i, root); err != nil {
					t.Fatalf("leaf %d: %v", i, err)
				}
				if string(p.Leaf[:]) != string(leaves[i*NodeSize:(i+1)*NodeSize]) {
					t.Fatalf("leaf %d: wrong leaf in proof", i)
				}
			}
		})
	}
}

// naiveCompound hashes all leaves level by level with the shape's arities.
func naiveCompound(t *testing.T, h Hasher, shape Shape, leaves []byte) Node {
	var cur []Node
	for i := 0; i < len(leaves); i += NodeSize {
		var n Node
		copy(n[:], leaves[i:])
		cur = append(cur, n)
	}
	for _, a := range shape.LevelArities() {
		next := make([]Node, len(cur)/a)
		for i := range next {
			n, err := h.Hash(cur[i*a : (i+1)*a])
			if err != nil {
				t.Fatal(err)
			}
			next[i] = n
		}
		cur = next
	}
	if len(cur) != 1 {
		t.Fatalf("%d nodes left at the top", len(cur))
	}
	return cur[0]
}

func TestProofTampering(t *testing.T) {
	shape, _ := ShapeForNodes(512)
	leaves := randomLeaves(512, 3)
	paths := shape.FilePaths(t.TempDir(), "tree-r-last")
	root, _, err := BuildTrees(context.Background(), paths, shape, Poseidon, sliceFill(leaves), 2)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := Open(paths, shape, Poseidon)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	cases := []struct {
		name    string
		mutate  func(p *Proof)
		isMatch bool // expect ErrRootMismatch
	}{
		{"leaf", func(p *Proof) { p.Leaf[0] ^= 1 }, true},
		{"sibling", func(p *Proof) { p.Path[1][3][2] ^= 1 }, true},
		{"top sibling", func(p *Proof) { p.Path[len(p.Path)-1][0][0] ^= 1 }, true},
		{"index", func(p *Proof) { p.Index++ }, false},
		{"missing level", func(p *Proof) { p.Path = p.Path[:len(p.Path)-1] }, false},
		{"short level", func(p *Proof) { p.Path[0] = p.Path[0][:6] }, false},
		{"root", func(p *Proof) { p.Root[0] ^= 1 }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tree.Prove(77)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(p)
			err = p.Verify(Poseidon, shape, 77, root)
			if err == nil {
				t.Fatal("tampered proof verified")
			}
			if tc.isMatch != errors.Is(err, ErrRootMismatch) {
				t.Fatalf("unexpected error kind: %v", err)
			}
		})
	}
}

func TestOpenRejectsWrongSize(t *testing.T) {
	shape, _ := ShapeForNodes(64)
	paths := shape.FilePaths(t.TempDir(), "tree-c")
	if err := os.WriteFile(paths[0], make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(paths, shape, Poseidon); err == nil {
		t.Fatal("opened a truncated tree")
	}
}

func TestShapeForNodes(t *testing.T) {
	cases := []struct {
		nodes uint64
		base  int
	}{
		{64, 1}, {1 << 30, 8}, {2 << 30, 16}, {1 << 25, 2}, {256 << 10, 1},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.nodes), func(t *testing.T) {
			s, err := ShapeForNodes(tc.nodes)
			if err != nil {
				t.Fatal(err)
			}
			if s.BaseTrees() != tc.base {
				t.Fatalf("%d base trees, want %d", s.BaseTrees(), tc.base)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := ShapeForNodes(100); err == nil {
		t.Fatal("accepted 100 nodes")
	}
}

func BenchmarkBuildPoseidon8(b *testing.B) {
	leaves := randomLeaves(1<<15, 1)
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		if _, err := BuildFile(context.Background(), dir+"/t.dat", Poseidon, 8, 1<<15, 0, sliceFill(leaves), 0); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParallelCoversRange(t *testing.T) {
	cases := []struct{ n, align, workers int }{{0, 1, 2}, {1, 1, 2}, {1000, 1, 2}, {1000, 7, 3}, {5, 8, 2}, {100, 1, 0}}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			seen := make([]int32, tc.n)
			var mu sync.Mutex
			err := Parallel(tc.n, tc.align, tc.workers, func(lo, hi int) error {
				if lo%tc.align != 0 {
					return fmt.Errorf("piece starts at %d, not a multiple of %d", lo, tc.align)
				}
				mu.Lock()
				defer mu.Unlock()
				for i := lo; i < hi; i++ {
					seen[i]++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("index %d visited %d times", i, c)
				}
			}
		})
	}
	if err := Parallel(100, 1, 2, func(lo, hi int) error { return errors.New("boom") }); err == nil {
		t.Fatal("error lost")
	}
}

// TestDefaultDiscard: rust-fil-proofs storage-proofs-core `util.rs::default_rows_to_discard`
// (fixed-rows-to-discard). The 32GiB value 2 also appears in curio's golden t_aux.
func TestDefaultDiscard(t *testing.T) {
	cases := []struct {
		leaves uint64
		arity  int
		want   int
	}{
		{8, 8, 0}, {64, 8, 1}, {1 << 18, 8, 2}, {1 << 24, 8, 2}, {1 << 27, 8, 2},
		{4, 2, 1}, {1 << 30, 2, 7}, {1 << 10, 4, 4}, {1 << 20, 4, 5},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.leaves, "/", tc.arity), func(t *testing.T) {
			if got := DefaultDiscard(tc.leaves, tc.arity); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDiscardedLevels builds trees without their lowest levels (LevelCacheStore layout), checks the file holds
// exactly the upper levels, and that proofs rebuilt from the leaves equal the whole tree's proofs.
func TestDiscardedLevels(t *testing.T) {
	cases := []struct {
		name  string
		nodes uint64
		shape Shape
	}{
		{"2KiB discard 1", 64, Shape{Leaves: 64, BaseArity: 8, Discard: 1}},
		{"8x8 discard 1", 512, Shape{Leaves: 512, BaseArity: 8, SubArity: 8, Discard: 1}},
		{"4096 discard 2", 4096, Shape{Leaves: 4096, BaseArity: 8, Discard: 2}},
		{"8x8x2 discard 2", 1024, Shape{Leaves: 1024, BaseArity: 8, SubArity: 8, TopArity: 2, Discard: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaves := randomLeaves(tc.nodes, 13)
			dir := t.TempDir()
			full := tc.shape
			full.Discard = 0
			fullPaths := full.FilePaths(dir, "full")
			lcPaths := tc.shape.FilePaths(dir, "lc")
			rootFull, _, err := BuildTrees(context.Background(), fullPaths, full, Poseidon, sliceFill(leaves), 2)
			if err != nil {
				t.Fatal(err)
			}
			root, _, err := BuildTrees(context.Background(), lcPaths, tc.shape, Poseidon, sliceFill(leaves), 2)
			if err != nil {
				t.Fatal(err)
			}
			if root != rootFull {
				t.Fatal("roots differ")
			}
			// The file is the whole tree's file without its lowest levels.
			per := tc.shape.BaseLeaves()
			skip := uint64(0)
			for n, l := per, 0; l < tc.shape.Discard; n, l = n/8, l+1 {
				skip += n
			}
			fb, _ := os.ReadFile(fullPaths[0])
			lb, _ := os.ReadFile(lcPaths[0])
			if uint64(len(lb)) != tc.shape.BaseTreeNodes()*NodeSize || string(lb) != string(fb[skip*NodeSize:]) {
				t.Fatalf("file has %d bytes; want the whole tree's last %d", len(lb), len(fb)-int(skip*NodeSize))
			}
			if _, err := Open(lcPaths, tc.shape, Poseidon); err == nil {
				t.Fatal("Open accepted discarded levels without leaves")
			}
			ft, err := Open(fullPaths, full, Poseidon)
			if err != nil {
				t.Fatal(err)
			}
			defer ft.Close()
			lt, err := OpenWithLeaves(lcPaths, tc.shape, Poseidon, bytes.NewReader(leaves))
			if err != nil {
				t.Fatal(err)
			}
			defer lt.Close()
			for _, i := range []uint64{0, 9, tc.nodes / 2, tc.nodes - 1} {
				pf, err := ft.Prove(i)
				if err != nil {
					t.Fatal(err)
				}
				pl, err := lt.Prove(i)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(pf) != fmt.Sprint(pl) {
					t.Fatalf("leaf %d: proofs differ", i)
				}
				if err := pl.Verify(Poseidon, tc.shape, i, root); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
