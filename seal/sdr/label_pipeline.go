package sdr

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// ringSize is the number of label messages the gatherer may prepare ahead of the hasher. Parents of node v that
// are among the nodes not yet labelled when v is gathered are patched in by the hasher.
const ringSize = 128

// spinLimit is how many times the gatherer polls for a free slot before it starts yielding between polls.
const spinLimit = 256

// parkAfter is how many polls (most of them yields, roughly 100–200 µs in all) the gatherer makes for a free
// slot before it parks until the ring is half empty. On an idle machine the hasher frees a slot every
// microsecond and the gatherer never parks.
const parkAfter = spinLimit + 2048

// backoffMin and backoffMax bound how long (in nodes labelled by the hasher) the gatherer stays parked after it
// keeps falling behind. A gatherer that cannot keep up is not getting a core of its own (other processes compete
// for them); its busy thread would then only take processor time from the hasher, which labels faster alone.
const (
	backoffMin = 1 << 14
	backoffMax = 1 << 18
	// behindWindow: falling behind again within this many gathered nodes counts as "keeps falling behind".
	behindWindow = 1 << 12
)

// publishEvery is how often (in nodes) the hasher publishes its progress. An atomic store is a locked
// instruction that must own the cache line the gatherer keeps reading; doing it for every node would add a
// cross-core round trip to each label.
const publishEvery = 8

// prefetchDistance is how many nodes ahead of the one it gathers the gatherer prefetches parents' labels: enough
// for a memory round trip to complete during the gathering of the nodes in between.
const prefetchDistance = 12

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

// layerLabeler labels one layer with two goroutines. The gatherer walks the nodes in order and copies their
// parents' labels into a ring of messages; the hasher patches in the base parents that were not labelled yet at
// gathering time, hashes and stores. The hasher never waits for the gatherer: if node v's message is not ready
// (the gatherer is behind, typically descheduled on a busy machine) it gathers v into its own buffer, and the
// gatherer, seeing that, skips ahead — or, if it keeps falling behind, parks for a while (backoffMin..Max), so
// that on a machine without a free core the hasher is not slowed by its own helper. So the pipeline is never
// much slower than one core doing everything, and an operating-system preemption of the gatherer never stalls
// the hasher. When the ring is full the gatherer yields, then parks. The hasher's loop allocates nothing.
type layerLabeler struct {
	cfg       Config
	pc        *ParentsCache
	replicaID [32]byte
	layer     int
	degree    int
	cur, prev []byte
	ring      []ringSlot
	// own is the hasher's private message buffer for nodes it gathers itself.
	own ringSlot

	// labelled is a lower bound on the number of nodes whose label is in cur (written by the hasher only,
	// every publishEvery nodes).
	labelled atomic.Uint64
	_        [56]byte
	// wakeAt is 0 while the gatherer runs, else 1 + the progress (labelled) it waits for.
	wakeAt atomic.Uint64
	wake   chan struct{}
	quit   chan struct{}
	// stolen counts the nodes the hasher gathered itself (reported in benchmarks).
	stolen uint64
	// out receives completed chunks of cur (nil: nobody listens).
	out *layerWriter
	// checkEvery is how often (in nodes) both loops look at the context: a write chunk.
	checkEvery uint64
}

// layerStats describes one layer's run.
type layerStats struct {
	// stolen is the number of nodes the hasher gathered itself.
	stolen uint64
	// hasherCPU is the CPU time of the hashing thread (0 where not measured).
	hasherCPU time.Duration
}

// labelLayer fills cur with the labels of layer (1-based); prev holds the previous layer (unused for layer 1).
// Completed chunks of cur are handed to out (nil: none) as they are labelled.
func labelLayer(ctx context.Context, cfg Config, pc *ParentsCache, replicaID [32]byte, layer int, cur, prev []byte,
	out *layerWriter) (layerStats, error) {
	l := &layerLabeler{cfg: cfg, pc: pc, replicaID: replicaID, layer: layer, degree: layerDegree(layer),
		cur: cur, prev: prev, out: out, checkEvery: defaultWriteChunkNodes,
		ring: make([]ringSlot, ringSize), wake: make(chan struct{}, 1), quit: make(chan struct{})}
	if out != nil {
		l.checkEvery = out.chunkNodes
	}
	for i := range l.ring {
		writePrefix(l.ring[i].msg[:prefixLen], &replicaID, layer, 0)
	}
	writePrefix(l.own.msg[:prefixLen], &replicaID, layer, 0)
	done := make(chan error, 1)
	go func() { done <- l.gather(ctx) }()
	runtime.LockOSThread()
	cpu := threadCPU()
	herr := l.hash(ctx)
	stats := layerStats{hasherCPU: threadCPU() - cpu}
	runtime.UnlockOSThread()
	close(l.quit)
	gerr := <-done
	stats.stolen = l.stolen
	if herr != nil {
		return stats, herr
	}
	return stats, gerr
}

