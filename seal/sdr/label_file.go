package sdr

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// spotChecks is the number of labels of each existing layer file recomputed from their parents before the file
// is trusted on resume.
const spotChecks = 32

// Label computes all cfg.Layers layers of the replica into cacheDir as sc-02-data-layer-<n>.dat (NodeSize bytes
// per node, the labels as little-endian field elements, exactly the bytes the reference writes). Each layer is
// written under a temporary name, fsynced and renamed, so a layer file either is complete or absent.
//
// Label resumes: layer files already present are kept, from layer 1 up to the first one that is missing, has the
// wrong size or fails the spot check (spotChecks labels, among them nodes 0, 1 and the last one, recomputed from
// their parents in that file and the previous one — this catches truncation, corruption and files of another
// replica); labeling restarts after the last kept layer and later files are replaced. Memory is two layers
// (2 × Nodes × 32 bytes) plus the mapped parents cache. pc must belong to cfg's graph.
func Label(ctx context.Context, cfg Config, pc *ParentsCache, replicaID [32]byte, cacheDir string) error {
	_, err := LabelWithStats(ctx, cfg, pc, replicaID, cacheDir)
	return err
}

// LabelStats describes what a Label run did.
type LabelStats struct {
	// LayersKept is the number of layer files found complete and kept (resume).
	LayersKept int
	// LayerSeconds is the wall time of each layer labelled in this run: labeling, and for the last layer also
	// completing its file (the files of earlier layers are completed while the next layer is labelled).
	LayerSeconds []float64
	// HasherCPUSeconds is the thread CPU time of the label kernel calls over all layers (Linux; 0 elsewhere).
	// Compared with wall time it shows how much of the run the hasher actually had a processor.
	HasherCPUSeconds float64
	// GathererCPUSeconds is the thread CPU time the gatherer spent filling tables over all layers (Linux; 0
	// elsewhere). Close to HasherCPUSeconds, the gatherer is about to become the bound (large sectors).
	GathererCPUSeconds float64
	// HasherWaitSeconds is how long the hashing thread waited for the gatherer's tables over all layers.
	HasherWaitSeconds float64
	// HasherPreemptions is how often the hashing thread lost its CPU to another thread during the kernel calls
	// (Linux; 0 elsewhere).
	HasherPreemptions uint64
}

// LabelWithStats is Label, also reporting what the run did.
func LabelWithStats(ctx context.Context, cfg Config, pc *ParentsCache, replicaID [32]byte, cacheDir string) (LabelStats, error) {
	return labelFiles(ctx, cfg, pc, replicaID, cacheDir, writeChunkNodes(cfg.Nodes))
}

