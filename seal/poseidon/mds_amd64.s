//go:build amd64 && !purego

#include "textflag.h"

// Modulus r of the BLS12-381 scalar field, little-endian limbs.
#define MODR0 $0xffffffff00000001
#define MODR1 $0x53bda402fffe5bfe
#define MODR2 $0x3339d80809a1d805
#define MODR3 $0x73eda753299d7d48

// func mulIntADX(dst, s *fr.Element, m *uint64, t int)
//
// For each row i: X = Σ_j m[i·t+j]·s[j] in five limbs (R8..R12), then one
// Montgomery step X·2^−64 mod r and a conditional subtraction (see montRow
// in intmds.go for the bounds).
//
// Registers: AX matrix pointer, BX current s element, CX rows left,
// DX multiplier, SI end of s, DI current dst element, R8..R12 accumulator,
// R13/R14 product low/high, R15 zero (and a temporary at the end of a row).
TEXT ·mulIntADX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ m+16(FP), AX
	MOVQ t+24(FP), CX
	MOVQ CX, BX
	SHLQ $5, BX
	ADDQ BX, SI

row:
	XORQ R8, R8
	XORQ R9, R9
	XORQ R10, R10
	XORQ R11, R11
	XORQ R12, R12
	MOVQ s+8(FP), BX

col:
	MOVQ  (AX), DX
	XORQ  R15, R15          // R15 = 0, CF = OF = 0
	MULXQ 0(BX), R13, R14
	ADCXQ R13, R8
	ADOXQ R14, R9
	MULXQ 8(BX), R13, R14
	ADCXQ R13, R9
	ADOXQ R14, R10
	MULXQ 16(BX), R13, R14
	ADCXQ R13, R10
	ADOXQ R14, R11
	MULXQ 24(BX), R13, R14
	ADCXQ R13, R11
	ADOXQ R14, R12          // no overflow: the sum stays below 2^316
	ADCXQ R15, R12
	ADDQ  $8, AX
	ADDQ  $32, BX
	CMPQ  BX, SI
	JNE   col

	// Montgomery step: DX = a0·(−r⁻¹) mod 2^64; X + DX·r ≡ 0 mod 2^64.
	MOVQ  $0xfffffffeffffffff, DX
	IMULQ R8, DX
	XORQ  R15, R15
	MOVQ  MODR0, BX
	MULXQ BX, R13, R14
	ADCXQ R13, R8           // R8 becomes 0; CF carries on
	ADOXQ R14, R9
	MOVQ  MODR1, BX
	MULXQ BX, R13, R14
	ADCXQ R13, R9
	ADOXQ R14, R10
	MOVQ  MODR2, BX
	MULXQ BX, R13, R14
	ADCXQ R13, R10
	ADOXQ R14, R11
	MOVQ  MODR3, BX
	MULXQ BX, R13, R14
	ADCXQ R13, R11
	ADOXQ R14, R12
	ADCXQ R15, R12

	// (R9..R12) < 2r: subtract r once if it does not borrow.
	MOVQ    R9, R13
	MOVQ    R10, R14
	MOVQ    R11, R15
	MOVQ    R12, BX
	MOVQ    MODR0, DX
	SUBQ    DX, R13
	MOVQ    MODR1, DX
	SBBQ    DX, R14
	MOVQ    MODR2, DX
	SBBQ    DX, R15
	MOVQ    MODR3, DX
	SBBQ    DX, BX
	CMOVQCC R13, R9
	CMOVQCC R14, R10
	CMOVQCC R15, R11
	CMOVQCC BX, R12
	MOVQ    R9, 0(DI)
	MOVQ    R10, 8(DI)
	MOVQ    R11, 16(DI)
	MOVQ    R12, 24(DI)
	ADDQ    $32, DI
	DECQ    CX
	JNZ     row
	RET
