//go:build !linux

package sdr

// allocLayer returns a heap buffer for a layer (huge pages are only requested on Linux).
func allocLayer(size uint64) (buf []byte, free func(), err error) {
	return make([]byte, size), func() {}, nil
}

// mapAnon returns a heap buffer of size bytes.
func mapAnon(size uint64) (buf []byte, free func(), err error) {
	return make([]byte, size), func() {}, nil
}

// layersFaultLazily is false: the buffers come from the heap, already zeroed, so there is nothing to fault in
// ahead of the labeler.
const layersFaultLazily = false

// mapPopulate is Linux's MAP_POPULATE; elsewhere pages fault in one by one.
const mapPopulate = 0