// labelFiles is LabelWithStats with the layer files streamed in chunks of chunkNodes nodes (tests make them
// small; the gatherer's chunks are no larger).
func labelFiles(ctx context.Context, cfg Config, pc *ParentsCache, replicaID [32]byte, cacheDir string,
	chunkNodes uint64) (LabelStats, error) {
	var stats LabelStats
	if err := cfg.Validate(); err != nil {
		return stats, err
	}
	if pc == nil || pc.closed() {
		return stats, errors.New("labeling: parents cache is nil or closed")
	}
	if pcfg := pc.Config(); pcfg.Nodes != cfg.Nodes || pcfg.PoRepID != cfg.PoRepID || pcfg.Version != cfg.Version {
		return stats, fmt.Errorf("labeling: parents cache is for %d nodes, porep id %x, version %v; config wants %d, %x, %v",
			pcfg.Nodes, pcfg.PoRepID, pcfg.Version, cfg.Nodes, cfg.PoRepID, cfg.Version)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return stats, fmt.Errorf("labeling: creating cache dir: %w", err)
	}
	log := slog.Default().With("component", "sdr", "dir", cacheDir)
	removeTempLayers(cacheDir)
	kept, err := keptLayers(cfg, pc, replicaID, cacheDir, log)
	if err != nil {
		return stats, err
	}
	stats.LayersKept = kept
	if err := ctx.Err(); err != nil {
		return stats, fmt.Errorf("labeling: %w", err)
	}
	if kept == cfg.Layers {
		log.Info("all layers already labelled", "layers", kept)
		return stats, nil
	}
	size := cfg.Nodes * NodeSize
	// The layer buffers and tables, unmapped when this run and all gatherers are done. This run lets go of them
	// on another goroutine: the layer files are complete by then, and unmapping costs about 4 ms at 8MiB (mostly
	// the tables' small pages; 0.9 % of the run), which the caller need not wait for.
	mem := newArena()
	defer func() { go mem.release() }()
	cur, freeCur, err := allocLayer(size)
	if err != nil {
		return stats, err
	}
	mem.add(freeCur)
	prev, freePrev, err := allocLayer(size)
	if err != nil {
		return stats, err
	}
	mem.add(freePrev)
	newScratch := func() (*labelScratch, error) {
		s, err := newLabelScratch(min(gatherChunkNodes, chunkNodes), size, mem)
		if err == nil && scratchMade != nil {
			scratchMade(s)
		}
		return s, err
	}
	scratch, err := newScratch()
	if err != nil {
		return stats, err
	}
	if kept > 0 {
		if err := readLayer(filepath.Join(cacheDir, LayerFileName(kept)), prev); err != nil {
			return stats, err
		}
		log.Info("resuming labeling", "kept_layers", kept)
	}
	// A layer's file is completed (final chunks, fsync, rename) while the next layer is labelled: that layer
	// reads the buffer being written out but never changes it. The buffer is written again two layers later,
	// so each layer waits for the previous layer's file, and for its writing goroutine to have left, before its
	// own is completed; the last layer's file is complete before Label returns.
	var pending chan error
	waitPending := func() error {
		if pending == nil {
			return nil
		}
		err := <-pending
		pending = nil
		return err
	}
	defer func() { _ = waitPending() }()
	for layer := kept + 1; layer <= cfg.Layers; layer++ {
		start := time.Now()
		w, err := newLayerWriter(cacheDir, layer, cur, chunkNodes, mem)
		if err != nil {
			return stats, err
		}
		ls, err := labelLayer(ctx, pc, replicaID, layer, cur, prev, w, scratch)
		stats.HasherCPUSeconds += ls.hasherCPU.Seconds()
		stats.GathererCPUSeconds += ls.gathererCPU.Seconds()
		stats.HasherWaitSeconds += ls.waited.Seconds()
		stats.HasherPreemptions += ls.preemptions
		if err != nil {
			w.abort()
			return stats, fmt.Errorf("labeling layer %d: %w", layer, err)
		}
		if ls.tablesInUse && layer < cfg.Layers {
			// A starved gatherer is still filling one of the tables: the next layer gets its own.
			log.Warn("gatherer still filling a table at the end of the layer; new tables for the next layer", "layer", layer)
			if scratch, err = newScratch(); err != nil {
				w.abort()
				return stats, err
			}
		}
		if err := waitPending(); err != nil {
			w.abort()
			return stats, err
		}
		if layer == cfg.Layers {
			if err := w.finish(); err != nil {
				return stats, err
			}
		} else {
			pending = make(chan error, 1)
			go func(w *layerWriter, done chan<- error) {
				err := w.finish()
				<-w.exited // its buffer is labelled again two layers later: no write of the writer may still read it
				done <- err
			}(w, pending)
		}
		secs := time.Since(start).Seconds()
		stats.LayerSeconds = append(stats.LayerSeconds, secs)
		log.Info("layer labelled", "layer", layer, "seconds", secs, "hasher_cpu_seconds", ls.hasherCPU.Seconds(),
			"gatherer_cpu_seconds", ls.gathererCPU.Seconds(),
			"hasher_wait_seconds", ls.waited.Seconds(), "hasher_preemptions", ls.preemptions,
			"chunks_filled_by_hasher", ls.selfFilled)
		cur, prev = prev, cur
	}
	return stats, nil
}

