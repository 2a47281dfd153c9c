package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"sealfleet/internal/progress"
	"sealfleet/seal/commp/piecebench"
)

// benchPieceCmd measures Fr32 padding and CommP throughput against go-fil-commp-hashhash.
var benchPieceCmd = &cli.Command{
	Name:  "piece",
	Usage: "measure Fr32 padding and CommP throughput (1 and 2 cores) against go-fil-commp-hashhash",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "size", Value: "512MiB", Usage: "payload size (KiB, MiB or GiB suffix)"},
		&cli.IntFlag{Name: "reps", Value: 1, Usage: "runs per CommP figure; the best is reported"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON"},
	},
	Action: func(cctx *cli.Context) error {
		size, err := piecebench.ParseSize(cctx.String("size"))
		if err != nil {
			return fmt.Errorf("--size: %w", err)
		}
		var step func()
		if bar := terminalBar(cctx, "bench piece", int64(piecebench.Steps(cctx.Int("reps"))), progress.Count); bar != nil {
			defer bar.Finish()
			step = func() { bar.Add(1) }
		}
		res, err := piecebench.RunWithProgress(size, cctx.Int("reps"), step)
		if err != nil {
			return err
		}
		if cctx.Bool("json") {
			return json.NewEncoder(cctx.App.Writer).Encode(res)
		}
		w := cctx.App.Writer
		fmt.Fprintf(w, "payload %d bytes, %d CPUs, load before run: %s\n", res.PayloadBytes, res.NumCPU, res.LoadAvg)
		fmt.Fprintf(w, "fr32 pad      1 core: %8.1f MiB/s   2 cores: %8.1f MiB/s   unpad 1 core: %8.1f MiB/s\n",
			res.Fr32Pad1Core, res.Fr32Pad2Cores, res.Fr32Unpad1Core)
		fmt.Fprintf(w, "CommP         1 core: %8.1f MiB/s   2 cores: %8.1f MiB/s\n", res.CommP1Core, res.CommP2Cores)
		fmt.Fprintf(w, "hashhash      1 core: %8.1f MiB/s   2 cores: %8.1f MiB/s\n", res.Hashhash1Core, res.Hashhash2Cores)
		fmt.Fprintf(w, "ratio 1 core vs hashhash 1 core: %.2fx; 2 cores vs hashhash 1 core: %.2fx; 2 cores vs hashhash 2 cores: %.2fx\n",
			res.Ratio1Core, res.Ratio2CoresVs1, res.Ratio2CoresVs2Cores)
		fmt.Fprintf(w, "per CPU-second, 1 core: CommP %.1f MiB, hashhash %.1f MiB (ratio %.2fx); 2 cores: CommP %.1f MiB, hashhash %.1f MiB\n",
			res.CommP1CoreCPU, res.Hashhash1CoreCPU, res.RatioCPU, res.CommP2CoresCPU, res.Hashhash2CoresCPU)
		return nil
	},
}
