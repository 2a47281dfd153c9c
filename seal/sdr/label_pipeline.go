package sdr

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// ringSize is the number of label messages the gatherer may prepare ahead of the hasher. Parents of node v that
// are among the ringSize nodes before it may not be labelled yet when v is gathered; the hasher patches those in.
const ringSize = 128

// spinLimit is how many times a side polls before it starts yielding the processor between polls.
const spinLimit = 256

// parkAfter is how many polls (most of them yields, roughly 100–200 µs in all) the gatherer makes for a free
// slot before it parks until the ring is half empty. On an idle machine the hasher frees a slot every
// microsecond and the gatherer never parks.
const parkAfter = spinLimit + 2048

// publishEvery is how often (in nodes) the hasher publishes its progress. An atomic store is a locked
// instruction that must own the cache line the gatherer keeps reading; doing it for every node would add a
// cross-core round trip to each label.
const publishEvery = 8

// ringSlot is one prepared label message.
type ringSlot struct {
	msg [msgLen]byte
	// ready is v+1 once the message of node v is complete in this slot.
	ready  atomic.Uint64
	npatch int
	// patch lists the base parent slots whose labels were not ready when gathered, with the parent node.
	patchSlot [BaseDegree]uint8
	patchNode [BaseDegree]uint32
}

// body views the 37 parent label positions of the message.
func (s *ringSlot) body() *[labelRepeats][NodeSize]byte {
	return (*[labelRepeats][NodeSize]byte)(unsafe.Pointer(&s.msg[prefixLen]))
}

// layerLabeler labels one layer with two goroutines. The gatherer claims nodes in order and copies their
// parents' labels into a ring of messages; the hasher patches in the base parents that were not labelled yet at
// gathering time, hashes and stores. When the gatherer is behind (descheduled on a busy machine) the hasher claims
// and gathers the node itself, so the pipeline never runs slower than one core; when the ring is full the
// gatherer parks instead of spinning. The hasher's loop allocates nothing.
type layerLabeler struct {
	cfg       Config
	pc        *ParentsCache
	replicaID [32]byte
	layer     int
	degree    int
	cur, prev []byte
	ring      []ringSlot

	// claimed is the next node whose message nobody has started (CAS by either side).
	claimed atomic.Uint64
	_       [56]byte
	// labelled is a lower bound on the number of nodes whose label is in cur (written by the hasher only,
	// every publishEvery nodes).
	labelled atomic.Uint64
	_        [56]byte
	parked   atomic.Bool
	wake     chan struct{}
	quit     chan struct{}
	// stolen counts the nodes the hasher gathered itself (reported in benchmarks).
	stolen uint64
	// out receives completed chunks of cur (nil: nobody listens).
	out *layerWriter
	// checkEvery is how often (in nodes) both loops look at the context: a write chunk.
	checkEvery uint64
}

// labelLayer fills cur with the labels of layer (1-based); prev holds the previous layer (unused for layer 1).
// It returns how many nodes the hasher had to gather itself.
// Completed chunks of cur are handed to out (nil: none) as they are labelled.
func labelLayer(ctx context.Context, cfg Config, pc *ParentsCache, replicaID [32]byte, layer int, cur, prev []byte,
	out *layerWriter) (uint64, error) {
	l := &layerLabeler{cfg: cfg, pc: pc, replicaID: replicaID, layer: layer, degree: layerDegree(layer),
		cur: cur, prev: prev, out: out, checkEvery: defaultWriteChunkNodes, ring: make([]ringSlot, ringSize), wake: make(chan struct{}, 1), quit: make(chan struct{})}
	if out != nil {
		l.checkEvery = out.chunkNodes
	}
	for i := range l.ring {
		writePrefix(l.ring[i].msg[:prefixLen], &replicaID, layer, 0)
	}
	l.claimed.Store(1) // node 0 hashes the prefix only; the hasher does it
	done := make(chan error, 1)
	go func() { done <- l.gather(ctx) }()
	herr := l.hash(ctx)
	close(l.quit)
	gerr := <-done
	if herr != nil {
		return l.stolen, herr
	}
	return l.stolen, gerr
}

// gather claims and prepares messages in node order until all are claimed.
func (l *layerLabeler) gather(ctx context.Context) error {
	n := l.cfg.Nodes
	for count := uint64(0); ; count++ {
		if count%l.checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if l.lead() >= ringSize && !l.waitSlot() {
			return nil
		}
		v := l.claimed.Load()
		if v >= n {
			return nil
		}
		if !l.claimed.CompareAndSwap(v, v+1) {
			continue // the hasher took v
		}
		s := &l.ring[v%ringSize]
		l.fill(s, v, l.labelled.Load())
		s.ready.Store(v + 1)
	}
}

