//go:build amd64 && !purego

#include "textflag.h"

// func gatherRowsAsm(job *gatherJob)
//
// For rows i in [0, n): row i's parents are the TotalParents uint32 indices at parents+56·i. For each of the
// first degree slots it stores the address of the parent's label in rows (8 bytes per slot, degree slots per
// row): expander parents (slots 6..13, in prev) and base parents below frontier (in cur) are first copied to
// copies (32 bytes per slot, same layout as rows) and the copy's address is stored; other base parents' labels
// are addressed in cur. Before each row it prefetches the labels of row min(i+gatherPrefetch, pfLast).
#define gatherPrefetch 8
TEXT ·gatherRowsAsm(SB), NOSPLIT, $0-8
	MOVQ job+0(FP), DI
	MOVQ 0(DI), SI   // parents
	MOVQ 8(DI), R8   // cur
	MOVQ 16(DI), R9  // prev
	MOVQ 24(DI), R10 // rows
	MOVQ 32(DI), R11 // copies
	MOVQ 40(DI), CX  // n
	XORQ BX, BX      // i

row:
	CMPQ BX, CX
	JAE done
	LEAQ gatherPrefetch(BX), AX
	CMPQ AX, 64(DI)
	CMOVQHI 64(DI), AX
	IMUL3Q $56, AX, AX
	ADDQ SI, AX
	XORQ DX, DX

prefetch:
	MOVL (AX)(DX*4), R12
	SHLQ $5, R12
	CMPQ DX, $6
	JAE prefetchprev
	PREFETCHT0 (R8)(R12*1)
	JMP prefetchnext

prefetchprev:
	PREFETCHT0 (R9)(R12*1)

prefetchnext:
	INCQ DX
	CMPQ DX, 56(DI)
	JB prefetch

	IMUL3Q $56, BX, AX
	ADDQ SI, AX
	XORQ DX, DX

slot:
	MOVL (AX)(DX*4), R12
	MOVQ R12, R13
	SHLQ $5, R13
	CMPQ DX, $6
	JAE expander
	ADDQ R8, R13
	CMPQ R12, 48(DI)
	JAE store
	JMP copy

expander:
	ADDQ R9, R13

copy:
	MOVOU (R13), X0
	MOVOU 16(R13), X1
	MOVOU X0, (R11)
	MOVOU X1, 16(R11)
	MOVQ R11, R13

store:
	MOVQ R13, (R10)
	ADDQ $8, R10
	ADDQ $32, R11
	INCQ DX
	CMPQ DX, 56(DI)
	JB slot
	INCQ BX
	JMP row

done:
	RET
