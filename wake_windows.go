//go:build windows

package scb

// Waiting on Windows: named kernel events. WaitOnAddress only wakes
// threads of its own process, so a sleeper waits instead on a manual-reset
// event named after the buffer (its header's random id), the word's offset
// in the header, and the value it saw in the word:
//
//	Local\scb-<id>-<offset>-<value>
//
// It creates (or opens) that event, checks that the word still holds the
// value, and waits. A waker that bumps the word from old to old+1 opens the
// event for old, if any sleeper has it, and sets it; nobody ever resets it,
// and it goes away when its last sleeper closes it. So no wake-up is lost:
// either the sleeper's check sees the bump, or the event existed before
// the waker looked for it. Every sleeper of that value wakes, and later
// sleepers use the next value's event.
//
// Local\ is the namespace of one login session: processes of different
// sessions (a service and a desktop program) do not see each other's
// events, and wait for each other up to maxSleep at a time. (Global\ needs
// SeCreateGlobalPrivilege, which ordinary programs do not have.)

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// unmappedSleep is how long waitOn sleeps for a word that is in no mapped
// buffer (which does not happen) or whose event it cannot create.
const unmappedSleep = time.Millisecond

// eventName returns the name of the event for the sleepers that saw val in
// word, or false if word is in no mapped buffer.
func eventName(word *uint32, val uint32) (*uint16, bool) {
	id, off, ok := mappingOf(unsafe.Pointer(word))
	if !ok {
		return nil, false
	}
	p, err := windows.UTF16PtrFromString(fmt.Sprintf(`Local\scb-%016x-%x-%08x`, id, off, val))
	return p, err == nil
}

// waitOn sleeps while *word == val, for at most d; it may return early.
func waitOn(word *uint32, val uint32, d time.Duration) {
	name, ok := eventName(word, val)
	if !ok {
		time.Sleep(min(d, unmappedSleep))
		return
	}
	ev, err := windows.CreateEvent(nil, 1, 0, name) // manual-reset, not set; or the existing one
	if err != nil && ev == 0 {
		time.Sleep(min(d, unmappedSleep))
		return
	}
	defer windows.CloseHandle(ev)
	if atomic.LoadUint32(word) != val {
		return
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond // rounded up: a timeout of 0 would not sleep
	windows.WaitForSingleObject(ev, uint32(min(max(ms, 1), math.MaxUint32-1)))
}

// wakeOn wakes every process sleeping in waitOn(word, ...); word has
// just been bumped from old.
func wakeOn(word *uint32, old uint32) {
	name, ok := eventName(word, old)
	if !ok {
		return
	}
	ev, err := windows.OpenEvent(windows.EVENT_MODIFY_STATE, false, name)
	if err != nil {
		return // no sleeper saw old
	}
	windows.SetEvent(ev)
	windows.CloseHandle(ev)
}

var switchToThread = windows.NewLazySystemDLL("kernel32.dll").NewProc("SwitchToThread")

// osYield gives the processor to any other thread ready to run on it, of
// this process or another (runtime.Gosched only yields to goroutines).
func osYield() { switchToThread.Call() }
