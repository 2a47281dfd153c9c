//go:build amd64 && !purego

//go:generate go run ./internal/genshani hash_amd64.s

package commp

import shaniext "sealfleet/seal/internal/shani"

// shaniConsts is the table hashPairsSHANI reads; the offsets are fixed in hash_amd64.s.
type shaniConsts struct {
	iv    [8]uint32  // 0: initial state as [F E B A] [H G D C]
	k     [64]uint32 // 32: round constants
	padWK [64]uint32 // 288: W[t]+K[t] of the padding block of a 64-byte message
	flip  [4]uint32  // 544: PSHUFB mask reversing the bytes of each dword
}

//go:noescape
func hashPairsSHANI(dst, src *byte, n int, c *shaniConsts)

var shani = newSHANIConsts()

// useSHANI is set when the CPU has everything the kernel needs.
var useSHANI = shaniext.Available

func newSHANIConsts() *shaniConsts {
	c := &shaniConsts{iv: shaniext.StateIV(), k: shaniext.K, flip: shaniext.ByteSwapMask}
	var w [64]uint32
	w[0] = 0x80000000 // the 0x80 byte after the message
	w[15] = 512       // message length in bits
	for t := 16; t < 64; t++ {
		w[t] = shaniext.Sigma1(w[t-2]) + w[t-7] + shaniext.Sigma0(w[t-15]) + w[t-16]
	}
	for t := range w {
		c.padWK[t] = w[t] + shaniext.K[t]
	}
	return c
}

// hashPairs writes to dst[32i:] the node hash of src[64i:64i+64] for every i < n. dst may alias src as in the
// in-place layer reduction (dst == src).
func hashPairs(h hasher, dst, src []byte, n int) {
	if n == 0 {
		return
	}
	_ = src[64*n-1]
	_ = dst[32*n-1]
	if useSHANI {
		hashPairsSHANI(&dst[0], &src[0], n, shani)
		return
	}
	for i := 0; i < n; i++ {
		h.pair(dst[32*i:], src[64*i:])
	}
}
