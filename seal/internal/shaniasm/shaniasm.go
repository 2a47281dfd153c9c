// Package shaniasm emits Go assembly for SHA-256 with the x86 SHA extensions (SHA-NI). The generators of the
// fully unrolled kernels in seal/commp (node hashing) and seal/sdr (SDR labels) share it, so the round and
// message-schedule sequences are written once.
//
// Register conventions of the emitted code: a State keeps the chaining value in two XMM registers as
// SHA256RNDS2 expects ([F E B A] and [H G D C], dwords from low to high) and the sliding message schedule in four
// more; X0 carries W+K into the rounds and X7 is scratch for the schedule; the caller names the register holding
// round constants and the byte-swap mask.
package shaniasm

import (
	"fmt"
	"strings"
)

// State names the registers of one message being hashed.
type State struct {
	// S1 holds [F E B A], S2 [H G D C].
	S1, S2 string
	// W is the sliding message schedule: W[k%4] holds words 4k..4k+3 during group k.
	W [4]string
}

// Emitter accumulates assembly text.
type Emitter struct{ strings.Builder }

// P writes one line.
func (e *Emitter) P(format string, args ...any) { fmt.Fprintf(e, format+"\n", args...) }

// Schedule computes W[4k..4k+3] into s.W[k%4] from the four previous groups (k ≥ 4).
func (e *Emitter) Schedule(s State, k int) {
	wa, wb, wc, wd := s.W[k%4], s.W[(k+1)%4], s.W[(k+2)%4], s.W[(k+3)%4]
	e.P("\tSHA256MSG1 %s, %s", wb, wa)
	e.P("\tMOVO %s, X7", wd)
	e.P("\tPALIGNR $4, %s, X7", wc)
	e.P("\tPADDL X7, %s", wa)
	e.P("\tSHA256MSG2 %s, %s", wd, wa)
}

// Rounds runs four rounds of s with W+K in X0 (X0 is clobbered).
func (e *Emitter) Rounds(s State) {
	e.P("\tSHA256RNDS2 X0, %s, %s", s.S1, s.S2)
	e.P("\tPSHUFD $0x0e, X0, X0")
	e.P("\tSHA256RNDS2 X0, %s, %s", s.S2, s.S1)
}

// MessageRounds runs the 64 rounds of one block for every state, interleaved group by group so that their
// SHA256RNDS2 dependency chains overlap. The block's 16 words must be in each state's W registers (byte-swapped
// to big-endian words); the round constants K[0..63] are read 16 bytes at a time from kOff(kReg); X10 is
// clobbered. The chaining value is not added back: the caller does that.
func (e *Emitter) MessageRounds(states []State, kReg string, kOff int) {
	for k := 0; k < 16; k++ {
		if k >= 4 {
			for _, s := range states {
				e.Schedule(s, k)
			}
		}
		e.P("\tMOVOU %d(%s), X10", kOff+16*k, kReg)
		for _, s := range states {
			e.P("\tMOVO %s, X0", s.W[k%4])
			e.P("\tPADDL X10, X0")
			e.Rounds(s)
		}
	}
}

// Store writes the digest of s (tmp is a scratch register, mask the byte-swap mask) to off(dst) and clears the
// two top bits of its last byte, the truncation Filecoin applies to SHA-256 node hashes.
func (e *Emitter) Store(s State, tmp, mask, dst string, off int) {
	e.P("\tPSHUFD $0x1b, %s, %s", s.S1, s.S1)
	e.P("\tPSHUFD $0x1b, %s, %s", s.S2, s.S2)
	e.P("\tMOVO %s, %s", s.S1, tmp)
	e.P("\tPUNPCKLQDQ %s, %s", s.S2, s.S1)
	e.P("\tPUNPCKHQDQ %s, %s", s.S2, tmp)
	e.P("\tPSHUFB %s, %s", mask, s.S1)
	e.P("\tPSHUFB %s, %s", mask, tmp)
	e.P("\tMOVOU %s, %d(%s)", s.S1, off, dst)
	e.P("\tMOVOU %s, %d(%s)", tmp, off+16, dst)
	e.P("\tANDB $0x3f, %d(%s)", off+31, dst)
}
