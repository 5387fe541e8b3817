package wait

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Ladder is the part of a wait before it sleeps: Spins polls of its
// condition, which cover the other side being in the middle of an
// operation, then polls until For has passed since the climb began (if
// For is set), then up to Yields polls each after yielding the processor
// to any other thread (another process included). Every wait of scb climbs
// it: a blocking call waiting for items or room, and a Flock locker waiting
// for a lock word or the file lock; each then sleeps on its own word.
type Ladder struct {
	Spins  int
	For    time.Duration
	Yields int
}

// Stage is where a climb of a Ladder ended.
type Stage uint8

const (
	Missed  Stage = iota // the condition stayed false: the caller sleeps
	Spun                 // it became true within Spins
	Timed                // within For
	Yielded              // after a yield
)

// FineClock reports that the monotonic clock moves in fine steps, so that a
// Ladder's timed stage (For) lasts about as long as asked. Windows' moves
// on the 15.6 ms clock tick.
const FineClock = runtime.GOOS != "windows"

// forCheck is how many polls a Ladder's timed stage (For) makes between
// two looks at the clock.
const forCheck = 64

// Climb polls ready through the ladder and reports the stage in which it
// became true, or Missed. It stops yielding, and reports Missed at once,
// when a yield shows that the cores are oversubscribed (Yielder). The
// timed stage looks at the clock every forCheck polls, so it lasts For
// where the clock is fine (FineClock; callers leave For at zero
// elsewhere).
func (l Ladder) Climb(y *Yielder, ready func() bool) Stage {
	for range l.Spins {
		if ready() {
			return Spun
		}
	}
	if l.For > 0 {
		end := clock() + int64(l.For)
		for i := 1; ; i++ {
			if ready() {
				return Timed
			}
			if i%forCheck == 0 && clock() >= end {
				break
			}
		}
	}
	for range l.Yields {
		yielded := y.Yield()
		if ready() {
			return Yielded
		}
		if !yielded {
			return Missed
		}
	}
	return Missed
}

const (
	// slowYield is how long a yield takes when another thread runs in
	// the meantime. A yield returns at once while a core is free; on an
	// oversubscribed machine (more runnable threads than cores) it hands
	// the core to another thread for up to a scheduler time slice, which
	// is milliseconds, while a sleeper is woken within microseconds of
	// its item. So after a slow yield the Yielder's waits skip yielding
	// and go to sleep at once, for minBusy; then one wait tries yielding
	// again, and while yields stay slow the period doubles up to maxBusy,
	// so that probing costs at most one time slice in maxBusy.
	slowYield = int64(200 * time.Microsecond)
	minBusy   = int64(100 * time.Millisecond)
	maxBusy   = int64(time.Second)
)

// Yielder yields the processor for one handle's waits, and remembers when
// a yield found the cores oversubscribed. Its goroutines may race on it:
// any of their values will do. The zero value is ready to use.
type Yielder struct {
	// busyUntil is when waits yield again (monotonic), busyFor how long
	// they last stopped.
	busyUntil, busyFor atomic.Int64
}

// Yield gives the processor to any other runnable thread (of any process,
// where osYield is sched_yield; to other goroutines elsewhere), unless a
// recent yield found the cores oversubscribed (slowYield). It reports false
// when the caller should stop yielding and sleep: the cores are
// oversubscribed, now or recently.
func (y *Yielder) Yield() bool {
	now := clock()
	if now < y.busyUntil.Load() {
		return false
	}
	yieldNow()
	if clock()-now > slowYield {
		d := min(max(2*y.busyFor.Load(), minBusy), maxBusy)
		y.busyFor.Store(d)
		y.busyUntil.Store(now + d)
		return false
	}
	if d := y.busyFor.Load(); d > 0 {
		y.busyFor.Store(d - d/8) // the cores are calming down
	}
	return true
}

// BusyFor makes y's waits skip yielding for d, as after a slow yield (for
// tests).
func (y *Yielder) BusyFor(d time.Duration) { y.busyUntil.Store(clock() + int64(d)) }

// Busy reports whether a recent yield found the cores oversubscribed (Yield
// then skips yielding).
func (y *Yielder) Busy() bool { return clock() < y.busyUntil.Load() }

// clockStart is the origin of monotonic.
var clockStart = time.Now()

// monotonic returns nanoseconds on the monotonic clock.
func monotonic() int64 { return int64(time.Since(clockStart)) }

// Monotonic returns nanoseconds on the monotonic clock, from an origin of
// this process's.
func Monotonic() int64 { return monotonic() }
