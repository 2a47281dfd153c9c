package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/urfave/cli/v2"

	"sealfleet/api"
	"sealfleet/pipeline"
	"sealfleet/storiface"
)

// sectorsCmd groups the sector pipeline commands; they talk to a running manager (`sealfleet run`).
var sectorsCmd = &cli.Command{
	Name:  "sectors",
	Usage: "create, inspect and manage sectors in the manager's sealing pipeline",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "repo", Usage: "manager repo dir (holds the API endpoint and token); " +
			api.EnvAPIInfo + " overrides it", EnvVars: []string{api.EnvRepo}},
	},
	Subcommands: []*cli.Command{
		sectorsPledgeCmd, sectorsAddPieceCmd, sectorsListCmd, sectorsStatusCmd, sectorsRemoveCmd,
		sectorsUnsealCmd, sectorsReadCmd, sectorsUpdateStateCmd,
	},
}

var waitFlag = &cli.BoolFlag{Name: "wait", Usage: "follow the sectors until they are Proving, removed or given up " +
	"(a live progress bar on a terminal, a line per state change otherwise)"}

// withSectorsAPI dials the manager and runs f with the client.
func withSectorsAPI(cctx *cli.Context, f func(ctx context.Context, a sectorsAPI) error) error {
	repo := cctx.String("repo")
	if repo == "" {
		repo = api.DefaultRepo()
	}
	info, err := api.ReadInfo(repo)
	if err != nil {
		return err
	}
	c, closer, err := dialSectors(cctx.Context, info)
	if err != nil {
		return err
	}
	defer closer()
	return f(cctx.Context, c)
}

// sectorArg parses argument i as a sector number.
func sectorArg(cctx *cli.Context, i int) (abi.SectorNumber, error) {
	v, err := uintArg(cctx, i, "sector number")
	return abi.SectorNumber(v), err
}

// firstSectorArg checks that the command got exactly n arguments (see exactArgs) and parses the first as a
// sector number (see sectorArg).
func firstSectorArg(cctx *cli.Context, n int) (abi.SectorNumber, error) {
	if err := exactArgs(cctx, n); err != nil {
		return 0, err
	}
	return sectorArg(cctx, 0)
}

// uintArg parses argument i as an unsigned decimal; what names it in errors.
func uintArg(cctx *cli.Context, i int, what string) (uint64, error) {
	s := cctx.Args().Get(i)
	if s == "" {
		return 0, fmt.Errorf("missing %s (usage: %s %s)", what, cctx.Command.Name, cctx.Command.ArgsUsage)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q: want a non-negative decimal number", what, s)
	}
	return v, nil
}

// exactArgs checks the argument count.
func exactArgs(cctx *cli.Context, n int) error {
	if cctx.NArg() != n {
		return fmt.Errorf("%s takes %d argument(s): %s", cctx.Command.Name, n, cctx.Command.ArgsUsage)
	}
	return nil
}

var sectorsPledgeCmd = &cli.Command{
	Name:  "pledge",
	Usage: "create committed-capacity sectors (zero data) and seal them",
	Flags: []cli.Flag{
		&cli.IntFlag{Name: "count", Value: 1, Usage: "number of sectors to pledge"},
		waitFlag,
	},
	Action: func(cctx *cli.Context) error {
		if cctx.Int("count") < 1 {
			return fmt.Errorf("--count %d: must be at least 1", cctx.Int("count"))
		}
		return withSectorsAPI(cctx, func(ctx context.Context, a sectorsAPI) error {
			var nums []abi.SectorNumber
			for range cctx.Int("count") {
				n, err := a.SectorsPledge(ctx)
				if err != nil {
					return fmt.Errorf("pledging: %w", err)
				}
				fmt.Fprintf(cctx.App.Writer, "pledged sector %d\n", n)
				nums = append(nums, n)
			}
			return maybeWait(cctx, a, nums)
		})
	},
}

