package scb

import (
	"context"
	"sync/atomic"
	"time"
)

// Blocking calls (PushWait, PopWait and their kin) wait in three stages:
// they poll the cursor they wait on for a while, then poll it while yielding
// the processor, and then sleep until the other side wakes them. The
// sleeping stage is platform code: a futex on the shared header on Linux
// (wake_linux.go), its equivalents on FreeBSD and macOS, named events on
// Windows (wake_windows.go), and a bounded sleeping back-off where there is
// none (wake_other.go).
//
// The futex protocol: a waiter adds itself to the direction's waiter count,
// reads the direction's sequence word, checks the cursor once more, and
// sleeps only if the sequence word still has the value it read. The other
// side publishes its cursor and then, only if the waiter count is not zero,
// bumps the sequence word and wakes its sleepers. Both steps are sequentially
// consistent atomics, so either the waiter sees the new cursor or the
// publisher sees the waiter: no wake-up is lost, and when nobody waits a
// publish costs one extra load and no system call.

// direction names what a waiter waits for.
type direction uint8

const (
	dataWait direction = iota // a reader, for items to arrive
	roomWait                  // a Queue writer, for items to be read
)

// words returns the sequence word, the waiter count and the cursor whose
// movement ends the wait.
func (g *ring) words(d direction) (seq, waiters *uint32, cursor *uint64) {
	if d == dataWait {
		return g.dataSeq, g.dataWaiters, g.wcur
	}
	return g.roomSeq, g.roomWaiters, g.rcur
}

const (
	// defaultSpin is how many times a waiter polls the cursor before it
	// yields: about a microsecond or two, which covers the other side
	// being in the middle of an operation.
	defaultSpin = 1000
	// yieldTries is how many times it then polls after yielding the
	// processor before it sleeps.
	yieldTries = 20
	// slowYield is how long a yield takes when another thread runs in
	// the meantime. A yield returns at once while a core is free; on an
	// oversubscribed machine (more runnable threads than cores) it hands
	// the core to another thread for up to a scheduler time slice, which
	// is milliseconds, while a sleeper is woken within microseconds of
	// its item. So after a slow yield the handle's waits skip yielding
	// and go to sleep at once, for minBusy; then one wait tries yielding
	// again, and while yields stay slow the period doubles up to maxBusy,
	// so that probing costs at most one time slice in maxBusy.
	slowYield = int64(200 * time.Microsecond)
	minBusy   = int64(100 * time.Millisecond)
	maxBusy   = int64(time.Second)
)

// spinCount turns Options.Spin into a number of polls.
func spinCount(spin int) int {
	switch {
	case spin < 0:
		return 0
	case spin == 0:
		return defaultSpin
	}
	return spin
}

// waitState is one blocking call's progress through its waits.
type waitState struct {
	spin    int           // Options.Spin
	checked time.Time     // when the call last checked that its buffer is still there
	sleeps  int           // sleeps so far (for the back-off without futex)
	stop    func() bool   // stops the context.AfterFunc that wakes a canceled sleeper
	fired   chan struct{} // closed when that function has finished
}

// removedEvery is how often a waiting call checks that its buffer file
// is still the one its name leads to (two system calls): with a sleep of
// at most maxSleep in between, a removal is noticed within about
// removedEvery + maxSleep.
const removedEvery = 100 * time.Millisecond

// checkDue reports whether the call should check for removal now: once
// removedEvery has passed since it started waiting or last checked.
func (ws *waitState) checkDue() bool {
	now := time.Now()
	if ws.checked.IsZero() {
		ws.checked = now
		return false
	}
	if now.Sub(ws.checked) < removedEvery {
		return false
	}
	ws.checked = now
	return true
}

// done ends the call's waiting. If the context's wake-up function has
// started, done waits for it to finish: it touches the mapping, which may
// be unmapped once the call returns.
func (ws *waitState) done() {
	if ws.stop != nil && !ws.stop() {
		<-ws.fired
	}
}

// sleep registers the caller as a sleeper on seq (waiters), and sleeps
// until seq changes or limit passes, unless ready already reports true.
// The registration is not undone: a waker claims every registration at
// once (wakeWord), and a sleeper that wakes by itself registers again
// before it next sleeps. A registration left behind (a timeout, or a
// sleeper killed) costs the next publisher one wake-up, once. Without
// futexes it sleeps one step of a back-off instead.
func sleep(ws *waitState, seq, waiters *uint32, ready func() bool, limit time.Duration) {
	ws.sleeps++
	if !futexes {
		if !ready() {
			time.Sleep(min(minSleep<<min(ws.sleeps-1, 10), maxSleep, limit))
		}
		return
	}
	atomic.AddUint32(waiters, 1)
	v := atomic.LoadUint32(seq)
	if !ready() {
		waitOn(seq, v, limit)
	}
}

// wakeWord wakes the sleepers registered on seq, if any: the caller that
// swaps the registrations to zero makes the one system call, and every
// later caller finds none, until a sleeper registers again. Callers store
// the cursor the sleepers wait on first; both that store and the swap are
// sequentially consistent, so either the sleeper's check sees the cursor
// or the waker sees its registration (and then bumps seq after the
// sleeper read it, so its futex wait cannot miss the wake).
func wakeWord(seq, waiters *uint32) {
	if atomic.LoadUint32(waiters) == 0 || atomic.SwapUint32(waiters, 0) == 0 {
		return
	}
	wakeSeq(seq)
}

// wakeSeq bumps seq and wakes whoever sleeps on it, registered or not.
func wakeSeq(seq *uint32) {
	wakeOn(seq, atomic.AddUint32(seq, 1)-1)
}

