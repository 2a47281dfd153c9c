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
// from 4Ki nodes (128 KiB) to maxWriteChunkNodes. Each chunk is written and fsynced as soon as it is labelled,
// so that the disk works during labeling and only the last chunk is left to write and sync when the layer is
// done (the reference writes each layer at the end without fsync; on a 100 MB/s disk a 512MiB layer takes 5 s
// to reach the disk).
func writeChunkNodes(nodes uint64) uint64 {
	return min(max(nodes/32, 1<<12), maxWriteChunkNodes)
}

// writerPoll is how often the layer writer looks for newly labelled chunks. Each look wakes its thread, and a
// woken thread may be placed on the labeler's CPU and preempt it (perf showed the nice-19 writer doing so
// about 350 times a second with a 1 ms poll), so it looks rarely; finish and abort wake it at once.
const writerPoll = 10 * time.Millisecond

// layerWriter streams a layer's labels to "<layer file>.tmp" from a goroutine as the labeler completes chunks,
// then fsyncs and renames it. The labeler publishes its progress in an atomic counter that the writer polls,
// so the labeling thread never blocks and wakes nobody.
type layerWriter struct {
	// chunkNodes is the chunk size in nodes.
	chunkNodes uint64
	// progress is set by the labeler: the labels of nodes [0, progress) are final.
	progress atomic.Uint64
	aborted  atomic.Bool
	wake     chan struct{} // finish and abort: look now
	path     string
	tmp      string
	f        *os.File
	data     []byte
	done     chan error
}

// newLayerWriter creates the temporary file of layer in dir and starts the writing goroutine over data, which is
// written in chunks of chunkNodes nodes.
func newLayerWriter(dir string, layer int, data []byte, chunkNodes uint64) (*layerWriter, error) {
	path := filepath.Join(dir, LayerFileName(layer))
	w := &layerWriter{chunkNodes: chunkNodes, path: path, tmp: path + layerTempSuffix, data: data}
	f, err := os.OpenFile(w.tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("writing layer %d: %w", layer, err)
	}
	w.f = f
	w.done = make(chan error, 1)
	w.wake = make(chan struct{}, 1)
	go w.run()
	return w, nil
}

// run writes and fsyncs each chunk once it is labelled, until all are written, an error occurs or the writer
// is aborted.
func (w *layerWriter) run() {
	backgroundThread(false)
	nodes := uint64(len(w.data)) / NodeSize
	var err error
	timer := time.NewTimer(writerPoll)
	defer timer.Stop()
	for next := uint64(0); next*w.chunkNodes < nodes && err == nil && !w.aborted.Load(); {
		start, end := next*w.chunkNodes, min((next+1)*w.chunkNodes, nodes)
		if w.progress.Load() < end {
			timer.Reset(writerPoll)
			select {
			case <-timer.C:
			case <-w.wake:
			}
			continue
		}
		if _, err = w.f.WriteAt(w.data[start*NodeSize:end*NodeSize], int64(start*NodeSize)); err == nil {
			err = w.f.Sync()
		}
		next++
	}
	w.done <- err
}

// finish waits for the remaining chunks (the layer must be fully labelled), fsyncs, and renames the file into
// place (then fsyncs the directory).
func (w *layerWriter) finish() error {
	w.poke()
	err := <-w.done
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
	w.aborted.Store(true)
	w.poke()
	<-w.done
	w.f.Close()
	_ = os.Remove(w.tmp)
}

// poke wakes the writing goroutine if it is waiting for chunks.
func (w *layerWriter) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}
