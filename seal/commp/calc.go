package commp

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sync"

	"sealfleet/seal/fr32"
)

const (
	// chunkLevel is the height of the subtree one worker hashes at a time: 2^13 leaves = 256 KiB padded, which
	// stays in a core's L2 cache while it is padded and hashed.
	chunkLevel  = 13
	chunkPadded = NodeSize << chunkLevel
	chunkRaw    = chunkPadded / fr32.PaddedBlock * fr32.UnpaddedBlock
	// chunksPerWorker is how many chunks each worker hashes per batch: fewer batches mean fewer goroutine starts
	// and waits.
	chunksPerWorker = 4

	// MinPayload is the smallest payload with a defined commitment (go-fil-commp-hashhash MinPiecePayload):
	// Fr32 padding needs at least 65 bytes to fill more than two leaves.
	MinPayload = 65
	// MaxPayload is the largest payload a Calc accepts: the unpadded size of a 2^(MaxLevel+5)-byte piece.
	MaxPayload = uint64(1) << (MaxLevel + 5) / fr32.PaddedBlock * fr32.UnpaddedBlock
)

// ErrTooSmall is returned by Digest when fewer than MinPayload bytes were written.
var ErrTooSmall = errors.New("commp: payload shorter than 65 bytes has no commitment")

// worker holds one goroutine's scratch space.
type worker struct {
	padded []byte // chunkPadded bytes
	h      hasher
}

// Calc computes the CommP of the bytes written to it. It implements io.Writer; Digest returns the commitment.
// Whole 127·2^13-byte chunks are padded and hashed into subtree roots, in batches of 4 chunks per worker on
// Workers goroutines; the roots are combined in order on a stack. The zero value is ready to use with GOMAXPROCS workers.
// A Calc is not safe for concurrent use; it starts no goroutine that outlives a call.
type Calc struct {
	// Workers is the number of goroutines hashing in parallel; 0 means runtime.GOMAXPROCS(0). Set it before the
	// first Write.
	Workers int

	total   uint64   // payload bytes written
	bufs    [][]byte // raw chunk buffers, one batch; bufs[nfull] is being filled
	nfull   int      // bufs[0:nfull] are full and not yet hashed
	direct  [][]byte // full chunks taken straight from the current Write's argument
	workers []worker
	roots   []Node
	st      stack
}

// NewCalc returns a Calc hashing with the given number of workers (0 means GOMAXPROCS).
func NewCalc(workers int) *Calc { return &Calc{Workers: workers} }

func (c *Calc) init() {
	if c.bufs != nil {
		return
	}
	n := c.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	c.bufs = make([][]byte, n*chunksPerWorker)
	for i := range c.bufs {
		c.bufs[i] = make([]byte, 0, chunkRaw)
	}
	c.workers = make([]worker, n)
	for i := range c.workers {
		c.workers[i] = worker{padded: make([]byte, chunkPadded), h: newHasher()}
	}
	c.roots = make([]Node, len(c.bufs))
	c.direct = make([][]byte, 0, len(c.bufs))
}

// Write adds p to the payload. It fails only if the payload would exceed MaxPayload (nothing is added then).
func (c *Calc) Write(p []byte) (int, error) {
	if c.total+uint64(len(p)) > MaxPayload {
		return 0, fmt.Errorf("commp: payload of %d bytes would exceed the maximum of %d", c.total+uint64(len(p)), MaxPayload)
	}
	c.init()
	n := len(p)
	c.total += uint64(n)
	for len(p) > 0 {
		if c.nfull == 0 && len(c.bufs[0]) == 0 && len(p) >= chunkRaw {
			// Nothing buffered: hash whole chunks straight from p without copying.
			c.direct = append(c.direct, p[:chunkRaw])
			p = p[chunkRaw:]
			if len(c.direct) == len(c.bufs) {
				c.hashChunks(c.direct)
				c.direct = c.direct[:0]
			}
			continue
		}
		b := c.bufs[c.nfull]
		k := copy(b[len(b):chunkRaw], p)
		c.bufs[c.nfull] = b[:len(b)+k]
		p = p[k:]
		if len(c.bufs[c.nfull]) == chunkRaw {
			c.nfull++
			if c.nfull == len(c.bufs) {
				c.flushFull()
			}
		}
	}
	if len(c.direct) > 0 { // p must not be retained after Write returns
		c.hashChunks(c.direct)
		c.direct = c.direct[:0]
	}
	return n, nil
}

// flushFull hashes the full buffers and moves the partial one (if any) to bufs[0].
func (c *Calc) flushFull() {
	if c.nfull == 0 {
		return
	}
	c.hashChunks(c.bufs[:c.nfull])
	for i := 0; i < c.nfull; i++ {
		c.bufs[i] = c.bufs[i][:0]
	}
	if c.nfull < len(c.bufs) && len(c.bufs[c.nfull]) > 0 {
		c.bufs[0] = append(c.bufs[0], c.bufs[c.nfull]...)
		c.bufs[c.nfull] = c.bufs[c.nfull][:0]
	}
	c.nfull = 0
}

