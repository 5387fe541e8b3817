package scb

import (
	"cmp"
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/wait"
)

// Blocking calls (PushWait, PopWait and their kin) wait in three stages:
// they poll the cursor they wait on for a while, then poll it while yielding
// the processor, and then sleep until the other side wakes them (package
// wait has the ladder, the sleep on a wake-up word, and its protocol). This
// file is a handle's side of it (waiter): which word and cursor a role
// waits on, how long it spins, when a done context wins, and when the
// other side is woken.

// direction names what a waiter waits for.
type direction uint8

const (
	dataWait direction = iota // a reader, for items to arrive
	roomWait                  // a Queue writer, for items to be read
)

// other returns the direction of the sleepers that a role waiting in d
// wakes when it moves its cursor: a writer's items end readers' waits, a
// reader's freed slots end writers'.
func (d direction) other() direction { return 1 - d }

// mark is what an attempt that could not proceed saw of the other side:
// the cursor whose movement ends the wait, and, for a Queue reader, the
// returns counter (an item given back, or taken back from a holder that is
// gone, ends it too). share marks a read of a batch, content to wait for
// a share of the ring rather than the first item (await).
type mark struct {
	cursor  uint64
	returns uint32
	share   bool
}

// waiter is a handle's waiting: what its role's blocking calls wait for,
// on which word of the buffer, how they adapt, and whom the role wakes.
type waiter struct {
	lay       *layout.Ring  // the handle's
	sleepers  [2]*uint32    // by direction: the words counting registered sleepers
	returns   *uint32       // a Queue reader's returns counter, which ends its waits too (nil for others)
	waits     direction     // what the role's blocking calls wait for
	spin      int           // Options.Spin
	closing   atomic.Bool   // set by Close, so that waits end with ErrClosed
	slept     atomic.Int32  // recent waits that ended asleep (await spins less after them)
	kept      atomic.Int32  // waits in a row that ended within the plain spin: the peer keeps pace (paceFor)
	arm       atomic.Int32  // how many such waits arm the pace spin (0: paceArm); doubled by each armed wait that slept anyway
	pacing    atomic.Bool   // one of the handle's goroutines is in the pace spin (the others do not join it)
	sleeps    atomic.Uint32 // waits that went to sleep: a Flock Queue reader asks holders after each (queueReader.sweep)
	batchWake bool          // Options.BatchWake, where timed waits are fine
	napless   atomic.Bool   // a Queue reader's batch calls do not nap: its writer pauses longer than a nap (await)
	y         wait.Yielder  // the yield back-off of the handle's waits, its lock waits included
	hold      holder        // the handle's holder line, which counts its calls asleep (Stat)
	view      *readState    // a reader's: its view of the end of stream (nil for a writer)
}

// word returns the wake-up word of direction d and the cursor whose
// movement ends a wait in it.
func (w *waiter) word(d direction) (wait.Word, *uint64) {
	if d == dataWait {
		return wait.Word{Seq: w.lay.DataSeq, Waiters: w.lay.DataWaiters}, w.lay.WCur
	}
	return wait.Word{Seq: w.lay.RoomSeq, Waiters: w.lay.RoomWaiters}, w.lay.RCur
}

const (
	// defaultSpin is how many times a waiter polls the cursor before it
	// yields: about a microsecond or two, which covers the other side
	// being in the middle of an operation.
	defaultSpin = 1000
	// yieldTries is how many times it then polls after yielding the
	// processor before it sleeps.
	yieldTries = 20
	// spinCheck is how many polls a spin makes between two looks at
	// what else ends a wait (await).
	spinCheck = 1024
)

// spinCount turns Options.Spin into a number of polls: by default
// defaultSpin, or none where the process may run on one core only
// (oneCore).
func spinCount(spin int) int {
	switch {
	case spin < 0:
		return 0
	case spin == 0:
		if oneCore {
			return 0
		}
		return defaultSpin
	}
	return spin
}

// oneCore reports that this process may run on one core only (its CPU
// affinity: a container pinned to one CPU with a cpuset, a program started
// with taskset; not a CPU quota, which leaves NumCPU as it is). A peer
// that shares that core (started the same way) cannot move while the
// process polls, so a default wait goes straight to its yields, which
// hand the core to the peer, and a Flock locker does the same on a lock
// word (wordLadder). There a spin would cost the core a whole spin each
// time a side runs out of items or room: half the time of a stream of
// batches, as measured with taskset on a 2-core machine. (A peer pinned
// to another core could have used the spin: Options.Spin sets it.)
var oneCore = runtime.NumCPU() == 1

