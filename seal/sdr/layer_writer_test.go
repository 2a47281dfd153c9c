package sdr

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLayerWriterFinishWritesWhatTheGoroutineHasNot(t *testing.T) {
	// finish does not wait for the writing goroutine: whether it has written none, some or all chunks when
	// finish is called (right after the whole layer is published, before its 10 ms poll, or after the
	// goroutine has written every chunk and started its writeback), the file ends up complete under its final
	// name and the temporary file is gone. Also after abort nothing is left.
	data := randomLayer(5000, 9) // 5000 nodes in chunks of 1024: four whole chunks and a partial one
	for _, tc := range []struct {
		name          string
		abort         bool
		goroutineDone bool
	}{{"finish", false, false}, {"finish after the goroutine", false, true}, {"abort", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := newLayerWriter(dir, 1, data, 1024, nil)
			if err != nil {
				t.Fatal(err)
			}
			w.progress.Store(5000)
			if tc.goroutineDone {
				w.wake <- struct{}{}
				<-w.exited // it leaves once every chunk is written
				tmp, err := os.ReadFile(filepath.Join(dir, LayerFileName(1)+layerTempSuffix))
				if w.written.Load() != 5 || err != nil || !bytes.Equal(tmp, data) {
					t.Fatalf("goroutine wrote %d of 5 chunks, temporary file equal %v, err %v", w.written.Load(),
						bytes.Equal(tmp, data), err)
				}
			}
			final := filepath.Join(dir, LayerFileName(1))
			if tc.abort {
				w.abort()
				if _, err := os.Stat(final); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("layer file after abort: %v", err)
				}
			} else {
				if err := w.finish(); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(final)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("layer file: %d bytes, equal %v, err %v", len(got), bytes.Equal(got, data), err)
				}
			}
			if _, err := os.Stat(final + layerTempSuffix); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("temporary file left: %v", err)
			}
		})
	}
}
