//go:build amd64 && !purego

//go:generate go run ./internal/genshani hash_amd64.s

package commp

// shaniConsts is the table hashPairsSHANI reads; the offsets are fixed in hash_amd64.s.
type shaniConsts struct {
	iv    [8]uint32  // 0: initial state as [F E B A] [H G D C]
	k     [64]uint32 // 32: round constants
	padWK [64]uint32 // 288: W[t]+K[t] of the padding block of a 64-byte message
	flip  [4]uint32  // 544: PSHUFB mask reversing the bytes of each dword
}

//go:noescape
func hashPairsSHANI(dst, src *byte, n int, c *shaniConsts)

func cpuid(eaxIn, ecxIn uint32) (eax, ebx, ecx, edx uint32)

var shani = newSHANIConsts()

// useSHANI is set when the CPU has the SHA extensions (CPUID.7.0:EBX bit 29) and SSSE3/SSE4.1 (CPUID.1:ECX bits
// 9 and 19).
var useSHANI = func() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<29) != 0 && ecx1&(1<<9) != 0 && ecx1&(1<<19) != 0
}()

func newSHANIConsts() *shaniConsts {
	c := &shaniConsts{k: sha256K, flip: [4]uint32{0x00010203, 0x04050607, 0x08090a0b, 0x0c0d0e0f}}
	h := sha256IV
	c.iv = [8]uint32{h[5], h[4], h[1], h[0], h[7], h[6], h[3], h[2]}
	var w [64]uint32
	w[0] = 0x80000000 // the 0x80 byte after the message
	w[15] = 512       // message length in bits
	for t := 16; t < 64; t++ {
		w[t] = sigma1(w[t-2]) + w[t-7] + sigma0(w[t-15]) + w[t-16]
	}
	for t := range w {
		c.padWK[t] = w[t] + sha256K[t]
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