// hashChunks pads and hashes full raw chunks, split into one contiguous run per worker, and pushes their roots in
// order. The calling goroutine works the first run.
func (c *Calc) hashChunks(chunks [][]byte) {
	per := (len(chunks) + len(c.workers) - 1) / len(c.workers)
	run := func(w int) {
		for i := w * per; i < min((w+1)*per, len(chunks)); i++ {
			c.roots[i] = c.workers[w].chunkRoot(chunks[i])
		}
	}
	if per >= len(chunks) {
		run(0)
	} else {
		var wg sync.WaitGroup
		for w := 1; w*per < len(chunks); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				run(w)
			}()
		}
		run(0)
		wg.Wait()
	}
	for i := range chunks {
		c.st.push(c.workers[0].h, c.roots[i], chunkLevel)
	}
}

func (w *worker) chunkRoot(raw []byte) Node {
	fr32.PadSerial(raw, w.padded)
	return w.h.root(w.padded)
}

// Digest returns the 32-byte CommP of everything written and the padded piece size (the next power of two of the
// padded payload), then resets the Calc for reuse. With fewer than MinPayload bytes written it returns ErrTooSmall
// and keeps the state.
func (c *Calc) Digest() (commP []byte, paddedSize uint64, err error) {
	root, size, err := c.digest()
	if err != nil {
		return nil, 0, err
	}
	c.Reset()
	return root[:], size, nil
}

// digest computes the commitment of the payload so far without changing what the Calc commits to.
func (c *Calc) digest() (Node, uint64, error) {
	if c.total < MinPayload {
		return Node{}, 0, fmt.Errorf("%w (%d bytes written)", ErrTooSmall, c.total)
	}
	c.flushFull()
	st := c.st // the tail is folded into a copy
	w := &c.workers[0]
	tail := c.bufs[0]
	blocks := (len(tail) + fr32.UnpaddedBlock - 1) / fr32.UnpaddedBlock
	if blocks > 0 {
		raw := tail[:blocks*fr32.UnpaddedBlock] // within cap: a partial chunk is shorter than chunkRaw
		clear(raw[len(tail):])
		padded := w.padded[:blocks*fr32.PaddedBlock]
		fr32.PadSerial(raw, padded)
		// Split the tail's leaves into complete power-of-two subtrees, largest first, and push each root.
		leaves := blocks * 4
		off := 0
		for k := bits.Len(uint(leaves)) - 1; k >= 0; k-- {
			if leaves&(1<<k) == 0 {
				continue
			}
			size := NodeSize << k
			st.push(w.h, w.h.root(padded[off:off+size]), k)
			off += size
		}
	}
	totalBlocks := (c.total + fr32.UnpaddedBlock - 1) / fr32.UnpaddedBlock
	paddedSize := totalBlocks * fr32.PaddedBlock
	if bits.OnesCount64(paddedSize) != 1 {
		paddedSize = 1 << bits.Len64(paddedSize)
	}
	top := bits.TrailingZeros64(paddedSize) - 5
	return st.fold(w.h, top), paddedSize, nil
}

// Reset discards everything written; the Calc keeps its buffers and worker count.
func (c *Calc) Reset() {
	c.total = 0
	for i := range c.bufs {
		c.bufs[i] = c.bufs[i][:0]
	}
	c.nfull = 0
	c.direct = c.direct[:0]
	c.st = stack{}
}

// stack holds the roots of complete subtrees, at most one per level, left of everything pushed later. It is a
// binary counter: pushing a root onto a level that is taken joins the two into the level above.
type stack struct {
	nodes [MaxLevel + 1]Node
	have  [MaxLevel + 1]bool
}

func (s *stack) push(h hasher, n Node, level int) {
	for s.have[level] {
		n = h.join(&s.nodes[level], &n)
		s.have[level] = false
		level++
	}
	s.nodes[level], s.have[level] = n, true
}

// fold completes the tree of height top with zero subtrees right of the pushed data and returns its root.
func (s *stack) fold(h hasher, top int) Node {
	var cur Node
	haveCur := false
	for l := 0; l < top; l++ {
		switch {
		case s.have[l] && haveCur:
			cur = h.join(&s.nodes[l], &cur)
		case s.have[l]:
			cur, haveCur = h.join(&s.nodes[l], &zeroComms[l]), true
		case haveCur:
			cur = h.join(&cur, &zeroComms[l])
		}
	}
	if !haveCur {
		return s.nodes[top]
	}
	return cur
}
