//go:build windows

package wait

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/windows"
)

// canWaitAny reports whether waitOnAny can sleep on n words: one
// WaitForMultipleObjects takes at most 64 events.
func canWaitAny(n int) bool { return n <= maxWaitObjects }

// maxWaitObjects is Windows' MAXIMUM_WAIT_OBJECTS.
const maxWaitObjects = 64

// waitOnAny sleeps on the events of the words of ws while each word holds
// its value in vals, for at most d, with waitOn's rule for an event found
// set for an earlier value; it may return early. It returns false, having
// not slept, when a word's event cannot be opened: the caller polls.
func waitOnAny(ws []Word, vals []uint32, d time.Duration) bool {
	var buf [8]windows.Handle
	evs := buf[:0]
	for _, w := range ws {
		ev := eventOf(w.Seq)
		if ev == 0 {
			return false
		}
		evs = append(evs, ev)
	}
	deadline := time.Now().Add(d)
	for {
		for i, w := range ws {
			if atomic.LoadUint32(w.Seq) != vals[i] {
				return true
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		ms := uint32((left + time.Millisecond - 1) / time.Millisecond)
		r, err := windows.WaitForMultipleObjects(evs, false, ms)
		if err != nil || r < windows.WAIT_OBJECT_0 || r >= windows.WAIT_OBJECT_0+uint32(len(evs)) {
			return true // the time is up, or the wait failed (the caller retries)
		}
		i := r - windows.WAIT_OBJECT_0
		if atomic.LoadUint32(ws[i].Seq) != vals[i] {
			return true
		}
		windows.ResetEvent(evs[i]) // set for an earlier value: see waitOn's rule
	}
}
