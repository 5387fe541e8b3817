package scb

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sharedcbuff/scb/internal/platform"
	"github.com/sharedcbuff/scb/internal/wait"
)

// What package scb_test needs of the inside: the test hooks (hooks.go), set
// with a function that restores them, and a few facts. The file format's
// offsets and sizes are internal/layout's, which the tests import.

// MaxNameLen is the longest buffer name, in bytes.
const MaxNameLen = maxNameLen

// Futexes reports whether blocking calls sleep until woken on this
// platform (else they poll, and there is no wake-up to lose).
const Futexes = wait.Futexes

// LockWords reports whether Flock takes lock words on this platform (else
// it locks the buffer file for every operation).
const LockWords = platform.HolderLocks

// SetSleepLimits makes every sleep of a blocking call waiting for items or
// room last until it is woken, up to d: with d long, a lost wake-up is a
// hang instead of a delay. A batch reader's nap (see SetShareNap) is such
// a sleep too. It returns a function that restores the limits.
func SetSleepLimits(d time.Duration) (restore func()) {
	s, r, n := sleepLimit, roomLimit, shareLimit
	sleepLimit, roomLimit, shareLimit = d, d, d
	return func() { sleepLimit, roomLimit, shareLimit = s, r, n }
}

// SetShareNap makes the first sleep of a Queue reader's batch call, which
// a writer of batches ends only once a quarter of the ring is ready, last
// at most d instead of a millisecond. It returns a function that restores
// the default.
func SetShareNap(d time.Duration) (restore func()) {
	n := shareLimit
	shareLimit = d
	return func() { shareLimit = n }
}

// SetSweepEvery makes Flock readers ask holders whether they live at most
// every d (when they do not wake from a sleep). It returns a function that
// restores the default.
func SetSweepEvery(d time.Duration) (restore func()) {
	s := sweepLimit
	sweepLimit = d
	return func() { sweepLimit = s }
}

// Adapt is the spin adaptation of blocking calls (adapt).
var Adapt = adapt

// SetAwaitHook makes every blocking call of this process run f each time
// it begins to wait, after an attempt found no item (or no room), until
// restore is called.
func SetAwaitHook(f func()) (restore func()) {
	awaitHook = f
	return func() { awaitHook = nil }
}

// SetClimbHook makes every wait of a blocking call of this process call
// f with its wait ladder instead of climbing it, and end the climb in the
// stage f returns, until restore is called.
func SetClimbHook(f func(l wait.Ladder) wait.Stage) (restore func()) {
	climbHook = f
	return func() { climbHook = nil }
}

// SetInlineHook makes every Atomic PopWait and PushWait of this process
// that finds no item (or no room) at its first try call f before it polls
// inline, until restore is called.
func SetInlineHook(f func()) (restore func()) {
	inlineHook = f
	return func() { inlineHook = nil }
}

// SetOneCore makes this process's waits behave as on a process that may
// run on one core only (oneCore), or not, until restore is called.
func SetOneCore(one bool) (restore func()) {
	was := oneCore
	oneCore = one
	return func() { oneCore = was }
}

// DefaultSpin is how many times a blocking call's wait polls by default.
const DefaultSpin = defaultSpin

// WordLadder is a Flock locker's wait on a lock word (wordLadder).
var WordLadder = wordLadder

// SetBusy makes r find the cores oversubscribed, as a slow yield would,
// for d.
func SetBusy(r *Reader, d time.Duration) { r.y.BusyFor(d) }

// ReaderSlept returns the count of recent waits of r that ended asleep.
func ReaderSlept(r *Reader) int32 { return r.slept.Load() }

// The pace spin (wait.go): how long it polls, how many quick waits in a
// row arm it at first and at most, and whether it runs here at all.
const (
	KeepPace   = keepPace
	PaceArm    = paceArm
	PaceArmMax = paceArmMax
)

var Paceable = paceable

// ReaderPaceKept and WriterPaceKept return how many waits in a row of
// the handle's blocking calls ended within the plain spin.
func ReaderPaceKept(r *Reader) int32 { return r.kept.Load() }
func WriterPaceKept(w *Writer) int32 { return w.kept.Load() }

// SetLockStep makes every operation of this process call f at each step
// where a side's holder killed must leave the buffer usable (hooks.go's
// lockStep), until restore is called.
func SetLockStep(f func(step string)) (restore func()) {
	lockStep = f
	return func() { lockStep = nil }
}

// SetTakeStep makes every take of this process call f at each step of
// the take protocol where a reader killed must lose nothing (hooks.go's
// takeStep), until restore is called.
func SetTakeStep(f func(step string)) (restore func()) {
	takeStep = f
	return func() { takeStep = nil }
}

// Iterate is the loop every iterator runs (iter.go), for the table test of
// how a loop ends: end of stream, overruns, other errors, a body that breaks.
func Iterate(read func() error, emit func(err error) bool) { iterate(read, emit) }

// Apart is apart, for TestApart.
var Apart = apart

// Guard is a shared handle's guard (gate.go), for its own tests.
type Guard struct{ g *guard }

// NewGuard returns an open guard with no calls.
func NewGuard() Guard { return Guard{newGuard()} }

func (g Guard) In(ctx context.Context) error    { return g.g.in(ctx) }
func (g Guard) Out()                            { g.g.out(0, 0) }
func (g Guard) OutLending()                     { g.g.out(gLent, 0) }
func (g Guard) OutReturning()                   { g.g.out(0, gLent) }
func (g Guard) Lent() bool                      { return g.g.lent() }
func (g Guard) Admit() error                    { return g.g.admit() }
func (g Guard) Dismiss()                        { g.g.dismiss() }
func (g Guard) Enter(ctx context.Context) error { return g.g.enter(ctx) }
func (g Guard) Exit()                           { g.g.exit() }

// Close is what Close does with a handle's guard: no more calls, then
// wait for those admitted.
func (g Guard) Close() {
	g.g.closing.Lock()
	defer g.g.closing.Unlock()
	g.g.close()
	g.g.drain()
}

// Idle reports whether the guard's word is back to no calls, nobody at
// the gate and nothing lent, closed or not.
func (g Guard) Idle() bool { return g.g.w.Load()&^gClosed == 0 }

// StatBetween counts what Stat counts of r's Queue buffer (takenOf), with
// the cursors loaded before between runs and the walk after it: what Stat
// sees when another process acts between its loads and its walk.
func StatBetween(r *Reader, between func()) (taken, returned int, leases map[int]int) {
	ring := &r.q.ring
	tail, head := atomic.LoadUint64(ring.RCur), atomic.LoadUint64(ring.WCur)
	between()
	return takenOf(ring, tail, head)
}

// SharedInline reports whether w's Push and r's Pop take their inline
// paths for handles that share their side (Writer.pushShared,
// Reader.popShared), Pop's through the read cursor's one-step read
// (queueReader.popFront); Take and a lease's end take theirs wherever Pop
// does.
func SharedInline(w *Writer, r *Reader) (push, pop bool) { return w.fl != nil, r.pop8 }

// SetPopFrontHook makes every Flock Pop of this process that reads its
// item at the read cursor in one step (queueReader.popFront) call f, until
// restore is called.
func SetPopFrontHook(f func()) (restore func()) {
	popFrontHook = f
	return func() { popFrontHook = nil }
}
