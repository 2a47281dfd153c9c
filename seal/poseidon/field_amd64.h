// Field-arithmetic macros of the amd64 kernels (MULX/ADCX/ADOX), included by
// the .s files of this package; each includer gets its own copy of rmod<>.

// r, the BLS12-381 scalar field modulus, as four little-endian words.
DATA rmod<>+0(SB)/8, $0xffffffff00000001
DATA rmod<>+8(SB)/8, $0x53bda402fffe5bfe
DATA rmod<>+16(SB)/8, $0x3339d80809a1d805
DATA rmod<>+24(SB)/8, $0x73eda753299d7d48
GLOBL rmod<>(SB), RODATA|NOPTR, $32

// −r⁻¹ mod 2^64, the Montgomery quotient factor.
DATA qinv<>+0(SB)/8, $0xfffffffeffffffff
GLOBL qinv<>(SB), RODATA|NOPTR, $8

// Montgomery multiplication (CIOS, two carry chains with ADCX/ADOX):
// (R12..R15) ← (R8..R11)·y·2^−256 mod r for canonical inputs, y the four
// words at (DI). r's top word is below 2^62, so the running sum fits five
// words and no sixth carry word is needed. SI is the zero register of the
// carry chains. Clobbers AX, BX, CX, DX, SI (left 0), R8..R11 (left holding
// r subtracted from the result, or garbage).

// MONT_STEP folds the low word of (R12..R15, BX) away: m = t0·(−r⁻¹),
// t ← (t + m·r)/2^64, result in R12..R15. Needs SI = 0.
#define MONT_STEP \
	MOVQ  R12, DX                 \
	IMULQ qinv<>+0(SB), DX        \
	XORQ  AX, AX                  \
	MULXQ rmod<>+0(SB), AX, CX    \
	ADCXQ R12, AX                 \
	MOVQ  CX, R12                 \
	ADCXQ R13, R12                \
	MULXQ rmod<>+8(SB), AX, R13   \
	ADOXQ AX, R12                 \
	ADCXQ R14, R13                \
	MULXQ rmod<>+16(SB), AX, R14  \
	ADOXQ AX, R13                 \
	ADCXQ R15, R14                \
	MULXQ rmod<>+24(SB), AX, R15  \
	ADOXQ AX, R14                 \
	ADCXQ BX, R15                 \
	ADOXQ SI, R15

// MUL_FIRST: (R12..R15, BX) ← x·y[0]. Needs SI = 0.
#define MUL_FIRST \
	MOVQ  0(DI), DX       \
	XORQ  AX, AX          \
	MULXQ R8, R12, R13    \
	MULXQ R9, AX, R14     \
	ADOXQ AX, R13         \
	MULXQ R10, AX, R15    \
	ADOXQ AX, R14         \
	MULXQ R11, AX, BX     \
	ADOXQ AX, R15         \
	ADOXQ SI, BX

// MUL_NEXT(off): (R12..R15, BX) ← (R12..R15) + x·y[off/8]. Needs SI = 0.
#define MUL_NEXT(off) \
	MOVQ  off(DI), DX     \
	XORQ  BX, BX          \
	MULXQ R8, AX, CX      \
	ADOXQ AX, R12         \
	ADCXQ CX, R13         \
	MULXQ R9, AX, CX      \
	ADOXQ AX, R13         \
	ADCXQ CX, R14         \
	MULXQ R10, AX, CX     \
	ADOXQ AX, R14         \
	ADCXQ CX, R15         \
	MULXQ R11, AX, CX     \
	ADOXQ AX, R15         \
	ADCXQ CX, BX          \
	ADOXQ SI, BX

// REDUCE_OUT: (R12..R15) < 2r → canonical, using R8..R11.
#define REDUCE_OUT \
	MOVQ    R12, R8              \
	MOVQ    R13, R9              \
	MOVQ    R14, R10             \
	MOVQ    R15, R11             \
	SUBQ    rmod<>+0(SB), R8     \
	SBBQ    rmod<>+8(SB), R9     \
	SBBQ    rmod<>+16(SB), R10   \
	SBBQ    rmod<>+24(SB), R11   \
	CMOVQCC R8, R12              \
	CMOVQCC R9, R13              \
	CMOVQCC R10, R14             \
	CMOVQCC R11, R15

