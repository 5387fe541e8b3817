//go:build linux

package wait

// Sleeping on several words on Linux: futex_waitv (Linux 5.16), which
// sleeps until any of up to 128 futexes is woken, shared between
// processes like the futex of waitOn. Older kernels, and emulators that do
// not know the call, answer ENOSYS, and system-call filters EPERM: from
// then on SleepAny polls.

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// futexWaitv is the kernel's struct futex_waitv.
type futexWaitv struct {
	val      uint64
	uaddr    uint64
	flags    uint32
	reserved uint32
}

// kernelTimespec is the kernel's struct __kernel_timespec: 64-bit fields
// on every platform, unlike unix.Timespec on 32-bit ones.
type kernelTimespec struct {
	sec, nsec int64
}

// futex2Size32 is FUTEX2_SIZE_U32: the words are 32 bits. (Without
// FUTEX2_PRIVATE, so that other processes' wakes reach the sleep.)
const futex2Size32 = 0x02

// noWaitv is set once futex_waitv answered ENOSYS.
var noWaitv atomic.Bool

// canWaitAny reports whether waitOnAny can sleep on n words.
func canWaitAny(n int) bool { return n <= MaxWords && !noWaitv.Load() }

// waitOnAny sleeps while the Seq of every word of ws holds its value in
// vals, for at most d; it may return early. It returns false if the
// kernel has no futex_waitv, having not slept.
func waitOnAny(ws []Word, vals []uint32, d time.Duration) bool {
	var buf [8]futexWaitv
	fw := buf[:0]
	if len(ws) > len(buf) {
		fw = make([]futexWaitv, 0, len(ws))
	}
	for i, w := range ws {
		fw = append(fw, futexWaitv{val: uint64(vals[i]), uaddr: uint64(uintptr(unsafe.Pointer(w.Seq))), flags: futex2Size32})
	}
	var now unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &now) != nil {
		return false
	}
	at := now.Nano() + int64(d)
	ts := kernelTimespec{sec: at / 1e9, nsec: at % 1e9}
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX_WAITV, uintptr(unsafe.Pointer(&fw[0])), uintptr(len(fw)), 0,
		uintptr(unsafe.Pointer(&ts)), unix.CLOCK_MONOTONIC, 0)
	switch errno {
	case 0, unix.EAGAIN, unix.ETIMEDOUT, unix.EINTR:
		return true // woken, a value that changed, the time up, or a signal: the caller looks again
	}
	// ENOSYS (an old kernel, an emulator), EPERM (a seccomp filter that
	// does not know the call), or anything else: never again, or the
	// caller would spin on the failing call.
	noWaitv.Store(true)
	return false
}
