package scb

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// Blocking calls (PushWait, PopWait and their kin) wait in three stages:
// they poll the cursor they wait on for a while, then poll it while yielding
// the processor, and then sleep until the other side wakes them. The sleeping stage is
// platform code: a futex on the shared header on Linux (wake_linux.go), a
// bounded sleeping back-off elsewhere (wake_other.go).
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
	// yieldTries is how many times it then polls after runtime.Gosched
	// before it sleeps.
	yieldTries = 20
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

// await waits until the cursor of direction d has probably moved from seen,
// and returns nil so the caller retries; or returns ctx's error, or
// ErrClosed once closing is set. It polls the cursor (spin), then polls
// while yielding the processor, then sleeps until woken.
func (g *ring) await(ctx context.Context, ws *waitState, d direction, seen uint64, closing *atomic.Bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if closing.Load() {
		return ErrClosed
	}
	seq, waiters, cursor := g.words(d)
	if ws.spin >= 0 {
		for range spinCount(ws.spin) {
			if atomic.LoadUint64(cursor) != seen {
				return nil
			}
		}
		for range yieldTries {
			runtime.Gosched()
			if atomic.LoadUint64(cursor) != seen {
				return nil
			}
		}
	}
	if ws.stop == nil && ctx.Done() != nil {
		fired := make(chan struct{})
		ws.fired = fired
		ws.stop = context.AfterFunc(ctx, func() {
			wake(seq)
			close(fired)
		})
	}
	sleep(ws, seq, waiters, func() bool {
		return atomic.LoadUint64(cursor) != seen || closing.Load() || ctx.Err() != nil
	}, maxSleep)
	if err := ctx.Err(); err != nil {
		return err
	}
	if closing.Load() {
		return ErrClosed
	}
	return nil
}

// wakeNow wakes the sleepers of direction d, if any. When nobody sleeps
// it costs one load and no system call.
func (g *ring) wakeNow(d direction) {
	seq, waiters, _ := g.words(d)
	if atomic.LoadUint32(waiters) != 0 {
		wake(seq)
	}
}

// wakeAll wakes every sleeper on the buffer, in every process; Close uses
// it so that its own handle's waiters notice. The others go back to sleep.
func (g *ring) wakeAll() {
	wake(g.dataSeq)
	wake(g.roomSeq)
}
