//go:build amd64 && !purego

package poseidon

// setFused sets fusedPerm and returns a function restoring it.
func setFused(v bool) func() {
	saved := fusedPerm
	fusedPerm = v
	return func() { fusedPerm = saved }
}
