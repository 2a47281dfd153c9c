package sdr

import (
	"fmt"
	"os"
	"path/filepath"
)

// defaultWriteChunkNodes is the unit (in nodes, 4 MiB of labels) in which a layer is streamed to its file while
// it is being labelled.
const defaultWriteChunkNodes = 1 << 17

// syncEveryChunks is how many written chunks the writer lets accumulate before it fsyncs, so that the disk
// works during labeling and the final fsync only has the tail left (the reference writes each layer at the end
// without fsync; on a 100 MB/s disk a 512MiB layer takes 5 s to reach the disk).
const syncEveryChunks = 4

// layerWriter streams a layer's labels to "<layer file>.tmp" from a goroutine as the hasher completes chunks,
// then fsyncs and renames it. The hasher hands over chunks through a channel with room for all of them, so it
// never blocks.
type layerWriter struct {
	// chunkNodes is the chunk size in nodes.
	chunkNodes uint64
	path       string
	tmp        string
	f          *os.File
	data       []byte
	chunks     chan uint64
	done       chan error
}

// newLayerWriter creates the temporary file of layer in dir and starts the writing goroutine over data, which is
// handed over in chunks of chunkNodes nodes.
func newLayerWriter(dir string, layer int, data []byte, chunkNodes uint64) (*layerWriter, error) {
	path := filepath.Join(dir, LayerFileName(layer))
	w := &layerWriter{chunkNodes: chunkNodes, path: path, tmp: path + layerTempSuffix, data: data}
	f, err := os.OpenFile(w.tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("writing layer %d: %w", layer, err)
	}
	w.f = f
	nodes := uint64(len(data)) / NodeSize
	w.chunks = make(chan uint64, (nodes+chunkNodes-1)/chunkNodes+1)
	w.done = make(chan error, 1)
	go w.run()
	return w, nil
}

// chunkDone tells the writer that the labels of nodes [c·chunkNodes, (c+1)·chunkNodes) are final.
func (w *layerWriter) chunkDone(c uint64) { w.chunks <- c }

// run writes chunks as they arrive and fsyncs every syncEveryChunks chunks. After an error it drains the channel.
func (w *layerWriter) run() {
	var err error
	written := 0
	for c := range w.chunks {
		if err != nil {
			continue
		}
		start := c * w.chunkNodes * NodeSize
		end := min(start+w.chunkNodes*NodeSize, uint64(len(w.data)))
		if _, err = w.f.WriteAt(w.data[start:end], int64(start)); err != nil {
			continue
		}
		if written++; written%syncEveryChunks == 0 {
			err = w.f.Sync()
		}
	}
	w.done <- err
}

// finish waits for the remaining chunks, fsyncs, and renames the file into place (then fsyncs the directory).
func (w *layerWriter) finish() error {
	close(w.chunks)
	err := <-w.done
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
	close(w.chunks)
	<-w.done
	w.f.Close()
	_ = os.Remove(w.tmp)
}
