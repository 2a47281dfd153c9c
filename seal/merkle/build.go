package merkle

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// LeafFunc fills buf (a whole number of nodes) with the leaves whose global
// index starts at start. It may parallelise internally with Parallel.
type LeafFunc func(start uint64, buf []byte) error

// maxChunkNodes bounds the leaves held in memory at once while building
// (16 MiB of leaves plus their in-memory subtree).
const maxChunkNodes = 1 << 19

// piecesPerWorker is how many pieces Parallel cuts per worker, so that a
// worker slowed by other load on the machine does not hold up the rest
// and the wait for the last piece at the end of a call stays short: with
// 64 pieces a worker idles for about 1/128 of a call's work on average
// (a 16 MiB chunk of column hashes is ≈ 2.5 s on two cores, so ≈ 20 ms).
// A piece costs one atomic add.
const piecesPerWorker = 64

// Parallel cuts [0, n) into contiguous pieces whose lengths are multiples
// of align (except possibly the last), runs fn on them from up to workers
// goroutines that take the next piece as they finish one, and returns the
// first error (after which no new piece starts). workers ≤ 0 means
// GOMAXPROCS.
func Parallel(n, align, workers int, fn func(lo, hi int) error) error {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	if align < 1 {
		align = 1
	}
	units := (n + align - 1) / align
	if units < workers {
		workers = units
	}
	if workers <= 1 {
		if n == 0 {
			return nil
		}
		return fn(0, n)
	}
	pieces := min(units, workers*piecesPerWorker)
	per := (units + pieces - 1) / pieces * align
	var (
		wg     sync.WaitGroup
		next   atomic.Int64
		failed atomic.Bool
	)
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for !failed.Load() {
				lo := int(next.Add(int64(per))) - per
				if lo >= n {
					return
				}
				if err := fn(lo, min(lo+per, n)); err != nil {
					errs[w] = err
					failed.Store(true)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// hashLevelParallel hashes src into dst using up to workers goroutines.
func hashLevelParallel(h Hasher, dst, src []byte, arity, workers int) error {
	n := len(dst) / NodeSize
	if n < 64 {
		workers = 1
	}
	return Parallel(n, 1, workers, func(lo, hi int) error {
		return h.HashLevel(dst[lo*NodeSize:hi*NodeSize], src[lo*arity*NodeSize:hi*arity*NodeSize], arity)
	})
}

// levelStarts returns the node offset of each level in a base tree file
// with the given leaves and arity that stores levels discard..top, lowest
// first (−1 for a level not stored), and the number of stored nodes.
func levelStarts(leaves uint64, arity, discard int) ([]int64, uint64) {
	var starts []int64
	var off uint64
	for n, level := leaves, 0; ; n, level = n/uint64(arity), level+1 {
		if level < discard {
			starts = append(starts, -1)
		} else {
			starts = append(starts, int64(off))
			off += n
		}
		if n == 1 {
			return starts, off
		}
	}
}

// writeLevel writes nodes at index first of level (nothing if the level
// is discarded).
func writeLevel(f *os.File, starts []int64, level int, first uint64, nodes []byte) error {
	if starts[level] < 0 {
		return nil
	}
	if _, err := f.WriteAt(nodes, (starts[level]+int64(first))*NodeSize); err != nil {
		return fmt.Errorf("writing level %d: %w", level, err)
	}
	return nil
}

// BuildFile writes one full tree of the given arity over leaves leaves to
// path (DiskStore layout: all levels, leaves first) and returns its root.
// Leaves come from fill, starting at global index leafOffset. The file is
// written under a temporary name and renamed when complete; on error no
// file is left at path. workers ≤ 0 means GOMAXPROCS.
func BuildFile(ctx context.Context, path string, h Hasher, arity int, leaves, leafOffset uint64, fill LeafFunc, workers int) (Node, error) {
	return buildFile(ctx, path, h, arity, leaves, leafOffset, fill, workers, maxChunkNodes, 0)
}

// buildFile is BuildFile with an explicit bound on the leaves per chunk
// and the number of lowest levels not to store (rows_to_discard).
func buildFile(ctx context.Context, path string, h Hasher, arity int, leaves, leafOffset uint64, fill LeafFunc, workers int, maxChunk uint64, discard int) (root Node, err error) {
	if err := (Shape{Leaves: leaves, BaseArity: arity, Discard: discard}).Validate(); err != nil {
		return Node{}, fmt.Errorf("building %s: %w", path, err)
	}
	starts, total := levelStarts(leaves, arity, discard)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return Node{}, fmt.Errorf("creating %s: %w", tmp, err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := f.Truncate(int64(total * NodeSize)); err != nil {
		return Node{}, fmt.Errorf("sizing %s: %w", tmp, err)
	}
	// chunk: the largest power of arity that fits the memory bound.
	chunk := uint64(1)
	for chunk*uint64(arity) <= min(leaves, maxChunk) {
		chunk *= uint64(arity)
	}
	buf := make([]byte, 2*chunk*NodeSize)
	var tops []byte
	for c := uint64(0); c < leaves/chunk; c++ {
		if err := ctx.Err(); err != nil {
			return Node{}, err
		}
		top, err := buildChunk(f, h, arity, starts, chunk, c, leafOffset, fill, buf, workers)
		if err != nil {
			return Node{}, fmt.Errorf("building %s: %w", path, err)
		}
		tops = append(tops, top[:]...)
	}
	// Upper levels above the chunk subtrees, in memory.
	level := 0
	for n := chunk; n > 1; n /= uint64(arity) {
		level++
	}
	for len(tops) > NodeSize {
		level++
		next := make([]byte, len(tops)/arity)
		if err := hashLevelParallel(h, next, tops, arity, workers); err != nil {
			return Node{}, fmt.Errorf("building %s level %d: %w", path, level, err)
		}
		if err := writeLevel(f, starts, level, 0, next); err != nil {
			return Node{}, fmt.Errorf("writing %s: %w", tmp, err)
		}
		tops = next
	}
	copy(root[:], tops)
	if err := f.Sync(); err != nil {
		return Node{}, fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		f = nil
		return Node{}, fmt.Errorf("closing %s: %w", tmp, err)
	}
	f = nil
	if err := os.Rename(tmp, path); err != nil {
		return Node{}, fmt.Errorf("renaming %s: %w", tmp, err)
	}
	return root, nil
}

// buildChunk fills chunk c of the leaves, hashes its complete subtree in
// memory, writes every level of it at its place and returns its root.
func buildChunk(f *os.File, h Hasher, arity int, starts []int64, chunk, c, leafOffset uint64, fill LeafFunc, buf []byte, workers int) (Node, error) {
	cur := buf[:chunk*NodeSize]
	if err := fill(leafOffset+c*chunk, cur); err != nil {
		return Node{}, fmt.Errorf("leaves at %d: %w", leafOffset+c*chunk, err)
	}
	if err := writeLevel(f, starts, 0, c*chunk, cur); err != nil {
		return Node{}, err
	}
	spare := buf[chunk*NodeSize:]
	per := chunk
	for level := 1; per > 1; level++ {
		per /= uint64(arity)
		next := spare[:per*NodeSize]
		if err := hashLevelParallel(h, next, cur, arity, workers); err != nil {
			return Node{}, fmt.Errorf("level %d: %w", level, err)
		}
		if err := writeLevel(f, starts, level, c*per, next); err != nil {
			return Node{}, err
		}
		// Reuse the consumed half of the buffer for the next level.
		spare, cur = cur, next
	}
	var root Node
	copy(root[:], cur)
	return root, nil
}

// BuildTrees builds every base tree of shape into paths (see
// Shape.FilePaths) with global leaves from fill, then composes the root.
// It returns the root and the base tree roots.
func BuildTrees(ctx context.Context, paths []string, shape Shape, h Hasher, fill LeafFunc, workers int) (Node, []Node, error) {
	if err := shape.Validate(); err != nil {
		return Node{}, nil, err
	}
	if len(paths) != shape.BaseTrees() {
		return Node{}, nil, fmt.Errorf("building trees: %d paths for %d base trees", len(paths), shape.BaseTrees())
	}
	per := shape.BaseLeaves()
	roots := make([]Node, len(paths))
	for i, p := range paths {
		r, err := buildFile(ctx, p, h, shape.BaseArity, per, uint64(i)*per, fill, workers, maxChunkNodes, shape.Discard)
		if err != nil {
			for _, done := range paths[:i] {
				os.Remove(done)
			}
			return Node{}, nil, err
		}
		roots[i] = r
	}
	root, err := ComposeRoot(h, shape, roots)
	if err != nil {
		return Node{}, nil, err
	}
	return root, roots, nil
}

// ComposeRoot hashes base tree roots through the sub and top levels of
// shape into the tree root.
func ComposeRoot(h Hasher, shape Shape, baseRoots []Node) (Node, error) {
	if len(baseRoots) != shape.BaseTrees() {
		return Node{}, fmt.Errorf("composing root: %d base roots for %d base trees", len(baseRoots), shape.BaseTrees())
	}
	cur := baseRoots
	for _, a := range []int{shape.SubArity, shape.TopArity} {
		if a == 0 {
			continue
		}
		next := make([]Node, len(cur)/a)
		for i := range next {
			n, err := h.Hash(cur[i*a : (i+1)*a])
			if err != nil {
				return Node{}, fmt.Errorf("composing root: %w", err)
			}
			next[i] = n
		}
		cur = next
	}
	return cur[0], nil
}
