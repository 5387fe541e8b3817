//go:build linux

package scb

// Waiting on Linux: blocking calls sleep on a futex in the shared header,
// and wake bumps it.

import (
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxSleep bounds one futex sleep, so that a wake-up lost to a process that
// died between publishing and waking costs at most this much.
const maxSleep = 100 * time.Millisecond

const (
	futexWait = 0 // FUTEX_WAIT, without FUTEX_PRIVATE_FLAG: the word is shared between processes
	futexWake = 1 // FUTEX_WAKE
)

// sleep registers as a waiter on seq, and sleeps in the kernel until seq
// changes or limit passes, unless ready already reports true.
func sleep(ws *waitState, seq, waiters *uint32, ready func() bool, limit time.Duration) {
	atomic.AddUint32(waiters, 1)
	v := atomic.LoadUint32(seq)
	if !ready() {
		ts := unix.NsecToTimespec(int64(limit))
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(seq)), futexWait, uintptr(v),
			uintptr(unsafe.Pointer(&ts)), 0, 0)
	}
	atomic.AddUint32(waiters, ^uint32(0))
	ws.sleeps++
}

// wake bumps seq and wakes every process sleeping on it.
func wake(seq *uint32) {
	atomic.AddUint32(seq, 1)
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(seq)), futexWake, math.MaxInt32, 0, 0, 0)
}
