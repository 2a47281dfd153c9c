package main

import (
	"errors"

	"github.com/urfave/cli/v2"

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
	Flags:     append([]cli.Flag{workerRepoFlag}, pathInitFlags...),
	Action: attachPathAction(func(cctx *cli.Context) (localPathAdder, func(), error) {
		return dialWorker(cctx)
	}),
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
