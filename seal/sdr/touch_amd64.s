#include "textflag.h"

// func touchPage(p *byte)
//
// A locked OR of zero into the 4-byte word at p: a write access (so the page is faulted in writable) that
// changes nothing, indivisible against other cores' stores (touch.go).
TEXT ·touchPage(SB), NOSPLIT, $0-8
	MOVQ p+0(FP), AX
	LOCK
	ORL  $0, (AX)
	RET