// waitState is one blocking call's progress through its waits.
type waitState struct {
	wait.State
	spin    int           // Options.Spin
	checked time.Time     // when the call last checked that its buffer is still there
	gone    time.Time     // when the call first found every peer gone (zero while one is attached)
	stop    func() bool   // stops the context.AfterFunc that wakes a canceled sleeper
	fired   chan struct{} // closed when that function has finished
	napped  bool          // the call had its first sleep, which a BatchWake batch read may nap (await)
	gated   bool          // a shared handle's call is through its gate (handle.run)
}

// removedEvery is how often a waiting call checks that its buffer file
// is still the one its name leads to (two system calls): with a sleep of
// at most wait.MaxSleep in between, a removal is noticed within about
// removedEvery + wait.MaxSleep.
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

// roomDelay bounds a writer's sleep while it waits for room: readers wake
// it only once a share of the ring is free (one wake-up per batch of
// room, not per item read), so a reader that stops reading before then
// leaves it to find the smaller room itself.
const roomDelay = 5 * time.Millisecond

// share returns the share of the ring that wakes a sleeper registered for
// it: a quarter. Readers wake a writer waiting for room once that many
// slots are free; a writer of batches wakes a reader's batch nap once that
// many items are ready to take (wake).
func (w *waiter) share() uint64 { return max(1, w.lay.Length/4) }

// shareNap bounds the first sleep of a blocking batch read (PopIntoWait,
// PopManyWait, PopBytesIntoWait) of a Queue reader opened with BatchWake.
// It sleeps registered for a share (wait.Share): a writer of batches leaves
// it asleep until a quarter of the ring is ready to take (wake), so a
// reader of small batches is woken once per share, not once per batch.
// When the writer pauses before that, the nap ends and the call takes what
// is there: the items are at most shareNap late (plus the system's timer
// slack). A writer of single items (Push and its kin, a batch of one)
// wakes every sleeper at once; later sleeps of the same call register for
// every item. A reader whose nap ends with nothing to read stops napping
// (its writer pauses longer than a nap, and the nap would only add a
// wake-up to every call) until the first sleep of a batch call is woken
// within a nap's length again.
const shareNap = time.Millisecond

// await waits until what the role waits on (w.waits) has probably moved
// from seen, and returns nil so the caller retries; or returns ctx's
// error, or ErrClosed once closing is set. It climbs the wait ladder
// (polls, then polls while yielding the processor to any other thread,
// another process included), then sleeps until woken. It adapts: after
// waits that ended asleep, it spins and yields less (a peer that makes us
// sleep now will probably do so again), and a wait that ends while
// spinning restores it; when a yield shows that the cores are
// oversubscribed, it stops yielding for a while (wait.Yielder).
//
// A done ctx wins only over a cursor that has not moved: await reports
// ctx's error only after it saw the cursor still at seen once ctx was
// done. So an item (or room) that came while the caller was about to
// give up is taken, not left behind with a context error; a program
// whose peer pushes its last item and exits, which cancels the wait,
// gets that item.
func (w *waiter) await(ctx context.Context, ws *waitState, seen mark) error {
	if awaitHook != nil {
		awaitHook()
	}
	word, cursor := w.word(w.waits)
	if err := ctx.Err(); err != nil {
		return w.unlessMoved(cursor, seen, err)
	}
	if w.closing.Load() {
		return ErrClosed
	}
	moved := func() bool { return w.moved(cursor, seen) }
	if ws.spin >= 0 {
		// A long spin (Options.Spin) still ends, every spinCheck polls,
		// for Close, ctx, the end of the stream, and run's periodic
		// checks (a removed buffer, peers gone): the retry finds out.
		var long longSpin
		spun := func() bool {
			if moved() {
				return true
			}
			if !long.due() {
				return false
			}
			select {
			case <-ctx.Done():
				return true
			default:
			}
			return w.closing.Load() || w.view != nil && w.view.end() != 0 || long.spent()
		}
		shift := min(w.slept.Load(), 4)
		l := wait.Ladder{Spins: spinCount(ws.spin) >> shift, Yields: yieldTries >> shift}
		if l.For = w.paceFor(ws.spin); l.For > 0 && !w.pacing.CompareAndSwap(false, true) {
			l.For = 0 // another goroutine of the handle spins already
		}
		var st wait.Stage
		if climbHook != nil {
			st = climbHook(l)
		} else {
			st = l.Climb(&w.y, spun)
		}
		if l.For > 0 {
			w.pacing.Store(false)
		}
		if st == wait.Missed || moved() {
			// (Not a climb that ended for ctx, Close or the end of the
			// stream: that says nothing of the peer's pace.)
			w.paced(st, l.For > 0)
		}
		if st != wait.Missed {
			w.slept.Store(0)
			return nil
		}
	}
	if ws.stop == nil && ctx.Done() != nil {
		fired := make(chan struct{})
		ws.fired = fired
		ws.stop = context.AfterFunc(ctx, func() {
			word.WakeAll()
			close(fired)
		})
	}
	limit := cmp.Or(sleepLimit, wait.MaxSleep)
	if w.waits == roomWait {
		limit = min(limit, cmp.Or(roomLimit, roomDelay))
	}
	ready := func() bool {
		return moved() || w.closing.Load() || ctx.Err() != nil ||
			w.view != nil && w.view.end() != 0 // the stream ended: retry, to return io.EOF
	}
	// The first sleep of a BatchWake Queue reader's batch call naps.
	first := seen.share && w.batchWake && w.returns != nil && !ws.napped
	ws.napped = ws.napped || first
	nap := first && !w.napless.Load()
	start := wait.Monotonic()
	w.hold.asleep(1)
	if nap {
		// A writer of batches wakes it once a share of the ring is ready
		// (wake), or the nap ends first.
		word.SleepForShare(&ws.State, ready, min(limit, cmp.Or(shareLimit, shareNap)))
	} else {
		word.Sleep(&ws.State, ready, limit)
	}
	w.hold.asleep(-1)
	w.sleeps.Add(1)
	slept := time.Duration(wait.Monotonic() - start)
	// (Goroutines of a shared handle may race here: any count will do.)
	w.slept.Store(adapt(w.slept.Load(), slept, w.y.Busy()))
	switch {
	case nap && !moved():
		// The writer paused longer than the nap: napping only adds a
		// wake-up per call, until a first sleep shows it writing faster.
		w.napless.Store(true)
	case first && !nap && slept < cmp.Or(shareLimit, shareNap):
		w.napless.Store(false)
	}
	if err := ctx.Err(); err != nil {
		return w.unlessMoved(cursor, seen, err)
	}
	if w.closing.Load() {
		return ErrClosed
	}
	return nil
}

