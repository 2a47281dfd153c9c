package sdr

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// maxWriteChunkNodes is the largest unit (in nodes, 4 MiB of labels) in which a layer is streamed to its file
// while it is being labelled.
const maxWriteChunkNodes = 1 << 17

// writeChunkNodes is the unit in which a layer of nodes nodes is streamed to its file: a 32nd of the layer,
// from 4Ki nodes (128 KiB) to maxWriteChunkNodes. Each chunk is written, and its writeback to the disk
// started (writeBehind), as soon as it is labelled, so that the disk works during labeling and only the last
// chunk is left to write when the layer is done, before the layer's one fsync (the reference writes each
// layer at the end without fsync; on a 100 MB/s disk a 512MiB layer takes 5 s to reach the disk).
func writeChunkNodes(nodes uint64) uint64 {
	return min(max(nodes/32, 1<<12), maxWriteChunkNodes)
}

// writerPoll is how often, at most, the layer writer looks for newly labelled chunks; once it knows the
// labeler's pace it sleeps for most of the time the next chunk should take (pacer), up to maxWriterNap. Each
// look wakes its thread, and a woken thread may be placed on the labeler's CPU and preempt it (perf showed the
// nice-19 writer doing so about 350 times a second with a 1 ms poll), so it looks rarely; finish and abort
// wake it at once. A writer that looks late leaves more for finish, nothing worse.
const (
	writerPoll   = 10 * time.Millisecond
	maxWriterNap = 250 * time.Millisecond
)

// layerWriter streams a layer's labels to "<layer file>.tmp" from a goroutine as the labeler completes chunks,
// then fsyncs and renames it. The labeler publishes its progress in an atomic counter that the writer polls,
// so the labeling thread never blocks and wakes nobody.
//
// The writing goroutine runs at nice 19 and only gets ahead: finish and abort never wait for it (on a machine
// saturated by other work it may not get a CPU for a second). finish writes whatever the goroutine has not
// confirmed itself, and fsyncs the file, from the caller's goroutine; if the goroutine is in the middle of
// writing a chunk too, both write the same bytes at the same offsets. os.File keeps the descriptor open until
// an in-flight write returns, and a write after Close fails, so the goroutine never writes into another file.
type layerWriter struct {
	// chunkNodes is the chunk size in nodes.
	chunkNodes uint64
	// progress is set by the labeler: the labels of nodes [0, progress) are final.
	progress atomic.Uint64
	// written is set by the writing goroutine: chunks [0, written) are in the file and on their way to the
	// disk (writeBehind).
	written atomic.Uint64
	stopped atomic.Bool   // finish or abort was called: the goroutine leaves
	wake    chan struct{} // finish and abort: look now
	path    string
	tmp     string
	f       *os.File
	data    []byte
	// mem, when set, holds data's mapping: the goroutine keeps a reference while it runs, so a write it is
	// still making when finish returns never reads unmapped or reused memory.
	mem *arena
	// exited is closed when the writing goroutine has left (it may still be writing after finish returns).
	exited chan struct{}
}

// newLayerWriter creates the temporary file of layer in dir and starts the writing goroutine over data, which is
// written in chunks of chunkNodes nodes; mem (nil: none) is the arena data is mapped in.
func newLayerWriter(dir string, layer int, data []byte, chunkNodes uint64, mem *arena) (*layerWriter, error) {
	path := filepath.Join(dir, LayerFileName(layer))
	w := &layerWriter{chunkNodes: chunkNodes, path: path, tmp: path + layerTempSuffix, data: data, mem: mem}
	f, err := os.OpenFile(w.tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("writing layer %d: %w", layer, err)
	}
	w.f = f
	w.wake = make(chan struct{}, 1)
	w.exited = make(chan struct{})
	if mem != nil {
		mem.retain()
	}
	go w.run()
	return w, nil
}

// run writes each chunk once it is labelled and starts its writeback, until all are written, a write fails
// (finish then writes the rest and reports the error if it recurs) or the writer is stopped.
func (w *layerWriter) run() {
	backgroundThread(false)
	defer close(w.exited)
	if w.mem != nil {
		defer w.mem.release()
	}
	nodes := uint64(len(w.data)) / NodeSize
	timer := time.NewTimer(writerPoll)
	defer timer.Stop()
	var pace pacer
	for next := uint64(0); next*w.chunkNodes < nodes && !w.stopped.Load(); {
		start, end := next*w.chunkNodes, min((next+1)*w.chunkNodes, nodes)
		if w.progress.Load() < end {
			timer.Reset(pace.nap(w.progress.Load(), end, time.Now(), writerPoll, maxWriterNap))
			select {
			case <-timer.C:
			case <-w.wake:
			}
			continue
		}
		off, n := int64(start*NodeSize), int64((end-start)*NodeSize)
		if _, err := w.f.WriteAt(w.data[off:off+n], off); err != nil {
			return
		}
		if err := writeBehind(w.f, max(off-int64(w.chunkNodes*NodeSize), 0), off, n); err != nil {
			return
		}
		next++
		w.written.Store(next)
	}
}

// finish writes what the writing goroutine has not (the layer must be fully labelled), fsyncs, and renames the
// file into place (then fsyncs the directory).
func (w *layerWriter) finish() error {
	w.stop()
	from := min(w.written.Load()*w.chunkNodes*NodeSize, uint64(len(w.data)))
	var err error
	if from < uint64(len(w.data)) {
		_, err = w.f.WriteAt(w.data[from:], int64(from))
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp, w.path)
	}
	if err != nil {
		_ = os.Remove(w.tmp)
		return fmt.Errorf("writing %s: %w", filepath.Base(w.path), err)
	}
	if d, derr := os.Open(filepath.Dir(w.path)); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// abort stops the writer and removes the temporary file.
func (w *layerWriter) abort() {
	w.stop()
	w.f.Close()
	_ = os.Remove(w.tmp)
}

// stop tells the writing goroutine to leave, and wakes it if it is waiting for chunks; it does not wait.
func (w *layerWriter) stop() {
	w.stopped.Store(true)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}
