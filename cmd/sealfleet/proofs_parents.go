package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"sealfleet/internal/progress"
	"sealfleet/seal/sdr"
)

// proofsParentsCmd generates (or verifies) the SDR parents cache file of a proof type.
var proofsParentsCmd = &cli.Command{
	Name:  "parents",
	Usage: "generate the SDR parents cache of a sector size and proof family",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "sector-size", Required: true, Usage: "2KiB, 8MiB, 512MiB, 32GiB or 64GiB"},
		&cli.StringFlag{Name: "proof", Value: "v1.1", Usage: "proof family: v1, v1.1 or synthetic"},
		&cli.StringFlag{Name: "out", Usage: "write the cache to this file (default: open or generate it in the " +
			"parents cache directory, $" + sdr.ParentCacheEnv + " or ~/.sealfleet/parents)"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON"},
	},
	Action: func(cctx *cli.Context) error {
		cfg, err := sdrConfigFromFlags(cctx)
		if err != nil {
			return err
		}
		start := time.Now()
		// two stages from seal/sdr's log: generating (or checking) the cache, then done
		bar := terminalBar(cctx, "parents cache", 1, progress.Count)
		restore := followLog(bar, func(msg string, _ map[string]slog.Value) {
			if msg == "parents cache generated" {
				bar.Set(1)
			}
		})
		defer restore()
		var path string
		var digest [32]byte
		if out := cctx.String("out"); out != "" {
			if digest, err = sdr.WriteParentsCache(cctx.Context, out, cfg); err != nil {
				return err
			}
			path = out
		} else {
			pc, err := sdr.OpenParentsCache("", cfg)
			if err != nil {
				return err
			}
			path, digest = pc.Path(), pc.Digest()
			if err := pc.Close(); err != nil {
				return err
			}
		}
		if bar != nil {
			bar.Set(1)
		}
		restore() // the bar ends before the result is printed
		published, ok := sdr.KnownParentsCacheDigest(cfg)
		res := struct {
			Path      string  `json:"path"`
			Name      string  `json:"name"`
			Nodes     uint64  `json:"nodes"`
			Bytes     uint64  `json:"bytes"`
			SHA256    string  `json:"sha256"`
			Published string  `json:"published"`
			Seconds   float64 `json:"seconds"`
		}{path, sdr.ParentsCacheFileName(cfg), cfg.Nodes, sdr.ParentsCacheSize(cfg), fmt.Sprintf("%x", digest),
			"not listed in rust-fil-proofs parent_cache.json", time.Since(start).Seconds()}
		if ok && published == digest {
			res.Published = "matches rust-fil-proofs parent_cache.json"
		}
		if cctx.Bool("json") {
			return json.NewEncoder(cctx.App.Writer).Encode(res)
		}
		w := cctx.App.Writer
		abs, _ := filepath.Abs(res.Path)
		fmt.Fprintf(w, "path:      %s\nref name:  %s\nnodes:     %d\nbytes:     %d\nsha256:    %s\npublished: %s\nseconds:   %.2f\n",
			abs, res.Name, res.Nodes, res.Bytes, res.SHA256, res.Published, res.Seconds)
		return nil
	},
}