// The pace spin. Where a sleep costs the peer a wake-up system call, and
// costs the sleeper a wake-up latency that runs to tens of microseconds in
// a VM, a peer that keeps pace (a writer of batches and a reader as quick)
// stalls both sides at each of its hiccups (a preemption, a page fault, a
// garbage collection's stop): a ring of 1,024 8-byte items holds a few
// microseconds of work. So once paceArm waits in a row ended within the
// plain spin (kept), the next waits poll on for up to keepPace before they
// yield and sleep. The rules keep it to peers whose quick waits outnumber
// both the hiccups it catches and the pauses it misses:
//   - a wait that needs longer than keepPace (a pause the spin does not
//     ride out) disarms it, and the next arming takes twice as many quick
//     waits in a row (arm, up to paceArmMax): bursts followed by long
//     pauses pay for the spin once per burst at first, then not at all;
//   - a wait the spin caught halves kept (a trickle whose pauses are
//     shorter than keepPace, following a burst, is soon slept on again)
//     and halves arm, down to paceArm, so that a peer whose bursts hold a
//     caught hiccup for each missed pause pays at most one keepPace per
//     burst, and only while the spin saves as many sleeps as it spends;
//   - a trickle (pauses of tens of microseconds between items) never arms
//     it: its waits need more than the plain spin.
//
// Both counts stop at paceArmMax, so a peer whose bursts are longer than
// that pays one keepPace per burst at most.
const (
	keepPace   = 30 * time.Microsecond
	paceArm    = 64
	paceArmMax = 1 << 16
)

// paceable reports whether the pace spin may run here: the clock must be
// fine (not Windows' 15.6 ms tick, which would stretch 30 µs into
// milliseconds), and the peer must have a core of its own to keep pace on
// (GOMAXPROCS follows a container's CPU quota; NumCPU does not).
var paceable = wait.FineClock && min(runtime.NumCPU(), runtime.GOMAXPROCS(0)) > 1

// paceFor returns how long a wait polls past its plain spin
// (wait.Ladder.For): keepPace when the pace spin is armed, none with an
// explicit Options.Spin (spin), or while the cores are oversubscribed (the
// peer may need this core to move at all).
func (w *waiter) paceFor(spin int) time.Duration {
	if !paceable || spin != 0 || w.kept.Load() < max(w.arm.Load(), paceArm) || w.y.Busy() {
		return 0
	}
	return keepPace
}

