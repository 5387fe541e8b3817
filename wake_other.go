//go:build !linux

package scb

// Waiting elsewhere than Linux: blocking calls poll with a sleeping back-off.

import "time"

// Without a futex, a waiter polls with a sleeping back-off that starts at
// minSleep and doubles up to maxSleep: a wake-up arrives at most maxSleep
// (plus the system's timer slack) after the item or the room it waits for.
const (
	minSleep = 20 * time.Microsecond
	maxSleep = time.Millisecond
)

// sleep waits until ready reports true, for one step of the back-off and at
// most limit; waiters and seq are not used (there is nobody to wake it).
func sleep(ws *waitState, seq, waiters *uint32, ready func() bool, limit time.Duration) {
	if ready() {
		return
	}
	d := minSleep << min(ws.sleeps, 10)
	time.Sleep(min(d, maxSleep, limit))
	ws.sleeps++
}

// wake has nothing to do: sleepers poll.
func wake(seq *uint32) {}
