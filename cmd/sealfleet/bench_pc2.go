package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"sealfleet/internal/progress"
	"sealfleet/seal/porep"
	"sealfleet/seal/sdr"
	"sealfleet/storiface"
)

// benchPC2Cmd seals random data (PC1 + PC2 + a C1 check) and reports PC2's wall time and peak RSS.
var benchPC2Cmd = &cli.Command{
	Name:  "pc2",
	Usage: "run PC1 + PC2 on random data in a temp dir; report PC2 seconds, peak RSS and Poseidon hashes/s per arity",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "sector-size", Value: "2KiB", Usage: "2KiB, 8MiB, 512MiB, 32GiB or 64GiB (V1_1 proof)"},
		&cli.StringFlag{Name: "tmp-dir", Value: os.TempDir(), Usage: "directory for the temporary sector"},
		&cli.StringFlag{Name: "parents-cache", Usage: "parents cache directory (default: the reference's)"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON"},
	},
	Action: func(cctx *cli.Context) error {
		size, err := storiface.ParseSectorSize(cctx.String("sector-size"))
		if err != nil {
			return fmt.Errorf("--sector-size: %w", err)
		}
		proof, err := storiface.SealProofFor(size, storiface.ProofV1_1)
		if err != nil {
			return err
		}
		graph, err := sdr.ConfigFor(proof)
		if err != nil {
			return err
		}
		// stages: each PC1 layer (from seal/sdr's log), then PC2 with C1 as the last step.
		// Interrupting stops the run and removes its temporary sector.
		stages := int64(graph.Layers) + 1
		res, err := benchWithLayerBar(cctx, "pc1 layers, pc2", stages,
			func(ctx context.Context, bar *progress.Bar) (*porep.PC2Bench, error) {
				res, err := porep.BenchPC2(ctx, proof, cctx.String("tmp-dir"), cctx.String("parents-cache"))
				if err == nil && bar != nil {
					bar.Set(stages)
				}
				return res, err
			})
		if err != nil {
			return err
		}
		if cctx.Bool("json") {
			return json.NewEncoder(cctx.App.Writer).Encode(res)
		}
		w := cctx.App.Writer
		fmt.Fprintf(w, "sector %s on %d cores: PC1 %.1f s, PC2 %.1f s, C1+verify %.2f s\n",
			storiface.SizeString(size), res.Cores, res.PC1Seconds, res.Seconds, res.C1Seconds)
		fmt.Fprintf(w, "PC2 CPU %.1f s (load average before PC2: %s)\n", res.CPUSeconds, res.LoadAvg)
		fmt.Fprintf(w, "PC2 peak RSS %.1f MiB (scope: %s)\n", float64(res.PeakRSSBytes)/(1<<20), res.PeakRSSScope)
		fmt.Fprintf(w, "Poseidon hashes/s (1 core): arity 2 %.0f, arity 8 %.0f, arity 11 %.0f\n",
			res.PoseidonHashesPerSecond["2"], res.PoseidonHashesPerSecond["8"], res.PoseidonHashesPerSecond["11"])
		fmt.Fprintf(w, "comm_d %s\ncomm_r %s\n", res.CommD, res.CommR)
		return nil
	},
}
