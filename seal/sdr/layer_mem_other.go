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

// populate is not wired up here: the first write to each page takes its fault.
func populate(buf []byte) bool { return false }

// mapPopulate is Linux's MAP_POPULATE; elsewhere pages fault in one by one.
const mapPopulate = 0
