package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"sealfleet/chaos"
)

// chaosCmd runs a manager and workers as real processes, kills and restarts them at random and checks the
// cluster's promises (see package chaos and docs/guarantees.md).
var chaosCmd = &cli.Command{
	Name:  "chaos",
	Usage: "seal sectors on a local cluster of real processes while killing and restarting them; check every promise",
	Flags: []cli.Flag{
		&cli.Uint64Flag{Name: "seed", Usage: "fault injector seed (default: from the clock; printed for replay)"},
		&cli.IntFlag{Name: "sectors", Value: 6, Usage: "sectors to pledge"},
		&cli.IntFlag{Name: "kills", Value: 3, Usage: "SIGKILLs to inject (workers or the manager, at random)"},
		&cli.IntFlag{Name: "workers", Value: 3, Usage: "worker processes"},
		&cli.StringFlag{Name: "sector-size", Value: "2KiB", Usage: "sector size (2KiB, 8MiB, 512MiB)"},
		&cli.DurationFlag{Name: "timeout", Value: 4 * time.Minute, Usage: "how long sectors may take to reach Proving after the last kill"},
		&cli.StringFlag{Name: "dir", Usage: "working directory for repos and logs (default: a temporary one, removed unless --keep)"},
		&cli.BoolFlag{Name: "keep", Usage: "keep the working directory (logs of every process)"},
		&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
	},
	Action: func(cctx *cli.Context) error {
		bin, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the sealfleet executable: %w", err)
		}
		dir := cctx.String("dir")
		if dir == "" {
			if dir, err = os.MkdirTemp("", "sealfleet-chaos-"); err != nil {
				return err
			}
			if !cctx.Bool("keep") {
				defer os.RemoveAll(dir)
			}
		}
		seed := cctx.Uint64("seed")
		if !cctx.IsSet("seed") {
			seed = uint64(time.Now().UnixNano())
		}
		ctx, stop := signal.NotifyContext(cctx.Context, os.Interrupt, syscall.SIGTERM)
		defer stop()
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		if cctx.Bool("json") {
			log = slog.New(slog.DiscardHandler)
		}
		rep, err := chaos.Run(ctx, chaos.Config{Binary: bin, Dir: dir, Seed: seed, Sectors: cctx.Int("sectors"),
			Kills: cctx.Int("kills"), Workers: cctx.Int("workers"), SectorSize: cctx.String("sector-size"),
			Timeout: cctx.Duration("timeout"), Logger: log})
		if err != nil {
			return fmt.Errorf("chaos run (seed %d, logs in %s): %w", seed, dir, err)
		}
		if cctx.Bool("json") {
			if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
				return err
			}
		} else {
			printChaosReport(rep, dir, cctx.Bool("keep") || cctx.IsSet("dir"))
		}
		if !rep.OK {
			return cli.Exit("", 1)
		}
		return nil
	},
}

// printChaosReport writes the report for people.
func printChaosReport(rep chaos.Report, dir string, kept bool) {
	fmt.Printf("seed                 %d\n", rep.Seed)
	fmt.Printf("sectors Proving      %d / %d\n", rep.Proving, rep.Sectors)
	fmt.Printf("proofs verified      %d\n", rep.ProofsVerified)
	fmt.Printf("kills                %d\n", len(rep.Kills))
	for _, k := range rep.Kills {
		fmt.Printf("  +%6d ms  %s\n", k.AfterMs, k.Victim)
	}
	fmt.Printf("executions           %d: finished %d, failed %d, cut by a kill %d, running %d\n", rep.Executions,
		rep.FinishedExecutions, rep.FailedExecutions, rep.CutExecutions, rep.RunningExecutions)
	fmt.Printf("work IDs             %d, most finished executions of one %d\n", rep.WorkIDs, rep.MaxFinishedPerWorkID)
	fmt.Printf("ran twice            %d\n", len(rep.RanTwice))
	for _, r := range rep.Reissued {
		fmt.Printf("  re-issued after a manager kill: %s\n", r)
	}
	fmt.Printf("leaked reservations  %d bytes over %d paths\n", rep.LeakedReservedBytes, rep.PathsChecked)
	fmt.Printf("temporary files left %d\n", len(rep.TempFiles))
	fmt.Printf("time                 %.1f s\n", rep.Seconds)
	for _, f := range rep.Failures {
		fmt.Printf("FAIL: %s\n", f)
	}
	if rep.OK {
		fmt.Println("OK")
	}
	if kept {
		fmt.Printf("logs in %s\n", dir)
	}
}
