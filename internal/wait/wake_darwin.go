//go:build darwin

package wait

// Waiting on macOS: __ulock_wait and __ulock_wake from libSystem with
// UL_COMPARE_AND_WAIT_SHARED, which keys the word by the memory object it
// is mapped from, so it works between processes (macOS 10.12 and later;
// Go 1.26 needs macOS 12). These are exported by libSystem but declared
// only in xnu's sys/ulock.h; libc++'s std::atomic::wait is built on them,
// which keeps them stable in practice. The public os_sync_wait_on_address
// needs macOS 14.4, and Go cannot import a symbol weakly, so a binary using
// it would not start on older systems.
//
// Go on macOS calls libSystem, not the kernel (system call numbers are not
// a stable interface there), so these calls go the way golang.org/x/sys/unix
// makes its own: a dynamic import, an assembly trampoline that jumps to it
// (wake_darwin.s), and the runtime's libc call path, syscall.syscall, which
// switches to the system stack and tells the scheduler.

import (
	"math"
	"syscall"
	"time"
	"unsafe"
)

// From xnu's bsd/sys/ulock.h.
const (
	ulCompareAndWaitShared = 3     // UL_COMPARE_AND_WAIT_SHARED: a 32-bit word, possibly shared between processes
	ulfWakeAll             = 0x100 // ULF_WAKE_ALL: wake every sleeper, not one
)

// The trampolines' addresses (wake_darwin.s).
var (
	libc___ulock_wait_trampoline_addr uintptr
	libc___ulock_wake_trampoline_addr uintptr
	libc_sched_yield_trampoline_addr  uintptr
)

//go:cgo_import_dynamic libc___ulock_wait __ulock_wait "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc___ulock_wake __ulock_wake "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_sched_yield sched_yield "/usr/lib/libSystem.B.dylib"

// libcCall calls the C function at fn with up to six arguments, as
// golang.org/x/sys/unix does (the runtime keeps this name for it).
//
//go:linkname libcCall syscall.syscall6
func libcCall(fn, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err syscall.Errno)

// waitOn sleeps while *word == val, for at most d; it may return early.
// __ulock_wait(operation, addr, value, timeout in µs, 0 for none).
func waitOn(word *uint32, val uint32, d time.Duration) {
	us := uintptr(min(max(d.Microseconds(), 1), math.MaxUint32))
	libcCall(libc___ulock_wait_trampoline_addr, ulCompareAndWaitShared,
		uintptr(unsafe.Pointer(word)), uintptr(val), us, 0, 0)
}

// wakeOn wakes every process sleeping in waitOn(word, ...); word has
// just been bumped from old.
// __ulock_wake(operation, addr, wake_value).
func wakeOn(word *uint32, old uint32) {
	libcCall(libc___ulock_wake_trampoline_addr, ulCompareAndWaitShared|ulfWakeAll,
		uintptr(unsafe.Pointer(word)), 0, 0, 0, 0)
}

// osYield gives the processor to any other runnable thread, of this
// process or another (runtime.Gosched only yields to goroutines).
func osYield() { libcCall(libc_sched_yield_trampoline_addr, 0, 0, 0, 0, 0, 0) }
