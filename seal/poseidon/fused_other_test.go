//go:build !amd64 || purego

package poseidon

// setFused does nothing: this platform has no fused kernel to turn off.
func setFused(bool) func() { return func() {} }
