package partialfile

import (
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// UnpaddedIndex and UnpaddedSize shorten test tables.
func UnpaddedIndex(v uint64) storiface.UnpaddedByteIndex { return storiface.UnpaddedByteIndex(v) }

func UnpaddedSize(v uint64) abi.UnpaddedPieceSize { return abi.UnpaddedPieceSize(v) }
