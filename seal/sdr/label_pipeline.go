package sdr

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"runtime"
	"sync/atomic"
)

// ringSize is the number of label messages the gatherer may prepare ahead of the hasher. Parents of node v that
// are among the ringSize nodes before it may not be labelled yet when v is gathered; the hasher patches those in.
const ringSize = 32

// checkEvery is how often (in nodes) the loops look at the context.
const checkEvery = 1 << 16

// ringSlot is one prepared label message.
type ringSlot struct {
	msg    [msgLen]byte
	npatch int
	// patch lists the parent slots whose labels were not ready when gathered, with the parent node.
	patchSlot [BaseDegree]uint8
	patchNode [BaseDegree]uint32
}

// layerLabeler labels one layer with two goroutines: the gatherer copies parents' labels into a ring of
// messages, the hasher patches in the labels that were not ready yet, hashes and stores. The hasher's loop is
// the SHA-256 floor plus a few 32-byte copies; it allocates nothing.
type layerLabeler struct {
	cfg       Config
	pc        *ParentsCache
	replicaID [32]byte
	layer     int
	cur, prev []byte

	ring []ringSlot
	// gathered is the number of nodes whose message is ready (written by the gatherer only).
	gathered atomic.Uint64
	_        [56]byte
	// labelled is the number of nodes whose label is in cur (written by the hasher only).
	labelled atomic.Uint64
	_        [56]byte
	stop     atomic.Bool
}

// errStopped reports that the other side of the pipeline gave up.
var errStopped = errors.New("labeling stopped")

// labelLayer fills cur with the labels of layer (1-based); prev holds the previous layer (unused for layer 1).
func labelLayer(ctx context.Context, cfg Config, pc *ParentsCache, replicaID [32]byte, layer int, cur, prev []byte) error {
	l := &layerLabeler{cfg: cfg, pc: pc, replicaID: replicaID, layer: layer, cur: cur, prev: prev}
	l.ring = make([]ringSlot, ringSize)
	for i := range l.ring {
		writePrefix(l.ring[i].msg[:prefixLen], &replicaID, layer, 0)
	}
	done := make(chan error, 1)
	go func() { done <- l.gather(ctx) }()
	herr := l.hash(ctx)
	if herr != nil {
		l.stop.Store(true)
	}
	gerr := <-done
	if herr != nil {
		if errors.Is(herr, errStopped) && gerr != nil {
			return gerr
		}
		return herr
	}
	return gerr
}

// waitUntil spins until cond holds or the pipeline is stopped, yielding the processor now and then so that the
// pipeline also progresses with fewer cores than goroutines.
func (l *layerLabeler) waitUntil(cond func() bool) bool {
	for spins := 0; !cond(); spins++ {
		if l.stop.Load() {
			return false
		}
		if spins > 64 {
			runtime.Gosched()
		}
	}
	return true
}

// gather prepares the messages of nodes 1..N-1 in order.
func (l *layerLabeler) gather(ctx context.Context) error {
	n := l.cfg.Nodes
	degree := layerDegree(l.layer)
	for v := uint64(1); v < n; v++ {
		if v%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				l.stop.Store(true)
				return err
			}
		}
		// Wait for the slot: the hasher must be done with node v-ringSize.
		if v >= ringSize && l.labelled.Load() <= v-ringSize && !l.waitUntil(func() bool { return l.labelled.Load() > v-ringSize }) {
			return errStopped
		}
		s := &l.ring[v%ringSize]
		binary.BigEndian.PutUint64(s.msg[36:44], v)
		parents := l.pc.Parents(v)
		ready := l.labelled.Load()
		body := s.msg[prefixLen:]
		s.npatch = 0
		for i := 0; i < degree; i++ {
			p := uint64(parents[i])
			var src []byte
			if i < BaseDegree {
				if p >= ready {
					s.patchSlot[s.npatch], s.patchNode[s.npatch] = uint8(i), uint32(p)
					s.npatch++
					continue
				}
				src = l.cur[p*NodeSize : p*NodeSize+NodeSize]
			} else {
				src = l.prev[p*NodeSize : p*NodeSize+NodeSize]
			}
			copy(body[i*NodeSize:i*NodeSize+NodeSize], src)
		}
		// Repeat the first `degree` labels to fill the 37 positions (position j holds slot j mod degree).
		for off := degree * NodeSize; off < labelRepeats*NodeSize; off += degree * NodeSize {
			copy(body[off:labelRepeats*NodeSize], body[:degree*NodeSize])
		}
		l.gathered.Store(v + 1)
	}
	return nil
}

// hash labels node 0, then hashes the gathered messages in order.
func (l *layerLabeler) hash(ctx context.Context) error {
	var prefix [prefixLen]byte
	writePrefix(prefix[:], &l.replicaID, l.layer, 0)
	h := sha256.Sum256(prefix[:])
	h[31] &= 0x3f
	copy(l.cur[0:NodeSize], h[:])
	l.labelled.Store(1)

	n := l.cfg.Nodes
	degree := layerDegree(l.layer)
	for v := uint64(1); v < n; v++ {
		if v%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if l.gathered.Load() <= v && !l.waitUntil(func() bool { return l.gathered.Load() > v }) {
			return errStopped
		}
		s := &l.ring[v%ringSize]
		body := s.msg[prefixLen:]
		for k := 0; k < s.npatch; k++ {
			i := int(s.patchSlot[k])
			p := uint64(s.patchNode[k]) * NodeSize
			src := l.cur[p : p+NodeSize]
			for j := i; j < labelRepeats; j += degree {
				copy(body[j*NodeSize:j*NodeSize+NodeSize], src)
			}
		}
		h := sha256.Sum256(s.msg[:])
		h[31] &= 0x3f
		copy(l.cur[v*NodeSize:v*NodeSize+NodeSize], h[:])
		l.labelled.Store(v + 1)
	}
	return nil
}
