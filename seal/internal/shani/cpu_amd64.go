//go:build amd64 && !purego

package shani

func cpuid(eaxIn, ecxIn uint32) (eax, ebx, ecx, edx uint32)

// Available reports whether the CPU has the SHA extensions (CPUID.7.0:EBX bit 29) and SSSE3/SSE4.1
// (CPUID.1:ECX bits 9 and 19), everything the kernels use.
var Available = func() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<29) != 0 && ecx1&(1<<9) != 0 && ecx1&(1<<19) != 0
}()
