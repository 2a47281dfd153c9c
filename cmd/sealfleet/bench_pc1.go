package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/urfave/cli/v2"

	"sealfleet/internal/progress"
	"sealfleet/seal/sdr"
)

// benchPC1Cmd labels a random replica (PC1) and compares the time per node with the SHA-256 floor.
var benchPC1Cmd = &cli.Command{
	Name:  "pc1",
	Usage: "label a random replica (PC1) in a temp dir; report ns/node against bare SHA-256 and peak RSS",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "sector-size", Required: true, Usage: "2KiB, 8MiB, 512MiB, 32GiB or 64GiB"},
		&cli.StringFlag{Name: "proof", Value: "v1.1", Usage: "proof family: v1, v1.1 or synthetic"},
		&cli.StringFlag{Name: "tmp-dir", Value: os.TempDir(), Usage: "directory for the temporary layer files"},
		&cli.StringFlag{Name: "parents-cache", Usage: "parents cache directory (default $" + sdr.ParentCacheEnv +
			" or ~/.sealfleet/parents)"},
		&cli.IntFlag{Name: "runs", Value: 1, Usage: "labeling runs, each with a new random replica and its own floor " +
			"measurements; with more than one, the median ratio is printed last (with --json: one object per run and line)"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON"},
	},
	Action: func(cctx *cli.Context) error {
		cfg, err := sdrConfigFromFlags(cctx)
		if err != nil {
			return err
		}
		runs := cctx.Int("runs")
		if runs < 1 {
			return fmt.Errorf("--runs %d: want 1 or more", runs)
		}
		w := cctx.App.Writer
		ratios := make([]float64, 0, runs)
		for i := 1; i <= runs; i++ {
			// Interrupting stops labeling and removes the temporary layers.
			res, err := benchWithLayerBar(cctx, fmt.Sprintf("pc1 layers, run %d of %d", i, runs), int64(cfg.Layers),
				func(ctx context.Context, _ *progress.Bar) (sdr.PC1BenchResult, error) {
					return sdr.BenchPC1(ctx, cfg, cctx.String("parents-cache"), cctx.String("tmp-dir"))
				})
			if err != nil {
				return err
			}
			ratios = append(ratios, res.Ratio)
			if cctx.Bool("json") {
				if err := json.NewEncoder(w).Encode(res); err != nil {
					return err
				}
				continue
			}
			if runs > 1 {
				fmt.Fprintf(w, "run %d of %d\n", i, runs)
			}
			printPC1Result(w, res)
		}
		if runs > 1 && !cctx.Bool("json") {
			lo, med, hi := medianRange(ratios)
			fmt.Fprintf(w, "ratio over %d runs: median %.3f (min %.3f, max %.3f)\n", runs, med, lo, hi)
		}
		return nil
	},
}

// medianRange returns the smallest, the median and the largest of xs (not empty).
func medianRange(xs []float64) (lo, med, hi float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return s[0], med, s[n-1]
}

// printPC1Result prints one `bench pc1` run for people.
func printPC1Result(w io.Writer, res sdr.PC1BenchResult) {
	fmt.Fprintf(w, "nodes %d, layers %d, cores %d\n", res.Nodes, res.Layers, res.Cores)
	fmt.Fprintf(w, "seconds %.2f, nsPerNode %.1f, shaNsPerNode %.1f (%s; before %.1f, after %.1f), ratio %.3f\n",
		res.Seconds, res.NsPerNode, res.ShaNsPerNode, res.ShaImpl, res.ShaNsPerNodeBefore, res.ShaNsPerNodeAfter,
		res.Ratio)
	fmt.Fprintf(w, "crypto/sha256 for the same chain: %.1f ns/node\n", res.ShaStdlibNsPerNode)
	fmt.Fprintf(w, "hasher thread CPU %.1f ns/node, SHA-256 loop CPU %.1f ns/node, cpuRatio %.3f\n",
		res.HasherCPUNsPerNode, res.ShaCPUNsPerNode, res.CPURatio)
	fmt.Fprintf(w, "hasher waited for the gatherer %.1f ns/node, lost its CPU %d times; gatherer thread CPU %.1f ns/node\n",
		res.HasherWaitNsPerNode, res.HasherPreemptions, res.GathererCPUNsPerNode)
	if res.HostStealPercent >= 0 {
		fmt.Fprintf(w, "hypervisor steal %.1f %% of the busy CPUs' time while labeling, %.1f %% during the floor\n",
			res.HostStealPercent, res.FloorHostStealPercent)
	}
	fmt.Fprintf(w, "peakRSSBytes %d (%.1f MiB; parents cache %.1f MiB)\n",
		res.PeakRSSBytes, float64(res.PeakRSSBytes)/(1<<20), float64(res.ParentsCacheBytes)/(1<<20))
	what := "verified"
	if res.ParentsCacheGenerated {
		what = "generated"
	}
	fmt.Fprintf(w, "parents cache %s in %.2f s\n", what, res.ParentsCacheSeconds)
}

// sdrConfigFromFlags reads --sector-size and --proof into a graph configuration.
func sdrConfigFromFlags(cctx *cli.Context) (sdr.Config, error) {
	proof, err := sealProofFromFlags(cctx)
	if err != nil {
		return sdr.Config{}, err
	}
	return sdr.ConfigFor(proof)
}

// benchWithLayerBar runs bench with a context that SIGINT and SIGTERM cancel (the benches then remove their
// temporary files) while a terminal bar titled label counts total stages, advanced by seal/sdr's
// "layer labelled" log lines. With --json or off a terminal there is no bar and bar is nil. Logging is
// restored before it returns; bench's result and error are returned as they are.
func benchWithLayerBar[T any](cctx *cli.Context, label string, total int64,
	bench func(ctx context.Context, bar *progress.Bar) (T, error)) (T, error) {
	ctx, stop := signal.NotifyContext(cctx.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := terminalBar(cctx, label, total, progress.Count)
	restore := followLog(bar, layerStages(bar))
	defer restore()
	return bench(ctx, bar)
}
