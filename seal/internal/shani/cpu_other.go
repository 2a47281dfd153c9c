//go:build !amd64 || purego

package shani

// Available is false: the SHA-NI kernels exist only for amd64.
const Available = false
