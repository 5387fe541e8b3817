//go:build !linux && !freebsd && !darwin && !windows

package wait

// Waiting where no cross-process wait-on-address is used (NetBSD,
// OpenBSD, the fallback): blocking calls poll with a sleeping back-off
// (Word.Sleep, in wait.go); there is no wake-up to make.

import (
	"runtime"
	"time"
	"unsafe"
)

// Futexes is false: waitOn is never called, sleepers poll.
const Futexes = false

// FineTimeouts is false: sleepers poll, and nobody wakes them.
const FineTimeouts = false

// Without a futex, a waiter polls with a sleeping back-off that starts at
// minSleep (wait.go) and doubles up to MaxSleep: a wake-up arrives at most
// MaxSleep (plus the system's timer slack) after the item or the room it
// waits for.
const MaxSleep = time.Millisecond

func waitOn(word *uint32, val uint32, d time.Duration) { time.Sleep(d) }

func wakeOn(word *uint32, old uint32) {}

// osYield yields the processor; the runtime's yield is the portable one.
func osYield() { runtime.Gosched() }

// Map and Unmap do nothing: nothing is kept per mapping.
func Map(base unsafe.Pointer, size int, id uint64) {}
func Unmap(base unsafe.Pointer)                    {}
