//go:build freebsd

package wait

// Waiting on FreeBSD: _umtx_op(2) on the shared header word, FreeBSD's
// futex. UMTX_OP_WAIT_UINT and UMTX_OP_WAKE (not their _PRIVATE variants)
// key the word by the object it is mapped from when the mapping is shared,
// so they work between processes.

import (
	"math"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// From FreeBSD's sys/sys/umtx.h.
const (
	umtxOpWake     = 3  // UMTX_OP_WAKE: wake up to val sleepers on the word
	umtxOpWaitUint = 11 // UMTX_OP_WAIT_UINT: sleep while the u_int word == val
)

// umtxTime is struct _umtx_time: a timeout, relative unless _flags has
// UMTX_ABSTIME, measured on _clockid.
type umtxTime struct {
	timeout unix.Timespec
	flags   uint32
	clockid uint32
}

// waitOn sleeps while *word == val, for at most d; it may return early.
// The timeout goes in uaddr2, its size in uaddr.
func waitOn(word *uint32, val uint32, d time.Duration) {
	tm := umtxTime{timeout: unix.NsecToTimespec(int64(d)), clockid: unix.CLOCK_MONOTONIC}
	unix.Syscall6(unix.SYS__UMTX_OP, uintptr(unsafe.Pointer(word)), umtxOpWaitUint, uintptr(val),
		unsafe.Sizeof(tm), uintptr(unsafe.Pointer(&tm)), 0)
}

// wakeOn wakes every process sleeping in waitOn(word, ...); word has
// just been bumped from old.
func wakeOn(word *uint32, old uint32) {
	unix.Syscall6(unix.SYS__UMTX_OP, uintptr(unsafe.Pointer(word)), umtxOpWake, math.MaxInt32, 0, 0, 0)
}

// osYield gives the processor to any other runnable thread, of this
// process or another (runtime.Gosched only yields to goroutines).
func osYield() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
