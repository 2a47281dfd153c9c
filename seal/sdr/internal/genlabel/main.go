// Command genlabel writes seal/sdr/label_amd64.s, the SHA-NI kernels that compute SDR labels straight from the
// parents' labels, wherever a table of addresses says they are (in the layer buffers, or copied near each other
// by the gathering goroutine): the 37 parent positions of the 1248-byte message are never copied into a
// message buffer, each 64-byte block is loaded from the two parents' labels it consists of. The kernels are
// fully unrolled (19 compressions per label: the first block's is computed ahead by blockZeroSHANI), so they
// are generated. Run `go generate ./seal/sdr` after changing this file.
package main

import (
	"fmt"
	"os"

	"sealfleet/seal/internal/shaniasm"
)

// Offsets into labelConsts and labelJob (seal/sdr/label_rows.go; TestKernelOffsets checks them).
const (
	offIV   = 0
	offK    = 32
	offFlip = 288
	offTail = 304

	jobCur     = 0
	jobTable   = 8
	jobLo      = 16
	jobHi      = 24
	jobConsts  = 32
	jobReplica = 40
	jobLayer   = 72
	jobStarts  = 80

	// startSize is the size of one node's state after block 0 in labelJob.starts: X1 then X2, as the rounds
	// keep them.
	startSize = 32
)

const (
	baseDegree   = 6
	totalParents = 14
	labelRepeats = 37
	// prefetchDistance is how many nodes ahead of the one being hashed the parents' labels are prefetched. A
	// label takes about a microsecond; a few nodes ahead covers a main-memory round trip many times over, while
	// the prefetched lines (14 per node) stay well within the first-level cache until used.
	prefetchDistance = 8
)

var st = shaniasm.State{S1: "X1", S2: "X2", W: [4]string{"X3", "X4", "X5", "X6"}}

type gen struct{ shaniasm.Emitter }

// compress runs one block whose words are already in the schedule registers and adds the chaining value.
func (g *gen) compress() {
	g.P("\tMOVO X1, X8")
	g.P("\tMOVO X2, X11")
	g.MessageRounds([]shaniasm.State{st}, "R8", offK)
	g.P("\tPADDL X8, X1")
	g.P("\tPADDL X11, X2")
}

// tail loads the padding words of the last block (0x80, zeros, the length in bits) and compresses it.
func (g *gen) tail() {
	g.P("\tMOVOU %d(R8), %s", offTail, st.W[2])
	g.P("\tMOVOU %d(R8), %s", offTail+16, st.W[3])
	g.compress()
}

// startLabel sets the state to the IV and runs block 0: the replica id (X12, X13, already big-endian words),
// then the layer (SI), the node index (R10) and zeros. Only the floor's chain kernel runs it inline: block 0
// reads no label, so the labeling kernels load its result from the job's starts (R9), which blockZeroKernel
// wrote on the other core.
func (g *gen) startLabel() {
	g.P("\tMOVOU %d(R8), X1", offIV)
	g.P("\tMOVOU %d(R8), X2", offIV+16)
	g.P("\tMOVO X12, X3")
	g.P("\tMOVO X13, X4")
	g.P("\tMOVQ R10, DX")
	g.P("\tSHRQ $32, DX")
	g.P("\tSHLQ $32, DX")
	g.P("\tORQ SI, DX")
	g.P("\tMOVQ DX, X5 // words 8, 9: layer, node >> 32")
	g.P("\tMOVL R10, DX")
	g.P("\tPINSRQ $1, DX, X5 // words 10, 11: node & 0xffffffff, 0")
	g.P("\tPXOR X6, X6")
	g.compress()
}

// prologue loads the job's fields every kernel uses: constants (R8), layer (SI), the byte-swap mask (X9) and
// the replica id's words (X12, X13).
func (g *gen) prologue() {
	g.P("\tMOVQ %d(R13), R8", jobConsts)
	g.P("\tMOVL %d(R13), SI", jobLayer)
	g.P("\tMOVOU %d(R8), X9", offFlip)
	g.P("\tMOVOU %d(R13), X12", jobReplica)
	g.P("\tPSHUFB X9, X12")
	g.P("\tMOVOU %d(R13), X13", jobReplica+16)
	g.P("\tPSHUFB X9, X13")
}

// storeLabel writes the digest to cur[node] (node in R10).
func (g *gen) storeLabel() {
	g.P("\tMOVQ R10, DI")
	g.P("\tSHLQ $5, DI")
	g.P("\tADDQ BX, DI")
	g.Store(st, "X3", "X9", "DI", 0)
}