// sleepLimit and roomLimit are maxSleep and roomDelay, variables so that
// the tests of the wake-up protocol can make a lost wake-up a hang.
var (
	sleepLimit = maxSleep
	roomLimit  = roomDelay
)

// minSleep is the first step of the back-off where waits poll.
const minSleep = 20 * time.Microsecond

// roomDelay bounds a writer's sleep while it waits for room: readers wake
// it only once roomShare of the ring is free (one wake-up per batch of
// room, not per item read), so a reader that stops reading before then
// leaves it to find the smaller room itself.
const roomDelay = 5 * time.Millisecond

// roomShare returns how many slots must be free before a reader wakes a
// writer waiting for room: a quarter of the ring.
func (g *ring) roomShare() uint64 { return max(1, g.length/4) }

// await waits until the cursor of direction d has probably moved from seen,
// and returns nil so the caller retries; or returns ctx's error, or
// ErrClosed once closing is set. It polls the cursor (spin), then polls
// while yielding the processor to any other thread (another process
// included), then sleeps until woken. It adapts: after waits that ended
// asleep, it spins and yields less (a peer that makes us sleep now will
// probably do so again), and a wait that ends while spinning restores it;
// when a yield shows that the cores are oversubscribed, it stops yielding
// for a while (slowYield).
//
// A done ctx wins only over a cursor that has not moved: await reports
// ctx's error only after it saw the cursor still at seen once ctx was
// done. So an item (or room) that came while the caller was about to
// give up is taken, not left behind with a context error; a program
// whose peer pushes its last item and exits, which cancels the wait,
// gets that item.
func (h *handle) await(ctx context.Context, ws *waitState, d direction, seen uint64) error {
	if awaitHook != nil {
		awaitHook()
	}
	seq, waiters, cursor := h.words(d)
	if err := ctx.Err(); err != nil {
		return unlessMoved(cursor, seen, err)
	}
	if h.closing.Load() {
		return ErrClosed
	}
	if ws.spin >= 0 {
		shift := min(h.slept.Load(), 4)
		for range spinCount(ws.spin) >> shift {
			if atomic.LoadUint64(cursor) != seen {
				h.slept.Store(0)
				return nil
			}
		}
		for range yieldTries >> shift {
			yielded := h.yield()
			if atomic.LoadUint64(cursor) != seen {
				h.slept.Store(0)
				return nil
			}
			if !yielded {
				break
			}
		}
	}
	if ws.stop == nil && ctx.Done() != nil {
		fired := make(chan struct{})
		ws.fired = fired
		ws.stop = context.AfterFunc(ctx, func() {
			wakeSeq(seq)
			close(fired)
		})
	}
	limit := sleepLimit
	if d == roomWait {
		limit = min(limit, roomLimit)
	}
	sleep(ws, seq, waiters, func() bool {
		return atomic.LoadUint64(cursor) != seen || h.closing.Load() || ctx.Err() != nil ||
			d == dataWait && atomic.LoadUint64(h.end) != 0 // the stream ended: retry, to return io.EOF
	}, limit)
	if n := h.slept.Load(); n < 8 {
		h.slept.Store(n + 1) // (goroutines of a Flock handle may race here: any count will do)
	}
	if err := ctx.Err(); err != nil {
		return unlessMoved(cursor, seen, err)
	}
	if h.closing.Load() {
		return ErrClosed
	}
	return nil
}

// unlessMoved returns err, the error of a done context, unless the cursor
// has moved from seen since: then nil, so that the caller tries once more.
func unlessMoved(cursor *uint64, seen uint64, err error) error {
	if atomic.LoadUint64(cursor) != seen {
		return nil
	}
	return err
}

// awaitHook, when set by a test, runs as each wait begins: between an
// attempt that found nothing to do and the wait that follows it.
var awaitHook func()

// wakeNow wakes the sleepers of direction d, if any: readers as soon as
// items arrive, writers once a share of the ring is free. When nobody
// sleeps it costs one load and no system call.
func (g *ring) wakeNow(d direction) {
	seq, waiters, _ := g.words(d)
	if atomic.LoadUint32(waiters) == 0 {
		return
	}
	if d == roomWait && g.length-uint64(g.unread()) < g.roomShare() {
		return
	}
	wakeWord(seq, waiters)
}

// wakeAll wakes every sleeper on the buffer, in every process; Close uses
// it so that its own handle's waiters notice. The others go back to sleep.
func (g *ring) wakeAll() {
	wakeSeq(g.dataSeq)
	wakeSeq(g.roomSeq)
}

// yield gives the processor to any other runnable thread (of any process,
// where osYield is sched_yield; to other goroutines elsewhere), unless a
// recent yield found the cores oversubscribed (slowYield). It
// reports false when the caller should stop yielding and sleep: the cores
// are oversubscribed, now or recently. (Goroutines of a Flock handle may
// race on busyUntil and busyFor: any of their values will do.)
func (h *handle) yield() bool {
	now := monotonic()
	if now < h.busyUntil.Load() {
		return false
	}
	yieldNow()
	if monotonic()-now > slowYield {
		d := min(max(2*h.busyFor.Load(), minBusy), maxBusy)
		h.busyFor.Store(d)
		h.busyUntil.Store(now + d)
		return false
	}
	if d := h.busyFor.Load(); d > 0 {
		h.busyFor.Store(d - d/8) // the cores are calming down
	}
	return true
}

// yieldNow is osYield, a variable so that tests can make yields slow.
var yieldNow = osYield

// clockStart is the origin of monotonic.
var clockStart = time.Now()

// monotonic returns nanoseconds on the monotonic clock.
func monotonic() int64 { return int64(time.Since(clockStart)) }
