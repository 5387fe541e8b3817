//go:build linux

package wait

// Waiting on Linux: a futex on the shared header word, which works between
// processes because the word is in a shared mapping (no FUTEX_PRIVATE_FLAG).

import (
	"math"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	futexWaitOp = 0 // FUTEX_WAIT
	futexWakeOp = 1 // FUTEX_WAKE
)

// waitOn sleeps while *word == val, for at most d; it may return early.
func waitOn(word *uint32, val uint32, d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWaitOp, uintptr(val),
		uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// wakeOn wakes every process sleeping in waitOn(word, ...); word has
// just been bumped from old.
func wakeOn(word *uint32, old uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWakeOp, math.MaxInt32, 0, 0, 0)
}

// osYield gives the processor to any other runnable thread, of this
// process or another (runtime.Gosched only yields to goroutines).
func osYield() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