// gather prepares messages in node order, skipping ahead past nodes the hasher has reached on its own and
// backing off when it keeps falling behind.
func (l *layerLabeler) gather(ctx context.Context) error {
	n := l.cfg.Nodes
	next := uint64(1) // node 0 hashes the prefix only; the hasher does it
	backoff := uint64(backoffMin)
	sinceBehind := uint64(behindWindow)
	for count := uint64(0); ; count++ {
		if count%l.checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		done := l.labelled.Load()
		if next <= done {
			// Behind the hasher: it is gathering for itself.
			if sinceBehind < behindWindow {
				if !l.parkUntil(done + backoff) {
					return nil
				}
				backoff = min(2*backoff, backoffMax)
				done = l.labelled.Load()
			} else {
				backoff = backoffMin
			}
			sinceBehind = 0
			next = done + publishEvery // past the nodes the hasher may be working on
		}
		if next >= n {
			return nil
		}
		if next >= done+ringSize {
			if !l.waitSlot(next) {
				return nil
			}
			continue
		}
		if ahead := next + prefetchDistance; ahead < n {
			l.prefetch(ahead)
		}
		s := &l.ring[next%ringSize]
		l.fill(s, next, done)
		s.ready.Store(next + 1)
		next++
		sinceBehind++
	}
}

// waitSlot waits until node v's slot is free (fewer than ringSize nodes between v and the hasher): polling, then
// yielding, then parked until the ring is half empty. It returns false when the layer is over.
func (l *layerLabeler) waitSlot(v uint64) bool {
	for spins := 0; v >= l.labelled.Load()+ringSize; spins++ {
		if spins < spinLimit {
			continue
		}
		if spins < parkAfter {
			runtime.Gosched()
			continue
		}
		return l.parkUntil(v - ringSize/2)
	}
	return true
}

// parkUntil blocks until the hasher has published at least target labels. It returns false when the layer is
// over. The hasher reads wakeAt after each progress store; wakeAt is set before progress is checked again, so
// one of the two sees the other (the atomics are sequentially consistent).
func (l *layerLabeler) parkUntil(target uint64) bool {
	l.wakeAt.Store(target + 1)
	defer l.wakeAt.Store(0)
	for l.labelled.Load() < target {
		select {
		case <-l.wake:
		case <-l.quit:
			return false
		}
	}
	return true
}

// prefetch starts loading the parents' labels of node v into the cache.
func (l *layerLabeler) prefetch(v uint64) {
	prefetchLabels((*[TotalParents]uint32)(l.pc.Parents(v)), unsafe.SliceData(l.cur), unsafe.SliceData(l.prev), l.degree)
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

// fillReady writes the message of node v into s when all its parents are labelled (the hasher gathering for
// itself): no patch bookkeeping, all 37 positions written by copyLabels (SSE2 assembly on amd64). Parent indices
// come from the verified parents cache, so they are below the node count.
func (l *layerLabeler) fillReady(s *ringSlot, v uint64) {
	binary.BigEndian.PutUint64(s.msg[36:44], v)
	parents := (*[TotalParents]uint32)(l.pc.Parents(v))
	s.npatch = 0
	if l.degree == BaseDegree {
		copyLabels6(s.body(), parents, unsafe.SliceData(l.cur))
		return
	}
	copyLabels14(s.body(), parents, unsafe.SliceData(l.cur), unsafe.SliceData(l.prev))
}

// hash labels node 0, then every other node in order.
func (l *layerLabeler) hash(ctx context.Context) error {
	var prefix [prefixLen]byte
	writePrefix(prefix[:], &l.replicaID, l.layer, 0)
	h := sha256.Sum256(prefix[:])
	h[31] &= 0x3f
	copy(l.cur[0:NodeSize], h[:])

	n := l.cfg.Nodes
	for v := uint64(1); v < n; v++ {
		if v%l.checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := &l.ring[v%ringSize]
		if s.ready.Load() != v+1 {
			s = &l.own
			if v+1 < n {
				l.prefetch(v + 1) // likely needed next too
			}
			l.fillReady(s, v)
			l.stolen++
		}
		l.patch(s)
		h := sha256.Sum256(s.msg[:])
		h[31] &= 0x3f
		*(*[NodeSize]byte)(l.cur[v*NodeSize:]) = h
		if l.out != nil && (v+1)%l.out.chunkNodes == 0 {
			l.out.chunkDone(v / l.out.chunkNodes)
		}
		if (v+1)%publishEvery == 0 {
			l.publish(v + 1)
		}
	}
	l.publish(n)
	if l.out != nil && n%l.out.chunkNodes != 0 {
		l.out.chunkDone(n / l.out.chunkNodes)
	}
	return nil
}

// patch copies into s the labels of the base parents that were not labelled when s was gathered.
func (l *layerLabeler) patch(s *ringSlot) {
	body := s.body()
	for k := 0; k < s.npatch; k++ {
		lab := *(*[NodeSize]byte)(l.cur[uint64(s.patchNode[k])*NodeSize:])
		for j := int(s.patchSlot[k]); j < labelRepeats; j += l.degree {
			body[j] = lab
		}
	}
}

// publish announces that the first done labels are final and wakes the gatherer if it waits for that much.
func (l *layerLabeler) publish(done uint64) {
	l.labelled.Store(done)
	if at := l.wakeAt.Load(); at != 0 && at-1 <= done {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}
