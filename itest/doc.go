// Package itest holds sealfleet's integration tests: they build the sealfleet binary and run a manager
// (`sealfleet run`) and worker processes (`sealfleet worker run`) on loopback, then drive them over the API.
// The package has no code of its own.
package itest
