//go:build amd64 && !purego

#include "textflag.h"
#include "field_amd64.h"

// func permADX(s, tmp *fr.Element, rc, pc0, k4 *fr.Element, m *uint64, t, rp int)
//
// The whole integer-MDS permutation (see hashInt): R_F/2 full rounds with
// constants rc (t per round, consumed in order), rp partial rounds with
// constants pc0[p] and k4[p], R_F/2 full rounds, each round ending with
// the integer MDS layer into the other buffer. s holds the initial state;
// the final state is in s if R_F + rp is even, else in tmp.
//
// The MDS layer is unrolled for t = 3, 9 and 12 (the widths of Filecoin's
// arities 2, 8 and 11) and a loop over t otherwise. For t = 3 and 9, a
// partial round followed by another leaves u1.. below 2r instead of
// reducing them fully: they only meet the matrix again.
//
// Frame: a (32 bytes, POW5's slot), then the loop state.
TEXT ·permADX(SB), NOSPLIT, $96-64
	MOVQ s+0(FP), AX
	MOVQ AX, cur-40(SP)
	MOVQ tmp+8(FP), AX
	MOVQ AX, nxt-48(SP)
	MOVQ rc+16(FP), AX
	MOVQ AX, rcp-56(SP)
	MOVQ pc0+24(FP), AX
	MOVQ AX, pcp-64(SP)
	MOVQ k4+32(FP), AX
	MOVQ AX, kp-72(SP)
	MOVQ $0, rnd-80(SP)

round:
	MOVQ rnd-80(SP), AX
	CMPQ AX, $4
	JLT  full
	MOVQ rp+56(FP), BX
	ADDQ $4, BX
	CMPQ AX, BX
	JGE  full

	// Partial round: s0 ← (s0 + pc0[p])^5·k4[p].
	MOVQ cur-40(SP), SI
	MOVQ pcp-64(SP), CX
	ADD_RC
	POW5
	RESULT_TO_X
	MOVQ kp-72(SP), DI
	MONT_MUL
	MOVQ cur-40(SP), SI
	STORE_RESULT(SI)
	ADDQ $32, pcp-64(SP)
	ADDQ $32, kp-72(SP)

	// Another partial round follows: rows 1.. may stay below 2r.
	MOVQ rnd-80(SP), AX
	MOVQ rp+56(FP), BX
	ADDQ $3, BX
	CMPQ AX, BX
	JEQ  rows
	MOVQ nxt-48(SP), DI
	MOVQ m+40(FP), AX
	MOVQ t+48(FP), CX
	MOVQ cur-40(SP), BX
	CMPQ CX, $3
	JEQ  lazyt3
	CMPQ CX, $9
	JEQ  lazyt9
	JMP  rows

lazyt3:
	ROWS3_LAZY
	JMP swap

lazyt9:
	ROWS9_LAZY
	JMP swap

full:
	// Full round: s[j] ← (s[j] + rc[j])^5 for every j.
	MOVQ cur-40(SP), SI
	MOVQ SI, zp-88(SP)
	MOVQ t+48(FP), AX
	SHLQ $5, AX
	ADDQ SI, AX
	MOVQ AX, zend-96(SP)

fullj:
	MOVQ zp-88(SP), SI
	MOVQ rcp-56(SP), CX
	ADD_RC
	POW5
	MOVQ zp-88(SP), SI
	STORE_RESULT(SI)
	ADDQ $32, SI
	MOVQ SI, zp-88(SP)
	ADDQ $32, rcp-56(SP)
	CMPQ SI, zend-96(SP)
	JNE  fullj

rows:
	MOVQ nxt-48(SP), DI
	MOVQ m+40(FP), AX
	MOVQ t+48(FP), CX
	MOVQ cur-40(SP), BX
	CMPQ CX, $3
	JEQ  rowst3
	CMPQ CX, $9
	JEQ  rowst9
	CMPQ CX, $12
	JEQ  rowst12
	MDS_ROWS(cur-40(SP))
	JMP  swap

rowst3:
	ROWS3
	JMP swap

rowst9:
	ROWS9
	JMP swap

rowst12:
	ROWS12

swap:
	MOVQ cur-40(SP), AX
	MOVQ nxt-48(SP), BX
	MOVQ BX, cur-40(SP)
	MOVQ AX, nxt-48(SP)
	MOVQ rnd-80(SP), AX
	INCQ AX
	MOVQ AX, rnd-80(SP)
	MOVQ rp+56(FP), BX
	ADDQ $8, BX
	CMPQ AX, BX
	JLT  round
	RET