// loadLabel loads parent slot i's label, whose address is entry i of the node's pointer row (R12), into two
// schedule registers as big-endian words.
func (g *gen) loadLabel(slot int, lo, hi string) {
	g.P("\tMOVQ %d(R12), DX", 8*slot)
	g.P("\tMOVOU (DX), %s", lo)
	g.P("\tPSHUFB X9, %s", lo)
	g.P("\tMOVOU 16(DX), %s", hi)
	g.P("\tPSHUFB X9, %s", hi)
}

// loopKernel emits the kernel labelling nodes [lo, hi) of a layer whose nodes hash degree distinct parents, from
// the job's table of parents' label addresses: degree addresses per node, the row of node lo first, and
// prefetchDistance more rows past hi whose labels are only prefetched.
func (g *gen) loopKernel(name string, degree int) {
	g.P("")
	g.P("// func %s(job *labelJob)", name)
	g.P("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	g.P("\tMOVQ job+0(FP), R13")
	g.P("\tMOVQ %d(R13), BX", jobCur)
	g.P("\tMOVQ %d(R13), R12", jobTable)
	g.P("\tMOVQ %d(R13), R10", jobLo)
	g.P("\tMOVQ %d(R13), R11", jobHi)
	g.P("\tMOVQ %d(R13), R9", jobStarts)
	g.prologue()
	g.P("")
	g.P("node%d:", degree)
	g.P("\tCMPQ R10, R11")
	g.P("\tJAE done%d", degree)
	g.P("\t// R12: this node's row of label addresses; prefetch the labels of the row %d ahead.", prefetchDistance)
	for i := 0; i < degree; i++ {
		g.P("\tMOVQ %d(R12), DX", 8*(prefetchDistance*degree+i))
		g.P("\tPREFETCHT0 (DX)")
	}
	g.P("\t// Block 0 was run by blockZeroKernel: its state is the node's entry in starts.")
	g.P("\tMOVOU (R9), X1")
	g.P("\tMOVOU 16(R9), X2")
	// Blocks 1..18: message positions 2b-2 and 2b-1 hold parent slots (2b-2) mod degree and (2b-1) mod degree.
	for b := 1; b <= labelRepeats/2; b++ {
		j := 2 * (b - 1)
		g.P("\t// Block %d: parents %d and %d.", b, j%degree, (j+1)%degree)
		g.loadLabel(j%degree, st.W[0], st.W[1])
		g.loadLabel((j+1)%degree, st.W[2], st.W[3])
		g.compress()
	}
	last := (labelRepeats - 1) % degree
	g.P("\t// Block 19: parent %d, then the padding.", last)
	g.loadLabel(last, st.W[0], st.W[1])
	g.tail()
	g.storeLabel()
	g.P("\tADDQ $%d, R12", 8*degree)
	g.P("\tADDQ $%d, R9", startSize)
	g.P("\tINCQ R10")
	g.P("\tJMP node%d", degree)
	g.P("")
	g.P("done%d:", degree)
	g.P("\tRET")
}

// zeroStates are the two messages blockZeroKernel hashes side by side: the label kernels' registers, and six
// more that only it can spare (it keeps the replica id's words on its stack).
var zeroStates = []shaniasm.State{st, {S1: "X14", S2: "X15", W: [4]string{"X8", "X11", "X12", "X13"}}}

// blockZeroKernel emits the kernel writing, for each node of [lo, hi), the state after block 0 of its label to
// the job's starts: the block holds the replica id, the layer and the node index, never a label, so it can run
// ahead of the labeler on the other core and take one of the 20 compressions off the labeler's chain. The
// nodes' blocks are independent, so it hashes two at a time, their rounds interleaved.
func (g *gen) blockZeroKernel() {
	g.P("")
	g.P("// func blockZeroSHANI(job *labelJob)")
	g.P("TEXT ·blockZeroSHANI(SB), NOSPLIT, $32-8")
	g.P("\tMOVQ job+0(FP), R13")
	g.P("\tMOVQ %d(R13), R10", jobLo)
	g.P("\tMOVQ %d(R13), R11", jobHi)
	g.P("\tMOVQ %d(R13), R9", jobStarts)
	g.prologue()
	g.P("\tMOVOU X12, 0(SP)")
	g.P("\tMOVOU X13, 16(SP)")
	g.P("")
	g.P("zeropair:")
	g.P("\tLEAQ 2(R10), DX")
	g.P("\tCMPQ DX, R11")
	g.P("\tJA zerolast")
	g.zeroBlocks(zeroStates)
	for i, s := range zeroStates {
		g.P("\tMOVOU %s, %d(R9)", s.S1, i*startSize)
		g.P("\tMOVOU %s, %d(R9)", s.S2, i*startSize+16)
	}
	g.P("\tADDQ $%d, R9", 2*startSize)
	g.P("\tADDQ $2, R10")
	g.P("\tJMP zeropair")
	g.P("")
	g.P("zerolast:")
	g.P("\tCMPQ R10, R11")
	g.P("\tJAE zerodone")
	g.zeroBlocks(zeroStates[:1])
	g.P("\tMOVOU X1, (R9)")
	g.P("\tMOVOU X2, 16(R9)")
	g.P("")
	g.P("zerodone:")
	g.P("\tRET")
}

// zeroBlocks runs block 0 of the labels of nodes R10, R10+1, ... (one per state) from the IV: the replica id's
// words from the stack, then the layer (SI), the node index and zeros.
func (g *gen) zeroBlocks(states []shaniasm.State) {
	for i, s := range states {
		g.P("\tMOVOU %d(R8), %s", offIV, s.S1)
		g.P("\tMOVOU %d(R8), %s", offIV+16, s.S2)
		g.P("\tMOVOU 0(SP), %s", s.W[0])
		g.P("\tMOVOU 16(SP), %s", s.W[1])
		g.P("\tLEAQ %d(R10), DX", i)
		g.P("\tMOVQ DX, CX")
		g.P("\tSHRQ $32, CX")
		g.P("\tSHLQ $32, CX")
		g.P("\tORQ SI, CX")
		g.P("\tMOVQ CX, %s // words 8, 9: layer, node >> 32", s.W[2])
		g.P("\tMOVL DX, DX")
		g.P("\tPINSRQ $1, DX, %s // words 10, 11: node & 0xffffffff, 0", s.W[2])
		g.P("\tPXOR %s, %s", s.W[3], s.W[3])
	}
	g.MessageRounds(states, "R8", offK)
	g.P("\tMOVOU %d(R8), X9", offIV)
	g.P("\tMOVOU %d(R8), X10", offIV+16)
	for _, s := range states {
		g.P("\tPADDL X9, %s", s.S1)
		g.P("\tPADDL X10, %s", s.S2)
	}
}

// chainKernel emits the SHA-256 floor: labels of node 0 whose 37 parent positions all hold the previous label,
// n of them in a chain, with the same instruction sequence as the labels but no parent indices to read and no
// prefetching.
func (g *gen) chainKernel() {
	g.P("")
	g.P("// func shaChainSHANI(job *labelJob, n int)")
	g.P("// n times: cur[0] = the label of the message prefix(node 0) followed by cur[0] 37 times.")
	g.P("TEXT ·shaChainSHANI(SB), NOSPLIT, $0-16")
	g.P("\tMOVQ job+0(FP), R13")
	g.P("\tMOVQ n+8(FP), R11")
	g.P("\tMOVQ %d(R13), BX", jobCur)
	g.prologue()
	g.P("\tXORQ R10, R10 // node 0")
	g.P("")
	g.P("chain:")
	g.P("\tTESTQ R11, R11")
	g.P("\tJZ chaindone")
	g.startLabel()
	for b := 1; b <= labelRepeats/2+1; b++ {
		words := 4
		if b > labelRepeats/2 {
			words = 2
		}
		for i := 0; i < words; i++ {
			g.P("\tMOVOU %d(BX), %s", 16*(i%2), st.W[i])
			g.P("\tPSHUFB X9, %s", st.W[i])
		}
		if words == 2 {
			g.tail()
		} else {
			g.compress()
		}
	}
	g.storeLabel()
	g.P("\tDECQ R11")
	g.P("\tJMP chain")
	g.P("")
	g.P("chaindone:")
	g.P("\tRET")
}

const header = `// Code generated by seal/sdr/internal/genlabel; DO NOT EDIT.

//go:build amd64 && !purego

#include "textflag.h"

// SDR labels with the x86 SHA extensions (SHA-NI), written for sealfleet.
//
// A label is SHA-256 of the 64-byte prefix (replica id, layer, node) and 37 parent labels, where position j
// holds parent slot j mod degree; with the padding that is 20 compressions. The kernels label a range of nodes
// in one call: for each node they read its row of parents' label addresses (filled by the gathering goroutine,
// seal/sdr/gather.go), prefetch the labels of the row a few ahead, and hash each block straight from the two
// parents' labels it consists of: no message is assembled. Block 0 (the prefix) reads no label: the gathering
// goroutine runs it ahead (blockZeroSHANI), and the labeling kernels start each label from its result. The
// state is in X1/X2 ([F E B A], [H G D C]), the schedule in X3..X6, the replica id's words in X12/X13; the
// digest is stored with its two top bits cleared.
`

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genlabel OUTPUT.s")
		os.Exit(2)
	}
	g := &gen{}
	g.WriteString(header)
	g.loopKernel("labelSHANI14", totalParents)
	g.loopKernel("labelSHANI6", baseDegree)
	g.blockZeroKernel()
	g.chainKernel()
	if err := os.WriteFile(os.Args[1], []byte(g.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
