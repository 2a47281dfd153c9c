package partialfile

import (
	"os"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// UnpaddedIndex and UnpaddedSize shorten test tables.
func UnpaddedIndex(v uint64) storiface.UnpaddedByteIndex { return storiface.UnpaddedByteIndex(v) }

func UnpaddedSize(v uint64) abi.UnpaddedPieceSize { return abi.UnpaddedPieceSize(v) }

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

func removeFile(path string) { _ = os.Remove(path) }
