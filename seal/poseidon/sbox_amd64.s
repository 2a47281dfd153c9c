//go:build amd64 && !purego

#include "textflag.h"
#include "field_amd64.h"

// func sbox5ADX(z, c *fr.Element)
// z ← (z + c)^5.
TEXT ·sbox5ADX(SB), NOSPLIT, $32-16
	MOVQ z+0(FP), SI
	MOVQ c+8(FP), CX
	ADD_RC
	POW5
	MOVQ z+0(FP), SI
	STORE_RESULT(SI)
	RET

// func sbox5kADX(z, c, k *fr.Element)
// z ← (z + c)^5·k.
TEXT ·sbox5kADX(SB), NOSPLIT, $32-24
	MOVQ z+0(FP), SI
	MOVQ c+8(FP), CX
	ADD_RC
	POW5
	RESULT_TO_X
	MOVQ k+16(FP), DI
	MONT_MUL
	MOVQ z+0(FP), SI
	STORE_RESULT(SI)
	RET

// func mulADX(z, x, y *fr.Element)
// z ← x·y (Montgomery form), for tests and benchmarks.
TEXT ·mulADX(SB), NOSPLIT, $0-24
	MOVQ x+8(FP), SI
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MOVQ y+16(FP), DI
	MONT_MUL
	MOVQ z+0(FP), SI
	STORE_RESULT(SI)
	RET

// func sqrADX(z, x *fr.Element)
// z ← x² (Montgomery form), for tests and benchmarks.
TEXT ·sqrADX(SB), NOSPLIT, $0-16
	MOVQ x+8(FP), SI
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MONT_SQR
	MOVQ z+0(FP), SI
	STORE_RESULT(SI)
	RET