#define MONT_MUL \
	XORQ SI, SI    \
	MUL_FIRST      \
	MONT_STEP      \
	MUL_NEXT(8)    \
	MONT_STEP      \
	MUL_NEXT(16)   \
	MONT_STEP      \
	MUL_NEXT(24)   \
	MONT_STEP      \
	REDUCE_OUT

// MONT_SQR: (R12..R15) ← x²·2^−256 mod r for x = (R8..R11) canonical.
// The 512-bit square takes 10 multiplications (6 cross products, doubled,
// plus 4 diagonal ones); its low half is Montgomery-reduced on its own
// (REDC(lo) ≤ r) and the high half (< r/2, as x² < r² < r·2^255) added, so
// one conditional subtraction finishes. Clobbers AX, BX, CX, DX, SI, DI,
// R8..R11.
#define MONT_SQR \
	MOVQ    R8, DX                \
	MULXQ   R9, R13, R14          \
	MULXQ   R10, AX, R15          \
	ADDQ    AX, R14               \
	MULXQ   R11, AX, BX           \
	ADCQ    AX, R15               \
	ADCQ    $0, BX                \
	MOVQ    R9, DX                \
	MULXQ   R10, AX, SI           \
	MULXQ   R11, DI, CX           \
	ADDQ    AX, R15               \
	ADCQ    SI, BX                \
	ADCQ    $0, CX                \
	ADDQ    DI, BX                \
	ADCQ    $0, CX                \
	MOVQ    R10, DX               \
	MULXQ   R11, AX, SI           \
	ADDQ    AX, CX                \
	ADCQ    $0, SI                \
	XORQ    DI, DI                \
	ADDQ    R13, R13              \
	ADCQ    R14, R14              \
	ADCQ    R15, R15              \
	ADCQ    BX, BX                \
	ADCQ    CX, CX                \
	ADCQ    SI, SI                \
	ADCQ    $0, DI                \
	XORQ    AX, AX                \
	MOVQ    R8, DX                \
	MULXQ   DX, R12, AX           \
	ADCXQ   AX, R13               \
	MOVQ    R9, DX                \
	MULXQ   DX, AX, DX            \
	ADCXQ   AX, R14               \
	ADCXQ   DX, R15               \
	MOVQ    R10, DX               \
	MULXQ   DX, AX, DX            \
	ADCXQ   AX, BX                \
	ADCXQ   DX, CX                \
	MOVQ    R11, DX               \
	MULXQ   DX, AX, DX            \
	ADCXQ   AX, SI                \
	ADCXQ   DX, DI                \
	MOVQ    BX, R8                \
	MOVQ    CX, R9                \
	MOVQ    SI, R10               \
	MOVQ    DI, R11               \
	XORQ    BX, BX                \
	XORQ    SI, SI                \
	MONT_STEP                     \
	MONT_STEP                     \
	MONT_STEP                     \
	MONT_STEP                     \
	ADDQ    R8, R12               \
	ADCQ    R9, R13               \
	ADCQ    R10, R14              \
	ADCQ    R11, R15              \
	REDUCE_OUT

// RESULT_TO_X: x ← result.
#define RESULT_TO_X \
	MOVQ R12, R8  \
	MOVQ R13, R9  \
	MOVQ R14, R10 \
	MOVQ R15, R11

// STORE_RESULT(p): four words at p ← result.
#define STORE_RESULT(p) \
	MOVQ R12, 0(p)  \
	MOVQ R13, 8(p)  \
	MOVQ R14, 16(p) \
	MOVQ R15, 24(p)

