package porep

import (
	"context"
	"fmt"
	"os"

	"sealfleet/seal/merkle"
	"sealfleet/seal/sdr"
)

// encodeAndBuildTreeR writes the replica sealed[i] = data[i] + lastLayer[i]
// to sealedPath (through a temporary file) while building tree_r_last over
// the sealed nodes, and returns comm_r_last.
func encodeAndBuildTreeR(ctx context.Context, cfg sdr.Config, shape merkle.Shape, cacheDir string, data, lastLayer *os.File, sealedPath string, workers int) (root [32]byte, err error) {
	tmp := sealedPath + ".tmp"
	out, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return root, fmt.Errorf("creating sealed file: %w", err)
	}
	defer func() {
		if out != nil {
			out.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := out.Truncate(int64(cfg.Nodes * merkle.NodeSize)); err != nil {
		return root, fmt.Errorf("sizing sealed file: %w", err)
	}
	var dataBuf, keyBuf []byte
	fill := func(start uint64, buf []byte) error {
		if len(dataBuf) < len(buf) {
			dataBuf, keyBuf = make([]byte, len(buf)), make([]byte, len(buf))
		}
		off := int64(start * merkle.NodeSize)
		if _, err := data.ReadAt(dataBuf[:len(buf)], off); err != nil {
			return fmt.Errorf("reading data: %w", err)
		}
		if _, err := lastLayer.ReadAt(keyBuf[:len(buf)], off); err != nil {
			return fmt.Errorf("reading last layer: %w", err)
		}
		err := merkle.Parallel(len(buf)/merkle.NodeSize, 1, workers, func(lo, hi int) error {
			for i := lo; i < hi; i++ {
				o := i * merkle.NodeSize
				if err := EncodeNode(buf[o:o+merkle.NodeSize], dataBuf[o:], keyBuf[o:]); err != nil {
					return fmt.Errorf("encoding node %d: %w", start+uint64(i), err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := out.WriteAt(buf, off); err != nil {
			return fmt.Errorf("writing sealed file: %w", err)
		}
		return nil
	}
	r, _, err := merkle.BuildTrees(ctx, TreeRLastPaths(cacheDir, shape), shape, merkle.Poseidon, fill, workers)
	if err != nil {
		return root, fmt.Errorf("building tree_r_last: %w", err)
	}
	if err := out.Sync(); err != nil {
		return root, fmt.Errorf("syncing sealed file: %w", err)
	}
	if err := out.Close(); err != nil {
		out = nil
		return root, fmt.Errorf("closing sealed file: %w", err)
	}
	out = nil
	if err := os.Rename(tmp, sealedPath); err != nil {
		return root, fmt.Errorf("renaming sealed file: %w", err)
	}
	return r, nil
}
