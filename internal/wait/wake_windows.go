//go:build windows

package wait

// Waiting on Windows: a named manual-reset event per wake-up word of each
// buffer. Windows has no wait on an address that works between processes
// (WaitOnAddress is private to a process), so a sleeper waits on the event
// of its word, and a waker, after bumping the word, sets the event, which
// releases every thread waiting on it at that moment. The word still
// carries the protocol of wait.go: a sleeper sleeps only while the word
// holds the value it read, and checks it again whenever the event lets
// it go.
//
// Nobody can atomically check a word and start waiting on an event, so
// the event is reset by sleepers, with this rule: a sleeper that finds the
// event set but its word unchanged resets the event, then checks its word
// again before it waits. A waker bumps the word before it sets the event,
// so a set that the reset clears was preceded by a bump that the resetting
// sleeper's own check sees. What the rule cannot protect is another
// sleeper of the same word: one that has checked the word and is about to
// wait (preempted there, say) when the set and a reset both happen. It
// then sleeps through that wake-up, until the next one or its bound. A
// word has several sleepers with Broadcast readers, several goroutines of
// a Flock handle, and Flock lockers; one sleeper per word (an Atomic
// writer and reader) never meets the race. So MaxSleep is short here.
// Waits with a timeout end on a clock tick, every 15.6 ms by default on
// Windows, so a bound of 10 ms is in practice up to about 16 ms.
//
// Events are named Global\scb-<buffer id>-<word offset>, so that every
// process of every session that maps the buffer finds the same one; they
// carry the default security of the process that creates them. A process
// that cannot create or open a word's event (one of another user, or of
// another integrity level) polls that word every millisecond instead, and
// cannot wake the others: they find its items or room at their bound.

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Futexes reports that waitOn sleeps until wakeOn (wait.go's protocol
// registers sleepers).
const Futexes = true

// FineTimeouts is false: a timed wait ends on the 15.6 ms clock tick, so a
// sleep bounded by a millisecond may last sixteen.
const FineTimeouts = false

// MaxSleep bounds one sleep: the cost of a wake-up lost to the race above,
// or to a waker that died between claiming the wake-up and making it.
const MaxSleep = 10 * time.Millisecond

// pollSleep is the sleep of a word whose event could not be opened: the
// bound on its wake-up delay, as where waits poll (wake_other.go).
const pollSleep = time.Millisecond

// wakeMapping is one mapped buffer's events, by the offset of their word.
type wakeMapping struct {
	base, end uintptr
	id        uint64
	events    map[uintptr]windows.Handle // 0: the event could not be opened
}

var (
	wakeMu   sync.Mutex
	wakeMaps []*wakeMapping
)

// Map records the mapping of buffer id at base, size bytes long, so that
// waitOn and wakeOn find the events of its words.
func Map(base unsafe.Pointer, size int, id uint64) {
	wakeMu.Lock()
	defer wakeMu.Unlock()
	b := uintptr(base)
	wakeMaps = append(wakeMaps, &wakeMapping{base: b, end: b + uintptr(size), id: id, events: map[uintptr]windows.Handle{}})
}

// Unmap forgets the mapping at base and closes its events; nothing may
// wait on or wake its words any more.
func Unmap(base unsafe.Pointer) {
	wakeMu.Lock()
	defer wakeMu.Unlock()
	for i, m := range wakeMaps {
		if m.base != uintptr(base) {
			continue
		}
		for _, h := range m.events {
			if h != 0 {
				windows.CloseHandle(h)
			}
		}
		wakeMaps = append(wakeMaps[:i], wakeMaps[i+1:]...)
		return
	}
}

// eventOf returns the event of word, opening it the first time; 0 if it
// cannot be opened, or word is in no recorded mapping.
func eventOf(word *uint32) windows.Handle {
	a := uintptr(unsafe.Pointer(word))
	wakeMu.Lock()
	defer wakeMu.Unlock()
	for _, m := range wakeMaps {
		if a < m.base || a >= m.end {
			continue
		}
		off := a - m.base
		h, ok := m.events[off]
		if !ok {
			h = openEvent(fmt.Sprintf(`Global\scb-%016x-%d`, m.id, off))
			m.events[off] = h
		}
		return h
	}
	return 0
}

// openEvent creates the named manual-reset event, or opens it if it
// exists; 0 if neither is allowed.
func openEvent(name string) windows.Handle {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0
	}
	h, err := windows.CreateEvent(nil, 1, 0, p)
	if h == 0 || err != nil && err != windows.ERROR_ALREADY_EXISTS {
		return 0
	}
	return h
}

// waitOn sleeps while *word == val, for at most d; it may return early.
func waitOn(word *uint32, val uint32, d time.Duration) {
	ev := eventOf(word)
	if ev == 0 {
		if atomic.LoadUint32(word) == val {
			time.Sleep(min(d, pollSleep))
		}
		return
	}
	deadline := time.Now().Add(d)
	for atomic.LoadUint32(word) == val {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		ms := uint32((left + time.Millisecond - 1) / time.Millisecond)
		if r, err := windows.WaitForSingleObject(ev, ms); r != windows.WAIT_OBJECT_0 || err != nil {
			return // the time is up, or the wait failed (the caller retries)
		}
		if atomic.LoadUint32(word) != val {
			return
		}
		windows.ResetEvent(ev) // set for an earlier value: see the rule above
	}
}

// wakeOn wakes every process sleeping in waitOn(word, ...); word has
// just been bumped from old.
func wakeOn(word *uint32, old uint32) {
	if ev := eventOf(word); ev != 0 {
		windows.SetEvent(ev)
	}
}

// osYield yields the processor to other goroutines (runtime.Gosched):
// Windows' clock is too coarse for await's test of a slow yield to mean
// anything, so yields that hand the core to other processes would not be
// noticed when the machine is oversubscribed.
func osYield() { runtime.Gosched() }