// ADD_RC loads z (SI) + c (CX) mod r into R8..R11 (and R12..R15).
#define ADD_RC \
	MOVQ    0(SI), R8            \
	MOVQ    8(SI), R9            \
	MOVQ    16(SI), R10          \
	MOVQ    24(SI), R11          \
	ADDQ    0(CX), R8            \
	ADCQ    8(CX), R9            \
	ADCQ    16(CX), R10          \
	ADCQ    24(CX), R11          \
	MOVQ    R8, R12              \
	MOVQ    R9, R13              \
	MOVQ    R10, R14             \
	MOVQ    R11, R15             \
	SUBQ    rmod<>+0(SB), R12    \
	SBBQ    rmod<>+8(SB), R13    \
	SBBQ    rmod<>+16(SB), R14   \
	SBBQ    rmod<>+24(SB), R15   \
	CMOVQCS R8, R12              \
	CMOVQCS R9, R13              \
	CMOVQCS R10, R14             \
	CMOVQCS R11, R15             \
	RESULT_TO_X

// POW5 sets the result to x^5 for x = a in R8..R11, using the frame's
// 32-byte slot for a.
#define POW5 \
	LEAQ  a-32(SP), DI \
	STORE_RESULT(DI)   \
	MONT_SQR           \
	RESULT_TO_X        \
	MONT_SQR           \
	RESULT_TO_X        \
	LEAQ  a-32(SP), DI \
	MONT_MUL


// MDS_ROWS(srcmem): for each of the CX rows, dst (DI, advancing) ←
// (Σ_j m[i·t+j]·s[j])·2^−64 mod r, with AX the row-major integer matrix
// (advancing), srcmem a memory operand holding the address of s and
// t = CX. Row sums are five words (R8..R12); one Montgomery step and a
// conditional subtraction reduce them (bounds: see montRow in intmds.go).
// Clobbers every general register but BP and SP. Defines labels row and
// col: use once per function.
#define MDS_ROWS(srcmem) \
	MOVQ srcmem, SI \
	MOVQ CX, BX \
	SHLQ $5, BX \
	ADDQ BX, SI \
row: \
	XORQ R8, R8 \
	XORQ R9, R9 \
	XORQ R10, R10 \
	XORQ R11, R11 \
	XORQ R12, R12 \
	MOVQ srcmem, BX \
col: \
	MOVQ  (AX), DX \
	XORQ  R15, R15 \
	MULXQ 0(BX), R13, R14 \
	ADCXQ R13, R8 \
	ADOXQ R14, R9 \
	MULXQ 8(BX), R13, R14 \
	ADCXQ R13, R9 \
	ADOXQ R14, R10 \
	MULXQ 16(BX), R13, R14 \
	ADCXQ R13, R10 \
	ADOXQ R14, R11 \
	MULXQ 24(BX), R13, R14 \
	ADCXQ R13, R11 \
	ADOXQ R14, R12 \
	ADCXQ R15, R12 \
	ADDQ  $8, AX \
	ADDQ  $32, BX \
	CMPQ  BX, SI \
	JNE   col \
	MOVQ  $0xfffffffeffffffff, DX \
	IMULQ R8, DX \
	XORQ  R15, R15 \
	MOVQ  $0xffffffff00000001, BX \
	MULXQ BX, R13, R14 \
	ADCXQ R13, R8 \
	ADOXQ R14, R9 \
	MOVQ  $0x53bda402fffe5bfe, BX \
	MULXQ BX, R13, R14 \
	ADCXQ R13, R9 \
	ADOXQ R14, R10 \
	MOVQ  $0x3339d80809a1d805, BX \
	MULXQ BX, R13, R14 \
	ADCXQ R13, R10 \
	ADOXQ R14, R11 \
	MOVQ  $0x73eda753299d7d48, BX \
	MULXQ BX, R13, R14 \
	ADCXQ R13, R11 \
	ADOXQ R14, R12 \
	ADCXQ R15, R12 \
	MOVQ    R9, R13 \
	MOVQ    R10, R14 \
	MOVQ    R11, R15 \
	MOVQ    R12, BX \
	MOVQ    $0xffffffff00000001, DX \
	SUBQ    DX, R13 \
	MOVQ    $0x53bda402fffe5bfe, DX \
	SBBQ    DX, R14 \
	MOVQ    $0x3339d80809a1d805, DX \
	SBBQ    DX, R15 \
	MOVQ    $0x73eda753299d7d48, DX \
	SBBQ    DX, BX \
	CMOVQCC R13, R9 \
	CMOVQCC R14, R10 \
	CMOVQCC R15, R11 \
	CMOVQCC BX, R12 \
	MOVQ    R9, 0(DI) \
	MOVQ    R10, 8(DI) \
	MOVQ    R11, 16(DI) \
	MOVQ    R12, 24(DI) \
	ADDQ    $32, DI \
	DECQ    CX \
	JNZ     row