// paced records where a wait's climb ended (st), with the pace spin armed
// or not. (Goroutines of a shared handle may race here: any count will
// do.)
func (w *waiter) paced(st wait.Stage, armed bool) {
	switch st {
	case wait.Spun:
		w.keptPace()
	case wait.Timed:
		// The spin rode out a hiccup.
		w.kept.Store(w.kept.Load() / 2)
		w.arm.Store(max(w.arm.Load()/2, paceArm))
	default:
		// The peer needed longer than the plain spin.
		w.kept.Store(0)
		if armed {
			w.arm.Store(min(2*max(w.arm.Load(), paceArm), paceArmMax))
		}
	}
}

// keptPace counts a wait that ended within the plain spin: await's, or
// one of PopWait's and PushWait's inline polls. Such a wait did not sleep,
// so the spin is whole again (slept).
func (w *waiter) keptPace() {
	if k := w.kept.Load(); k < paceArmMax {
		w.kept.Store(k + 1)
	}
	if w.slept.Load() != 0 {
		w.slept.Store(0)
	}
}

// quickWake is how soon a sleep must end for the peer to count as busy:
// a peer that ends our sleep within it is working at full speed, and a
// full spin would probably have caught its next move without the sleep
// and the wake-up, which cost microseconds each (tens in a VM).
const quickWake = 200 * time.Microsecond

// adapt returns the count of recent waits that ended asleep (which shrinks
// the spin of the next waits: a quarter after 2, a sixteenth from 4) after
// one more that slept for d. A quick wake-up (quickWake) restores the full
// spin: without it a waiter whose spin once shrank below the peer's pace
// would sleep on every wait from then on, and its peer would make a
// wake-up system call on every operation, the waiter never spinning long
// enough to find out that it could. Not while the cores are oversubscribed
// (busy): there the peer may need this core to move at all, and spinning
// only delays it.
func adapt(slept int32, d time.Duration, busy bool) int32 {
	if d < quickWake && !busy {
		return 0
	}
	return min(slept+1, 8)
}

// moved reports whether cursor, or the returns counter, moved from seen.
func (w *waiter) moved(cursor *uint64, seen mark) bool {
	return atomic.LoadUint64(cursor) != seen.cursor || w.returns != nil && atomic.LoadUint32(w.returns) != seen.returns
}

// longSpin is what a spin past spinCheck polls keeps (await, waitAny):
// its polls, when its checks began, and whether it yields to other
// goroutines (GOMAXPROCS 1), the last two set at the first check.
type longSpin struct {
	polls int
	began int64
	yield bool
}

// due counts a poll and reports whether the spin's checks are due: every
// spinCheck polls.
func (l *longSpin) due() bool {
	l.polls++
	return l.polls%spinCheck == 0
}

// spent is a long spin's own check: it yields where goroutines share one
// thread, and reports whether removedEvery has passed since the checks
// began (the caller's periodic checks are due; the count starts again).
func (l *longSpin) spent() bool {
	now := wait.Monotonic()
	if l.began == 0 {
		l.began, l.yield = now, runtime.GOMAXPROCS(0) == 1
	}
	if l.yield {
		runtime.Gosched()
	}
	if now-l.began > int64(removedEvery) {
		l.began = 0
		return true
	}
	return false
}

// unlessMoved returns err, the error of a done context, unless what the
// call waits on has moved from seen since: then nil, so that the caller
// tries once more.
func (w *waiter) unlessMoved(cursor *uint64, seen mark, err error) error {
	if w.moved(cursor, seen) {
		return nil
	}
	return err
}

// wakeNow wakes the sleepers of direction d, if any: readers as soon as
// items arrive, writers once a share of the ring is free (roomWait is
// Queue mode's: Broadcast writers never wait). After a batch of items
// (batch), readers registered only for a share (a BatchWake nap) sleep on
// until a share of the ring is ready to take. When nobody sleeps it costs
// one load and no system call.
func (w *waiter) wakeNow(d direction, batch bool) {
	if regs := atomic.LoadUint32(w.sleepers[d]); regs != 0 {
		w.wake(d, regs, batch)
	}
}

// wake is wakeNow once it found sleepers registered (regs).
func (w *waiter) wake(d direction, regs uint32, batch bool) {
	switch {
	case d == roomWait:
		if w.lay.Length-uint64(w.lay.Unread()) < w.share() {
			return
		}
	case batch && !wait.Eager(regs):
		if w.lay.Ready() < w.share() {
			return
		}
	}
	word, _ := w.word(d)
	word.Wake()
}

// wakeAll wakes every sleeper on the buffer, in every process; Close and
// CloseWrite use it so that their sleepers notice. The others go back to
// sleep.
func (w *waiter) wakeAll() {
	for _, d := range []direction{dataWait, roomWait} {
		word, _ := w.word(d)
		word.WakeAll()
	}
}
