package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"sealfleet/stores"
	"sealfleet/stores/fetchbench"
)

// benchFetchCmd measures a sector fetch between two in-process nodes over loopback against local copies.
var benchFetchCmd = &cli.Command{
	Name:  "fetch",
	Usage: "measure fetching a sector file between two nodes over loopback HTTP against a local copy",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "dir", Value: os.TempDir(), Usage: "directory on the filesystem to measure"},
		&cli.StringFlag{Name: "size", Value: "512MiB", Usage: "sector file size (e.g. 512MiB, 1GiB)"},
		&cli.IntFlag{Name: "runs", Value: 3, Usage: "iterations (each: local copy, fetch, read/write copy, rotating)"},
		&cli.IntFlag{Name: "streams", Value: stores.DefaultStreams, Usage: "parallel byte ranges per fetch"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON"},
	},
	Action: func(cctx *cli.Context) error {
		size, err := stores.ParseBytes(cctx.String("size"))
		if err != nil {
			return fmt.Errorf("--size: %w", err)
		}
		res, err := fetchbench.Run(cctx.Context, fetchbench.Config{Dir: cctx.String("dir"), Size: int64(size),
			Runs: cctx.Int("runs"), Streams: cctx.Int("streams")})
		if err != nil {
			return err
		}
		if cctx.Bool("json") {
			return json.NewEncoder(cctx.App.Writer).Encode(res)
		}
		w := cctx.App.Writer
		fmt.Fprintf(w, "file %s, %d runs, %d streams\n", stores.FormatBytes(res.Size), res.Runs, res.Streams)
		fmt.Fprintf(w, "fetch over loopback: %8.1f MB/s\n", res.FetchMBps)
		fmt.Fprintf(w, "local copy (copy_file_range): %8.1f MB/s   fetch/copy %.2f\n", res.CopyMBps, res.FetchOverCopy)
		fmt.Fprintf(w, "local read/write copy:        %8.1f MB/s   fetch/read-write %.2f\n", res.ReadWriteMBps, res.FetchOverReadWrite)
		return nil
	},
}