// PROD(moff, xoff): (R8..R12) += m·x with m the word at moff(AX) and x the
// element at xoff(BX). Expects CF = OF = 0 and R15 = 0, and leaves them so
// (the sum stays below 2^316), so unrolled products chain without resets.
#define PROD(moff, xoff) \
	MOVQ  moff(AX), DX       \
	MULXQ xoff+0(BX), R13, R14  \
	ADCXQ R13, R8            \
	ADOXQ R14, R9            \
	MULXQ xoff+8(BX), R13, R14  \
	ADCXQ R13, R9            \
	ADOXQ R14, R10           \
	MULXQ xoff+16(BX), R13, R14 \
	ADCXQ R13, R10           \
	ADOXQ R14, R11           \
	MULXQ xoff+24(BX), R13, R14 \
	ADCXQ R13, R11           \
	ADOXQ R14, R12           \
	ADCXQ R15, R12

// ROW_START clears the row accumulator, R15 and the flags.
#define ROW_START \
	XORQ R8, R8   \
	XORQ R9, R9   \
	XORQ R10, R10 \
	XORQ R11, R11 \
	XORQ R12, R12 \
	XORQ R15, R15

// ROW_END stores (R8..R12)·2^−64 mod r at (DI) (one Montgomery step and a
// conditional subtraction, as in MDS_ROWS) and advances DI. Clobbers DX,
// SI, R8..R15.
#define ROW_END \
	MOVQ    R8, DX                  \
	IMULQ   qinv<>+0(SB), DX        \
	XORQ    R15, R15                \
	MULXQ   rmod<>+0(SB), R13, R14  \
	ADCXQ   R13, R8                 \
	ADOXQ   R14, R9                 \
	MULXQ   rmod<>+8(SB), R13, R14  \
	ADCXQ   R13, R9                 \
	ADOXQ   R14, R10                \
	MULXQ   rmod<>+16(SB), R13, R14 \
	ADCXQ   R13, R10                \
	ADOXQ   R14, R11                \
	MULXQ   rmod<>+24(SB), R13, R14 \
	ADCXQ   R13, R11                \
	ADOXQ   R14, R12                \
	ADCXQ   R15, R12                \
	MOVQ    R9, R13                 \
	MOVQ    R10, R14                \
	MOVQ    R11, R15                \
	MOVQ    R12, SI                 \
	SUBQ    rmod<>+0(SB), R13       \
	SBBQ    rmod<>+8(SB), R14       \
	SBBQ    rmod<>+16(SB), R15      \
	SBBQ    rmod<>+24(SB), SI       \
	CMOVQCC R13, R9                 \
	CMOVQCC R14, R10                \
	CMOVQCC R15, R11                \
	CMOVQCC SI, R12                 \
	MOVQ    R9, 0(DI)               \
	MOVQ    R10, 8(DI)              \
	MOVQ    R11, 16(DI)             \
	MOVQ    R12, 24(DI)             \
	ADDQ    $32, DI

// ROWS3 / ROWS9 / ROWS12: MDS_ROWS unrolled for t = 3, 9 and 12: AX the matrix, BX
// s, DI dst. Clobber AX, CX, DX, SI, DI, R8..R15.
#define ROWS3 \
	MOVQ $3, CX        \
rows3loop:            \
	ROW_START          \
	PROD(0, 0)         \
	PROD(8, 32)        \
	PROD(16, 64)       \
	ROW_END            \
	ADDQ $24, AX       \
	DECQ CX            \
	JNZ  rows3loop

