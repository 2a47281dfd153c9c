#include "textflag.h"

// func prefetchLabels(parents *[TotalParents]uint32, cur, prev *byte, degree int)
// Issues PREFETCHT0 for the labels of the first `degree` parents: parents 0..5 in cur, 6..13 in prev.
TEXT ·prefetchLabels(SB), NOSPLIT, $0-32
	MOVQ parents+0(FP), AX
	MOVQ cur+8(FP), BX
	MOVQ prev+16(FP), CX
	MOVQ degree+24(FP), SI
	MOVL 0(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 4(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 8(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 12(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 16(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 20(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	CMPQ SI, $6
	JLE done
	MOVL 24(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (CX)(DX*1)
	MOVL 28(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (CX)(DX*1)
	MOVL 32(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (CX)(DX*1)
	MOVL 36(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (CX)(DX*1)
	MOVL 40(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (CX)(DX*1)
	MOVL 44(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (CX)(DX*1)
	MOVL 48(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (CX)(DX*1)
	MOVL 52(AX), DX
	SHLQ $5, DX
	PREFETCHT0 (CX)(DX*1)
done:
	RET
