package wait

import (
	"sync/atomic"
	"time"
)

// MaxWords is how many words SleepAny watches in one sleep: the bound of
// Linux's futex_waitv.
const MaxWords = 128

// pollMax bounds one step of the back-off of a SleepAny that polls (a
// platform with no wait on several words, or a kernel without one): the
// delay it adds to a wake-up.
const pollMax = time.Millisecond

// SleepAny is Sleep on several words at once: it registers the caller as
// a sleeper on each of ws, and sleeps until the Seq of any of them changes
// or limit passes, unless ready already reports true. vals is scratch
// space of len(ws). Where the platform can sleep on several words (Linux
// 5.16's futex_waitv, Windows' WaitForMultipleObjects on the words'
// events) a waker's Wake ends the sleep as it ends Sleep's; elsewhere, and
// on one word where Sleep would poll, it polls with Sleep's back-off, in
// steps of at most pollMax and without registering, so that wakers make
// no system call for it.
func SleepAny(ws []Word, vals []uint32, s *State, ready func() bool, limit time.Duration) {
	s.sleeps++
	if Futexes && (len(ws) == 1 || canWaitAny(len(ws))) {
		for i, w := range ws {
			register(w.Waiters, One)
			vals[i] = atomic.LoadUint32(w.Seq)
		}
		if ready() {
			return
		}
		if len(ws) == 1 {
			waitOn(ws[0].Seq, vals[0], limit)
			return
		}
		if waitOnAny(ws, vals, limit) {
			return
		}
	}
	if !ready() {
		time.Sleep(min(minSleep<<min(s.sleeps-1, 10), pollMax, limit))
	}
}
