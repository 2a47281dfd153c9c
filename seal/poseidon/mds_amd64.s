//go:build amd64 && !purego

#include "textflag.h"
#include "field_amd64.h"

// func mulIntADX(dst, s *fr.Element, m *uint64, t int)
TEXT ·mulIntADX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ m+16(FP), AX
	MOVQ t+24(FP), CX
	MDS_ROWS(s+8(FP))
	RET
