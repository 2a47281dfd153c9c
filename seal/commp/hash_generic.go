//go:build !amd64 || purego

package commp

// useSHANI is false where there is no assembly kernel.
const useSHANI = false

// hashPairs writes to dst[32i:] the node hash of src[64i:64i+64] for every i < n; dst may alias src.
func hashPairs(h hasher, dst, src []byte, n int) {
	for i := 0; i < n; i++ {
		h.pair(dst[32*i:], src[64*i:])
	}
}