// scratchMade, when set (tests only, not in parallel), sees each set of tables labelFiles allocates.
var scratchMade func(*labelScratch)

// keptLayers returns how many layers, from layer 1 on, are already present and pass the checks; the files of
// any later layers are removed.
func keptLayers(cfg Config, pc *ParentsCache, replicaID [32]byte, dir string, log *slog.Logger) (int, error) {
	kept := 0
	for layer := 1; layer <= cfg.Layers; layer++ {
		err := checkLayer(cfg, pc, replicaID, dir, layer)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			log.Warn("layer file not kept", "layer", layer, "reason", err)
			break
		}
		kept = layer
	}
	for layer := kept + 1; layer <= cfg.Layers; layer++ {
		if err := os.Remove(filepath.Join(dir, LayerFileName(layer))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("removing stale layer %d: %w", layer, err)
		}
	}
	return kept, nil
}

// checkLayer verifies the size of a layer file and recomputes spotChecks of its labels.
func checkLayer(cfg Config, pc *ParentsCache, replicaID [32]byte, dir string, layer int) error {
	f, err := os.Open(filepath.Join(dir, LayerFileName(layer)))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if uint64(st.Size()) != cfg.Nodes*NodeSize {
		return fmt.Errorf("size %d bytes, want %d", st.Size(), cfg.Nodes*NodeSize)
	}
	var prev *os.File
	if layer > 1 {
		if prev, err = os.Open(filepath.Join(dir, LayerFileName(layer-1))); err != nil {
			return fmt.Errorf("opening previous layer: %w", err)
		}
		defer prev.Close()
	}
	parentLabels := make([][32]byte, layerDegree(layer))
	for i := 0; i < spotChecks; i++ {
		v := spotNode(cfg.Nodes, replicaID, layer, i)
		var stored [32]byte
		if _, err := f.ReadAt(stored[:], int64(v*NodeSize)); err != nil {
			return fmt.Errorf("reading node %d: %w", v, err)
		}
		parents := pc.Parents(v)
		for s := range parentLabels {
			src := f
			if s >= BaseDegree {
				src = prev
			}
			if _, err := src.ReadAt(parentLabels[s][:], int64(uint64(parents[s])*NodeSize)); err != nil {
				return fmt.Errorf("reading parent %d of node %d: %w", parents[s], v, err)
			}
		}
		if want := NodeLabel(replicaID, layer, v, parentLabels); want != stored {
			return fmt.Errorf("label of node %d does not match its parents (corrupt, or another replica's)", v)
		}
	}
	return nil
}

// spotNode picks the i-th node to check: 0, 1 and the last node first, then pseudo-random ones.
func spotNode(nodes uint64, replicaID [32]byte, layer, i int) uint64 {
	switch i {
	case 0:
		return 0
	case 1:
		return 1
	case 2:
		return nodes - 1
	}
	var b [40]byte
	copy(b[:32], replicaID[:])
	binary.LittleEndian.PutUint32(b[32:], uint32(layer))
	binary.LittleEndian.PutUint32(b[36:], uint32(i))
	h := sha256.Sum256(b[:])
	return binary.LittleEndian.Uint64(h[:8]) % nodes
}

// readLayer loads a layer file into buf.
func readLayer(path string, buf []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading layer: %w", err)
	}
	defer f.Close()
	if _, err := io.ReadFull(f, buf); err != nil {
		return fmt.Errorf("reading layer %s: %w", filepath.Base(path), err)
	}
	return nil
}

// layerTempSuffix marks layer files being written.
const layerTempSuffix = ".tmp"

// removeTempLayers deletes layer files a crashed run left half-written.
func removeTempLayers(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, "sc-02-data-layer-*.dat"+layerTempSuffix))
	for _, m := range matches {
		if strings.HasSuffix(m, layerTempSuffix) {
			_ = os.Remove(m)
		}
	}
}
