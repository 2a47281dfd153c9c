package main

import (
	"fmt"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/urfave/cli/v2"

	"sealfleet/storiface"
)

// sealProofFromFlags reads --sector-size and --proof (v1, v1.1 or synthetic) into a RegisteredSealProof.
func sealProofFromFlags(cctx *cli.Context) (abi.RegisteredSealProof, error) {
	size, err := storiface.ParseSectorSize(cctx.String("sector-size"))
	if err != nil {
		return 0, fmt.Errorf("--sector-size: %w", err)
	}
	kind := storiface.ProofKind(cctx.String("proof"))
	switch kind {
	case storiface.ProofV1, storiface.ProofV1_1, storiface.ProofSynthetic:
	default:
		return 0, fmt.Errorf("--proof %q: accepted are v1, v1.1, synthetic", kind)
	}
	proof, err := storiface.SealProofFor(size, kind)
	if err != nil {
		return 0, fmt.Errorf("--proof: %w", err)
	}
	return proof, nil
}
