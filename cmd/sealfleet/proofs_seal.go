package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/urfave/cli/v2"

	"sealfleet/internal/progress"
	"sealfleet/seal/native"
	"sealfleet/seal/sectordir"
	"sealfleet/storiface"
)

// sealStages are the stages `proofs seal` runs, in order.
var sealStages = []string{"AP", "PC1", "PC2", "C1", "C2"}

// proofsSealCmd seals one sector offline in a directory.
var proofsSealCmd = &cli.Command{
	Name:  "seal",
	Usage: "seal one sector in a directory: AP, PC1, PC2, C1, verify, C2 (vanilla prover by default)",
	Description: "Runs the whole native sealer on one sector: the --data file (zero-filled, then zero pieces) or an " +
		"all-zero CC sector. CommD, CommR and the C1 vanilla proofs are what rust-fil-proofs computes. C2 uses the " +
		"vanilla prover unless $" + envC2Command + " names an external prover: VANILLA PROOFS ARE NOT ACCEPTED BY THE " +
		"FILECOIN CHAIN; they are checked by `sealfleet proofs verify`.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "sector-size", Value: "2KiB", Usage: "2KiB, 8MiB, 512MiB, 32GiB or 64GiB"},
		&cli.StringFlag{Name: "proof", Value: "v1.1", Usage: "proof family: v1, v1.1 or synthetic"},
		&cli.Uint64Flag{Name: "miner", Value: 1000, Usage: "miner actor ID (t0<ID>)"},
		&cli.Uint64Flag{Name: "sector", Value: 1, Usage: "sector number"},
		&cli.StringFlag{Name: "ticket", Required: true, Usage: "ticket, 64 hex digits"},
		&cli.StringFlag{Name: "seed", Required: true, Usage: "interactive seed, 64 hex digits"},
		&cli.StringFlag{Name: "data", Usage: "payload file (default: an all-zero CC sector)"},
		&cli.StringFlag{Name: "dir", Required: true, Usage: "empty directory to seal in"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON (commD, commR, replicaID, challenges, seconds)"},
	},
	Action: func(cctx *cli.Context) error {
		proof, err := sealProofFromFlags(cctx)
		if err != nil {
			return err
		}
		req := sectordir.SealRequest{Sector: storiface.SectorRef{
			ID: abi.SectorID{Miner: abi.ActorID(cctx.Uint64("miner")), Number: abi.SectorNumber(cctx.Uint64("sector"))}, ProofType: proof}}
		if req.Ticket, err = sectordir.Hex32("--ticket", cctx.String("ticket")); err != nil {
			return err
		}
		if req.Seed, err = sectordir.Hex32("--seed", cctx.String("seed")); err != nil {
			return err
		}
		if path := cctx.String("data"); path != "" {
			f, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("--data: %w", err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return fmt.Errorf("--data: %w", err)
			}
			req.Data, req.DataSize = f, uint64(st.Size())
		}
		if progress.IsTerminal(os.Stderr) && !cctx.Bool("json") {
			bar := progress.New(os.Stderr, progress.Options{Label: "seal", Total: int64(len(sealStages))})
			defer bar.Finish()
			req.Progress = func(stage string) { bar.Set(int64(stageIndex(stage))) }
		}
		b := native.New(native.Config{})
		defer b.Close()
		prover := proverFromEnv()
		if prover == nil {
			prover = native.VanillaProver{}
		}
		rec, err := sectordir.Seal(cctx.Context, b, cctx.String("dir"), req, prover)
		if err != nil {
			return err
		}
		return printSealRecord(cctx.App.Writer, rec, cctx.Bool("json"))
	},
}

func stageIndex(stage string) int {
	for i, s := range sealStages {
		if s == stage {
			return i
		}
	}
	return 0
}

// printSealRecord prints what `proofs seal` produced, as JSON or text.
func printSealRecord(w io.Writer, rec sectordir.Record, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(map[string]any{
			"commD": rec.CommD, "commR": rec.CommR, "replicaID": rec.ReplicaID,
			"challenges": rec.Challenges, "seconds": rec.Seconds, "prover": rec.Prover,
		})
	}
	fmt.Fprintf(w, "sector     t0%d-%d (proof %d)\n", rec.Miner, rec.Number, rec.ProofType)
	fmt.Fprintf(w, "CommD      %s\nCommR      %s\nreplica ID %s\n", rec.CommD, rec.CommR, rec.ReplicaID)
	fmt.Fprintf(w, "challenges %v\n", rec.Challenges)
	stages := make([]string, 0, len(rec.Seconds))
	for s := range rec.Seconds {
		stages = append(stages, s)
	}
	sort.Slice(stages, func(i, j int) bool { return stageIndex(stages[i]) < stageIndex(stages[j]) })
	for _, s := range stages {
		fmt.Fprintf(w, "%-4s %8.3f s\n", s, rec.Seconds[s])
	}
	if rec.Prover == "vanilla" {
		fmt.Fprintln(w, "proof: vanilla (checked by sealfleet; NOT accepted by the Filecoin chain)")
	}
	return nil
}

// proofsVerifyCmd re-verifies a sector sealed by `proofs seal`.
var proofsVerifyCmd = &cli.Command{
	Name:      "verify",
	Usage:     "re-verify a sector sealed by `proofs seal` from its files; exits non-zero on failure",
	ArgsUsage: " ",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "dir", Required: true, Usage: "directory written by `proofs seal`"},
		&cli.BoolFlag{Name: "json", Usage: "print the checks as JSON"},
	},
	Action: func(cctx *cli.Context) error {
		b := native.New(native.Config{})
		defer b.Close()
		checks, verr := sectordir.Verify(cctx.Context, b, cctx.String("dir"))
		if checks == nil && verr != nil {
			return verr
		}
		if cctx.Bool("json") {
			if err := json.NewEncoder(cctx.App.Writer).Encode(map[string]any{"ok": verr == nil, "checks": checks}); err != nil {
				return err
			}
		} else {
			for _, c := range checks {
				fmt.Fprintf(cctx.App.Writer, "%-12s %-8s %s\n", c.Name, c.Status, c.Detail)
			}
		}
		return verr
	},
}

// proofsUnsealCmd decodes a sector sealed by `proofs seal` back to its payload.
var proofsUnsealCmd = &cli.Command{
	Name:  "unseal",
	Usage: "decode a sector sealed by `proofs seal` from its sealed file and write the original payload",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "dir", Required: true, Usage: "directory written by `proofs seal`"},
		&cli.StringFlag{Name: "out", Required: true, Usage: "file to write the payload to"},
	},
	Action: func(cctx *cli.Context) error {
		b := native.New(native.Config{})
		defer b.Close()
		out := cctx.String("out")
		tmp := out + ".tmp"
		f, err := os.Create(tmp)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		if err := sectordir.Unseal(cctx.Context, b, cctx.String("dir"), f); err != nil {
			f.Close()
			os.Remove(tmp)
			return err
		}
		if err := f.Close(); err != nil {
			os.Remove(tmp)
			return err
		}
		return os.Rename(tmp, out)
	},
}
