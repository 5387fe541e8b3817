//go:build linux || freebsd || darwin

package wait

// What the platforms whose waitOn really sleeps until wakeOn share: the
// primitive is in wake_linux.go (futex), wake_freebsd.go (_umtx_op),
// and wake_darwin.go (__ulock_wait).

import (
	"time"
	"unsafe"
)

// Futexes reports that waitOn really sleeps until wakeOn (wait.go's
// protocol registers sleepers); without it, waits poll with a back-off.
const Futexes = true

// FineTimeouts reports that a sleep bounded by a millisecond ends about a
// millisecond later (a caller may nap on it), not on a coarse clock tick.
const FineTimeouts = true

// MaxSleep bounds one sleep, so that a wake-up lost to a process that died
// between claiming it and making it costs at most this much.
const MaxSleep = 100 * time.Millisecond

// Map and Unmap do nothing: the kernel keys a wait by the address
// of its word in the mapping, and keeps nothing per mapping.
func Map(base unsafe.Pointer, size int, id uint64) {}
func Unmap(base unsafe.Pointer)                    {}