#define ROWS9 \
	MOVQ $9, CX        \
rows9loop:            \
	ROW_START          \
	PROD(0, 0)         \
	PROD(8, 32)        \
	PROD(16, 64)       \
	PROD(24, 96)       \
	PROD(32, 128)      \
	PROD(40, 160)      \
	PROD(48, 192)      \
	PROD(56, 224)      \
	PROD(64, 256)      \
	ROW_END            \
	ADDQ $72, AX       \
	DECQ CX            \
	JNZ  rows9loop

#define ROWS12 \
	MOVQ $12, CX       \
rows12loop:           \
	ROW_START          \
	PROD(0, 0)       \
	PROD(8, 32)       \
	PROD(16, 64)       \
	PROD(24, 96)       \
	PROD(32, 128)       \
	PROD(40, 160)       \
	PROD(48, 192)       \
	PROD(56, 224)       \
	PROD(64, 256)       \
	PROD(72, 288)       \
	PROD(80, 320)       \
	PROD(88, 352)       \
	ROW_END            \
	ADDQ $96, AX       \
	DECQ CX            \
	JNZ  rows12loop

// ROW_END_LAZY is ROW_END without the conditional subtraction: it stores
// (R8..R12)·2^−64 mod r as a value below 2r, which PROD accepts as input
// (row sums stay below 2L·r < 2^317) but the S-box does not.
#define ROW_END_LAZY \
	MOVQ    R8, DX                  \
	IMULQ   qinv<>+0(SB), DX        \
	XORQ    R15, R15                \
	MULXQ   rmod<>+0(SB), R13, R14  \
	ADCXQ   R13, R8                 \
	ADOXQ   R14, R9                 \
	MULXQ   rmod<>+8(SB), R13, R14  \
	ADCXQ   R13, R9                 \
	ADOXQ   R14, R10                \
	MULXQ   rmod<>+16(SB), R13, R14 \
	ADCXQ   R13, R10                \
	ADOXQ   R14, R11                \
	MULXQ   rmod<>+24(SB), R13, R14 \
	ADCXQ   R13, R11                \
	ADOXQ   R14, R12                \
	ADCXQ   R15, R12                \
	MOVQ    R9, 0(DI)               \
	MOVQ    R10, 8(DI)              \
	MOVQ    R11, 16(DI)             \
	MOVQ    R12, 24(DI)             \
	ADDQ    $32, DI

// ROWS3_LAZY / ROWS9_LAZY: ROWS3 / ROWS9 for a partial round followed by
// another partial round: row 0 (the next S-box input) is reduced fully,
// rows 1.. (only ever multiplied by the matrix again) below 2r.
#define ROWS3_LAZY \
	ROW_START          \
	PROD(0, 0)         \
	PROD(8, 32)        \
	PROD(16, 64)       \
	ROW_END            \
	ADDQ $24, AX       \
	MOVQ $2, CX        \
lazy3loop:            \
	ROW_START          \
	PROD(0, 0)         \
	PROD(8, 32)        \
	PROD(16, 64)       \
	ROW_END_LAZY       \
	ADDQ $24, AX       \
	DECQ CX            \
	JNZ  lazy3loop

#define ROWS9_LAZY \
	ROW_START          \
	PROD(0, 0)       \
	PROD(8, 32)       \
	PROD(16, 64)       \
	PROD(24, 96)       \
	PROD(32, 128)       \
	PROD(40, 160)       \
	PROD(48, 192)       \
	PROD(56, 224)       \
	PROD(64, 256)       \
	ROW_END            \
	ADDQ $72, AX       \
	MOVQ $8, CX        \
lazy9loop:            \
	ROW_START          \
	PROD(0, 0)       \
	PROD(8, 32)       \
	PROD(16, 64)       \
	PROD(24, 96)       \
	PROD(32, 128)       \
	PROD(40, 160)       \
	PROD(48, 192)       \
	PROD(56, 224)       \
	PROD(64, 256)       \
	ROW_END_LAZY       \
	ADDQ $72, AX       \
	DECQ CX            \
	JNZ  lazy9loop
