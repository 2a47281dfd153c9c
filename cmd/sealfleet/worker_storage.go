package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"sealfleet/stores"
	"sealfleet/storiface"
)

// workerStorageCmd manages a running worker's storage paths (run on the worker's machine).
var workerStorageCmd = &cli.Command{
	Name:        "storage",
	Usage:       "a running worker's storage paths: attach, detach, redeclare",
	Subcommands: []*cli.Command{workerStorageAttachCmd, workerStorageDetachCmd, workerStorageRedeclareCmd},
}

var workerStorageAttachCmd = &cli.Command{
	Name:      "attach",
	Usage:     "attach a path to the worker (with --init, create its sectorstore.json first); run on the worker's machine",
	ArgsUsage: "PATH",
	Flags: []cli.Flag{
		workerRepoFlag,
		&cli.BoolFlag{Name: "init", Usage: "create sectorstore.json (and the type directories) in PATH"},
		&cli.Uint64Flag{Name: "weight", Value: 10, Usage: "(with --init) ranking weight for allocation and fetch"},
		&cli.BoolFlag{Name: "seal", Usage: "(with --init) use the path for sealing scratch files"},
		&cli.BoolFlag{Name: "store", Usage: "(with --init) use the path for finalized sectors"},
		&cli.StringFlag{Name: "max-storage", Usage: "(with --init) cap on the bytes the path may hold, e.g. 2TiB"},
		&cli.StringSliceFlag{Name: "groups", Usage: "(with --init) groups the path belongs to"},
		&cli.StringSliceFlag{Name: "allow-to", Usage: "(with --init) groups allowed to fetch from the path"},
	},
	Action: func(cctx *cli.Context) error {
		if cctx.NArg() != 1 {
			return errors.New("attach: want exactly one PATH argument")
		}
		path, err := filepath.Abs(cctx.Args().First())
		if err != nil {
			return err
		}
		if cctx.Bool("init") {
			meta, err := metaFromFlags(cctx)
			if err != nil {
				return err
			}
			if meta, err = stores.InitPath(path, meta); err != nil {
				return err
			}
			fmt.Printf("initialised %s with ID %s\n", path, meta.ID)
		}
		w, closer, err := dialWorker(cctx)
		if err != nil {
			return err
		}
		defer closer()
		if err := w.StorageAddLocal(cctx.Context, path); err != nil {
			return fmt.Errorf("attaching %s: %w", path, err)
		}
		fmt.Printf("attached %s\n", path)
		return nil
	},
}

var workerStorageDetachCmd = &cli.Command{
	Name:      "detach",
	Usage:     "stop using a worker path (by path or storage ID); its declarations leave the index",
	ArgsUsage: "PATH|ID",
	Flags:     []cli.Flag{workerRepoFlag},
	Action: func(cctx *cli.Context) error {
		if cctx.NArg() != 1 {
			return errors.New("detach: want exactly one PATH or ID argument")
		}
		w, closer, err := dialWorker(cctx)
		if err != nil {
			return err
		}
		defer closer()
		return w.StorageDetachLocal(cctx.Context, cctx.Args().First())
	},
}

var workerStorageRedeclareCmd = &cli.Command{
	Name:  "redeclare",
	Usage: "declare again the sector files found in the worker's paths",
	Flags: []cli.Flag{
		workerRepoFlag,
		&cli.StringFlag{Name: "id", Usage: "only the path with this storage ID"},
		&cli.BoolFlag{Name: "drop-missing", Usage: "drop declarations of files no longer on disk"},
	},
	Action: func(cctx *cli.Context) error {
		w, closer, err := dialWorker(cctx)
		if err != nil {
			return err
		}
		defer closer()
		var id *storiface.ID
		if s := cctx.String("id"); s != "" {
			sid := storiface.ID(s)
			id = &sid
		}
		return w.StorageRedeclareLocal(cctx.Context, id, cctx.Bool("drop-missing"))
	},
}