var sectorsAddPieceCmd = &cli.Command{
	Name:      "add-piece",
	Usage:     "send a file's bytes as deal data to the manager, which packs it into an open sector",
	ArgsUsage: "FILE",
	Flags:     []cli.Flag{waitFlag},
	Action: func(cctx *cli.Context) error {
		if err := exactArgs(cctx, 1); err != nil {
			return err
		}
		f, err := os.Open(cctx.Args().First())
		if err != nil {
			return fmt.Errorf("FILE: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("FILE: %w", err)
		}
		if !st.Mode().IsRegular() || st.Size() == 0 {
			return fmt.Errorf("FILE %s: want a non-empty regular file", f.Name())
		}
		return withSectorsAPI(cctx, func(ctx context.Context, a sectorsAPI) error {
			loc, err := a.SectorsAddPiece(ctx, f, uint64(st.Size()))
			if err != nil {
				return err
			}
			fmt.Fprintf(cctx.App.Writer, "sector %d offset %d size %d (payload %d bytes)\n", loc.Sector, loc.Offset,
				loc.Size, loc.DataSize)
			return maybeWait(cctx, a, []abi.SectorNumber{loc.Sector})
		})
	},
}

var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print JSON instead of text"}

var sectorsListCmd = &cli.Command{
	Name:  "list",
	Usage: "list every sector with its state",
	Flags: []cli.Flag{jsonFlag},
	Action: func(cctx *cli.Context) error {
		return withSectorsAPI(cctx, func(ctx context.Context, a sectorsAPI) error {
			infos, err := a.SectorsList(ctx)
			if err != nil {
				return err
			}
			if cctx.Bool("json") {
				return printJSON(cctx.App.Writer, infos)
			}
			return renderSectorList(cctx.App.Writer, infos, time.Now())
		})
	},
}

var sectorsStatusCmd = &cli.Command{
	Name:      "status",
	Usage:     "show a sector's details",
	ArgsUsage: "SECTOR",
	Flags:     []cli.Flag{&cli.BoolFlag{Name: "log", Usage: "also show the sector's event log"}, jsonFlag},
	Action: func(cctx *cli.Context) error {
		n, err := firstSectorArg(cctx, 1)
		if err != nil {
			return err
		}
		return withSectorsAPI(cctx, func(ctx context.Context, a sectorsAPI) error {
			info, err := a.SectorsStatus(ctx, n)
			if err != nil {
				return err
			}
			var events []pipeline.Event
			if cctx.Bool("log") {
				if events, err = a.SectorsEvents(ctx, n); err != nil {
					return err
				}
				if events == nil {
					events = []pipeline.Event{}
				}
			}
			if cctx.Bool("json") {
				return printJSON(cctx.App.Writer, struct {
					Sector pipeline.SectorInfo
					Events []pipeline.Event `json:",omitempty"`
				}{info, events})
			}
			return renderSectorStatus(cctx.App.Writer, info, events, time.Now())
		})
	},
}

var sectorsRemoveCmd = &cli.Command{
	Name:      "remove",
	Usage:     "stop sealing a sector and delete its files everywhere",
	ArgsUsage: "SECTOR",
	Flags:     []cli.Flag{waitFlag},
	Action: func(cctx *cli.Context) error {
		n, err := firstSectorArg(cctx, 1)
		if err != nil {
			return err
		}
		return withSectorsAPI(cctx, func(ctx context.Context, a sectorsAPI) error {
			if err := a.SectorsRemove(ctx, n); err != nil {
				return err
			}
			fmt.Fprintf(cctx.App.Writer, "removing sector %d\n", n)
			return maybeWait(cctx, a, []abi.SectorNumber{n})
		})
	},
}

var sectorsUnsealCmd = &cli.Command{
	Name:      "unseal",
	Usage:     "make sure a sealed sector has an unsealed copy (unsealing it if needed)",
	ArgsUsage: "SECTOR",
	Action: func(cctx *cli.Context) error {
		n, err := firstSectorArg(cctx, 1)
		if err != nil {
			return err
		}
		return withSectorsAPI(cctx, func(ctx context.Context, a sectorsAPI) error {
			if err := a.SectorsUnseal(ctx, n); err != nil {
				return err
			}
			fmt.Fprintf(cctx.App.Writer, "sector %d has an unsealed copy\n", n)
			return nil
		})
	},
}

var sectorsReadCmd = &cli.Command{
	Name:      "read",
	Usage:     "read unsealed bytes of a sector (OFFSET a multiple of 127) to stdout or --output",
	ArgsUsage: "SECTOR OFFSET SIZE",
	Flags:     []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file"}},
	Action: func(cctx *cli.Context) error {
		n, err := firstSectorArg(cctx, 3)
		if err != nil {
			return err
		}
		off, err := uintArg(cctx, 1, "OFFSET")
		if err != nil {
			return err
		}
		size, err := uintArg(cctx, 2, "SIZE")
		if err != nil {
			return err
		}
		return withSectorsAPI(cctx, func(ctx context.Context, a sectorsAPI) error {
			return readToOutput(ctx, a, cctx.String("output"), cctx.App.Writer, n, off, size)
		})
	},
}

// readToOutput reads the range to path (written under a temporary name, then renamed) or, with no path, to w.
func readToOutput(ctx context.Context, a sectorsAPI, path string, w io.Writer, n abi.SectorNumber, off, size uint64) error {
	if path == "" {
		return a.SectorsRead(ctx, w, n, storiface.UnpaddedByteIndex(off), abi.UnpaddedPieceSize(size))
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	err = a.SectorsRead(ctx, f, n, storiface.UnpaddedByteIndex(off), abi.UnpaddedPieceSize(size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

var sectorsUpdateStateCmd = &cli.Command{
	Name:      "update-state",
	Usage:     "move a sector to a state (to retry a step or go back one); the running step is cancelled",
	ArgsUsage: "SECTOR STATE",
	Flags:     []cli.Flag{waitFlag},
	Action: func(cctx *cli.Context) error {
		n, err := firstSectorArg(cctx, 2)
		if err != nil {
			return err
		}
		st, err := pipeline.ParseState(cctx.Args().Get(1))
		if err != nil {
			return err
		}
		return withSectorsAPI(cctx, func(ctx context.Context, a sectorsAPI) error {
			if err := a.SectorsUpdateState(ctx, n, st); err != nil {
				return err
			}
			fmt.Fprintf(cctx.App.Writer, "sector %d moved to %s\n", n, st)
			return maybeWait(cctx, a, []abi.SectorNumber{n})
		})
	},
}

// maybeWait follows the sectors with --wait.
func maybeWait(cctx *cli.Context, a sectorsAPI, nums []abi.SectorNumber) error {
	if !cctx.Bool("wait") {
		return nil
	}
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	pr := newProgressPrinter(cctx.App.Writer, isTerminal(cctx.App.Writer))
	return waitSectors(cctx.Context, a, nums, pr, ticker.C, time.Now)
}

// waitSectors polls the sectors' status at every tick and shows it until each is finished; a sector that gave
// up is reported as an error.
func waitSectors(ctx context.Context, a sectorsAPI, nums []abi.SectorNumber, pr *progressPrinter,
	tick <-chan time.Time, now func() time.Time) error {
	for {
		infos := make([]pipeline.SectorInfo, 0, len(nums))
		done := true
		for _, n := range nums {
			info, err := a.SectorsStatus(ctx, n)
			if err != nil {
				return fmt.Errorf("sector %d: %w", n, err)
			}
			infos = append(infos, info)
			done = done && finished(info)
		}
		pr.update(infos, now())
		if done {
			var errs []error
			for _, s := range infos {
				if s.GaveUp {
					errs = append(errs, fmt.Errorf("sector %d gave up in %s: %s", s.Number, s.State, s.LastError))
				}
			}
			return errors.Join(errs...)
		}
		select {
		case <-tick:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
