#include "textflag.h"

// func touchPage(p *byte)
//
// Loads the 4-byte word at p exclusively and stores it back, retrying if another store intervened: a write
// access (so the page is faulted in writable) that changes nothing (touch.go).
TEXT ·touchPage(SB), NOSPLIT, $0-8
	MOVD p+0(FP), R0
again:
	LDAXRW (R0), R1
	STLXRW R1, (R0), R2
	CBNZ   R2, again
	RET
