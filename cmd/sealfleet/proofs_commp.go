package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"sealfleet/internal/progress"
	"sealfleet/seal/commp"
)

// proofsCommPCmd prints the piece commitment of a file.
var proofsCommPCmd = &cli.Command{
	Name:      "commp",
	Usage:     "compute the piece CID (CommP) of a file",
	ArgsUsage: "FILE",
	Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON: pieceCID, paddedSize, payloadSize"}},
	Action: func(cctx *cli.Context) error {
		if cctx.NArg() != 1 {
			return fmt.Errorf("commp: want exactly one FILE argument, got %d", cctx.NArg())
		}
		f, err := os.Open(cctx.Args().First())
		if err != nil {
			return fmt.Errorf("commp: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("commp: %w", err)
		}
		bar := terminalBar(cctx, "commp", st.Size(), progress.Bytes)
		pi, err := commp.PieceCID(progressReader(f, bar), uint64(st.Size()))
		if bar != nil {
			bar.Finish()
		}
		if err != nil {
			return fmt.Errorf("commp %s: %w", f.Name(), err)
		}
		if cctx.Bool("json") {
			return json.NewEncoder(cctx.App.Writer).Encode(map[string]any{
				"pieceCID": pi.PieceCID.String(), "paddedSize": uint64(pi.Size), "payloadSize": st.Size(),
			})
		}
		fmt.Fprintf(cctx.App.Writer, "Piece CID:    %s\nPadded size:  %d\nPayload size: %d\n", pi.PieceCID, pi.Size, st.Size())
		return nil
	},
}
