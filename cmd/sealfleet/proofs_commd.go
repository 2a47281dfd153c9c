package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"
	"github.com/urfave/cli/v2"

	"sealfleet/seal/commp"
	"sealfleet/storiface"
)

// proofsCommDCmd prints the unsealed sector commitment of a list of pieces.
var proofsCommDCmd = &cli.Command{
	Name:  "commd",
	Usage: "compute a sector's unsealed CID (CommD) from its pieces; no pieces = an all-zero (CC) sector",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "sector-size", Required: true, Usage: "2KiB, 8MiB, 512MiB, 32GiB or 64GiB"},
		&cli.StringSliceFlag{Name: "piece", Usage: "CID:PADDEDSIZE of a piece, in sector order (repeatable)"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON: commD"},
	},
	Action: func(cctx *cli.Context) error {
		ssize, err := storiface.ParseSectorSize(cctx.String("sector-size"))
		if err != nil {
			return fmt.Errorf("--sector-size: %w", err)
		}
		var pieces []abi.PieceInfo
		for _, arg := range cctx.StringSlice("piece") {
			pi, err := parsePieceArg(arg)
			if err != nil {
				return err
			}
			pieces = append(pieces, pi)
		}
		commD, err := commp.UnsealedCID(ssize, pieces)
		if err != nil {
			return fmt.Errorf("commd: %w", err)
		}
		if cctx.Bool("json") {
			return json.NewEncoder(cctx.App.Writer).Encode(map[string]string{"commD": commD.String()})
		}
		fmt.Fprintf(cctx.App.Writer, "CommD: %s\n", commD)
		return nil
	},
}

// parsePieceArg parses "CID:PADDEDSIZE".
func parsePieceArg(arg string) (abi.PieceInfo, error) {
	cs, ss, ok := strings.Cut(arg, ":")
	if !ok {
		return abi.PieceInfo{}, fmt.Errorf("--piece %q: want CID:PADDEDSIZE, e.g. baga6ea4sea...:2048", arg)
	}
	c, err := cid.Decode(cs)
	if err != nil {
		return abi.PieceInfo{}, fmt.Errorf("--piece %q: CID: %w", arg, err)
	}
	n, err := strconv.ParseUint(ss, 10, 64)
	if err != nil {
		return abi.PieceInfo{}, fmt.Errorf("--piece %q: padded size must be a byte count (a power of two ≥ 128): %w", arg, err)
	}
	return abi.PieceInfo{Size: abi.PaddedPieceSize(n), PieceCID: c}, nil
}
