//go:build darwin

// Trampolines to libSystem's functions for wake_darwin.go, as
// golang.org/x/sys/unix writes them; the same text assembles for amd64
// and arm64.

#include "textflag.h"

TEXT libc___ulock_wait_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc___ulock_wait(SB)
GLOBL	·libc___ulock_wait_trampoline_addr(SB), RODATA, $8
DATA	·libc___ulock_wait_trampoline_addr(SB)/8, $libc___ulock_wait_trampoline<>(SB)

TEXT libc___ulock_wake_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc___ulock_wake(SB)
GLOBL	·libc___ulock_wake_trampoline_addr(SB), RODATA, $8
DATA	·libc___ulock_wake_trampoline_addr(SB)/8, $libc___ulock_wake_trampoline<>(SB)

TEXT libc_sched_yield_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_sched_yield(SB)
GLOBL	·libc_sched_yield_trampoline_addr(SB), RODATA, $8
DATA	·libc_sched_yield_trampoline_addr(SB)/8, $libc_sched_yield_trampoline<>(SB)