// lead is the number of claimed nodes the hasher has not labelled yet. labelled is read first: the hasher only
// labels claimed nodes, so the difference cannot wrap around.
func (l *layerLabeler) lead() uint64 {
	done := l.labelled.Load()
	return l.claimed.Load() - done
}

// waitSlot waits until the ring has a free slot: polling, then yielding, then parked until the ring is half
// empty. It returns false when the layer is over.
func (l *layerLabeler) waitSlot() bool {
	for spins := 0; l.lead() >= ringSize; spins++ {
		if spins < spinLimit {
			continue
		}
		if spins < parkAfter {
			runtime.Gosched()
			continue
		}
		if !l.park() {
			return false
		}
	}
	return true
}

// park blocks until the ring is at most half full. It returns false when the layer is over.
func (l *layerLabeler) park() bool {
	l.parked.Store(true)
	defer l.parked.Store(false)
	for l.lead() > ringSize/2 {
		select {
		case <-l.wake:
		case <-l.quit:
			return false
		}
	}
	return true
}

// fill writes the message of node v into s. Base parents at or above ready are left for the hasher to patch.
// Labels are moved as [32]byte values (two 16-byte loads and stores, no call), so the loads of the fourteen
// parents, mostly cache misses in the previous layer, overlap in the out-of-order window.
func (l *layerLabeler) fill(s *ringSlot, v, ready uint64) {
	binary.BigEndian.PutUint64(s.msg[36:44], v)
	parents := (*[TotalParents]uint32)(l.pc.Parents(v))
	body := s.body()
	s.npatch = 0
	if l.degree == BaseDegree {
		for i := 0; i < BaseDegree; i++ {
			p := uint64(parents[i])
			if p >= ready {
				s.patchSlot[s.npatch], s.patchNode[s.npatch] = uint8(i), uint32(p)
				s.npatch++
				continue
			}
			lab := *(*[NodeSize]byte)(l.cur[p*NodeSize:])
			for j := i; j < labelRepeats; j += BaseDegree {
				body[j] = lab
			}
		}
		return
	}
	for i := 0; i < BaseDegree; i++ {
		p := uint64(parents[i])
		if p >= ready {
			s.patchSlot[s.npatch], s.patchNode[s.npatch] = uint8(i), uint32(p)
			s.npatch++
			continue
		}
		lab := *(*[NodeSize]byte)(l.cur[p*NodeSize:])
		body[i], body[i+TotalParents], body[i+2*TotalParents] = lab, lab, lab
	}
	for i := BaseDegree; i < TotalParents; i++ {
		p := uint64(parents[i])
		lab := *(*[NodeSize]byte)(l.prev[p*NodeSize:])
		body[i], body[i+TotalParents] = lab, lab
		if i+2*TotalParents < labelRepeats {
			body[i+2*TotalParents] = lab
		}
	}
}

// hash labels node 0, then every other node in order.
func (l *layerLabeler) hash(ctx context.Context) error {
	var prefix [prefixLen]byte
	writePrefix(prefix[:], &l.replicaID, l.layer, 0)
	h := sha256.Sum256(prefix[:])
	h[31] &= 0x3f
	copy(l.cur[0:NodeSize], h[:])
	l.labelled.Store(1)

	n := l.cfg.Nodes
	for v := uint64(1); v < n; v++ {
		if v%l.checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := &l.ring[v%ringSize]
		if s.ready.Load() != v+1 {
			l.obtain(s, v)
		}
		body := s.body()
		for k := 0; k < s.npatch; k++ {
			lab := *(*[NodeSize]byte)(l.cur[uint64(s.patchNode[k])*NodeSize:])
			for j := int(s.patchSlot[k]); j < labelRepeats; j += l.degree {
				body[j] = lab
			}
		}
		h := sha256.Sum256(s.msg[:])
		h[31] &= 0x3f
		*(*[NodeSize]byte)(l.cur[v*NodeSize:]) = h
		if l.out != nil && (v+1)%l.out.chunkNodes == 0 {
			l.out.chunkDone(v / l.out.chunkNodes)
		}
		if (v+1)%publishEvery == 0 {
			l.labelled.Store(v + 1)
			if l.parked.Load() && l.lead() <= ringSize/2 {
				select {
				case l.wake <- struct{}{}:
				default:
				}
			}
		}
	}
	l.labelled.Store(n)
	if l.out != nil && n%l.out.chunkNodes != 0 {
		l.out.chunkDone(n / l.out.chunkNodes)
	}
	return nil
}

// obtain makes the message of node v ready in s: by gathering it here if the gatherer has not claimed it, or
// by waiting for the gatherer, which is in the middle of it.
func (l *layerLabeler) obtain(s *ringSlot, v uint64) {
	if l.claimed.CompareAndSwap(v, v+1) {
		l.stolen++
		l.fill(s, v, v)
		return
	}
	for spins := 0; s.ready.Load() != v+1; spins++ {
		if spins > spinLimit {
			runtime.Gosched()
		}
	}
}
