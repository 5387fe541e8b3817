package scb

import (
	"context"
	"sync"
	"sync/atomic"
)

// guard is what a handle whose strategy does not own its side (Flock) needs
// to be used by several goroutines at once. It admits the handle's calls
// while the handle is open, so that Close waits until every call has
// returned before it unmaps the buffer; and it has a gate, which lets one
// call at a time make an attempt on the side. A handle whose strategy owns
// its side is used by one goroutine at a time and has no guard.
//
// One word holds all of it (the g* constants): the calls admitted, a busy
// bit for the gate, a lent bit (a Claim or Peek is outstanding), the
// goroutines waiting for the gate, and a closed bit. So a call that finds
// the gate free is admitted and through it with one compare-and-swap (in),
// and leaves with one add (out), which also marks or clears a Claim or
// Peek: half the atomic read-modify-writes of a read lock and a separate
// gate, and a third for the calls that also set or cleared a separate
// flag.
//
// Unlike a sync.Mutex the gate lets a waiting goroutine give up when its
// context is done or the handle is closed: the call holding the gate may
// itself be waiting for the side's lock, for as long as another process
// holds it. A goroutine that finds the gate taken counts itself in
// waiting, tries again, and waits for a token on wake; leaving frees the
// gate and, if the word it leaves counts a waiter, leaves a token. Both
// are read-modify-writes of the one word, so either the waiter's retry
// finds the gate free or the leaver finds the waiter counted: no wake-up
// is lost. A token nobody needed only costs a waiter a spurious retry.
type guard struct {
	w       atomic.Uint64
	wake    chan struct{} // holds a token when the gate was freed under a waiter
	shut    chan struct{} // closed by close: waits for the gate end
	drained chan struct{} // holds a token when the last call left a closed guard
	closing sync.Mutex    // serialises Close
}

// The fields of guard.w.
const (
	gCall   uint64 = 1                 // one admitted call
	gCalls  uint64 = 1<<30 - 1         // the calls admitted
	gBusy   uint64 = 1 << 30           // a call is through the gate
	gLent   uint64 = 1 << 31           // a Claim or Peek is outstanding (handle.lend)
	gWait   uint64 = 1 << 32           // one goroutine waiting for the gate
	gWaits  uint64 = (1<<31 - 1) << 32 // the goroutines waiting for the gate
	gClosed uint64 = 1 << 63           // Close began: no more calls are admitted
)

func newGuard() *guard {
	return &guard{wake: make(chan struct{}, 1), shut: make(chan struct{}), drained: make(chan struct{}, 1)}
}

// admit lets a call in while the handle is open.
func (g *guard) admit() error {
	for {
		v := g.w.Load()
		if v&gClosed != 0 {
			return ErrClosed
		}
		if g.w.CompareAndSwap(v, v+gCall) {
			return nil
		}
	}
}

// dismiss lets a call admitted by admit out.
func (g *guard) dismiss() { g.left(g.add(0, gCall)) }

// in admits a call and takes the gate for it, or returns ErrClosed or,
// if it had to wait for the gate, ctx's error.
func (g *guard) in(ctx context.Context) error {
	if v := g.w.Load(); v&(gClosed|gBusy) == 0 && g.w.CompareAndSwap(v, v+gCall+gBusy) {
		return nil
	}
	if err := g.admit(); err != nil {
		return err
	}
	if err := g.enter(ctx); err != nil {
		g.dismiss()
		return err
	}
	return nil
}

// out frees the gate and lets the call out: in undone. It sets the lent
// bit with set, and clears it with clear.
func (g *guard) out(set, clear uint64) { g.left(g.add(set, gCall+gBusy+clear)) }

// lent reports whether a Claim or Peek is outstanding.
func (g *guard) lent() bool { return g.w.Load()&gLent != 0 }

// add adds up and takes away down, and returns the new word.
func (g *guard) add(up, down uint64) uint64 { return g.w.Add(up - down) }

// enter takes the gate for an admitted call, or returns ctx's error or
// ErrClosed.
func (g *guard) enter(ctx context.Context) error {
	if g.try() {
		return nil
	}
	g.w.Add(gWait)
	defer g.add(0, gWait)
	done := ctx.Done()
	for {
		if g.try() {
			return nil
		}
		select {
		case <-g.wake:
		case <-done:
			return ctx.Err()
		case <-g.shut:
			return ErrClosed
		}
	}
}

// try takes the gate if it is free.
func (g *guard) try() bool {
	for v := g.w.Load(); v&gBusy == 0; v = g.w.Load() {
		if g.w.CompareAndSwap(v, v|gBusy) {
			return true
		}
	}
	return false
}

// exit frees the gate; the call stays admitted.
func (g *guard) exit() { g.left(g.add(0, gBusy)) }

// left finishes a change that freed the gate or let a call out, given the
// word it left: it wakes a goroutine waiting for the gate, and Close once
// the last call of a closed guard left.
func (g *guard) left(v uint64) {
	if v&gWaits != 0 && v&gBusy == 0 {
		// Waiters, and the gate free: one of them may take it. (A call
		// that leaves while another holds the gate owes no token: that
		// one leaves one when it frees the gate.)
		select {
		case g.wake <- struct{}{}:
		default:
		}
	}
	if v&(gClosed|gCalls) == gClosed {
		select {
		case g.drained <- struct{}{}:
		default:
		}
	}
}

// close stops admitting calls and ends the waits for the gate; drain then
// waits for the calls admitted before. The caller holds g.closing.
func (g *guard) close() {
	if g.w.Load()&gClosed == 0 {
		g.w.Or(gClosed)
		close(g.shut)
	}
}

// drain waits until no call is admitted any more; close came first.
func (g *guard) drain() {
	if g.w.Load()&gCalls != 0 {
		<-g.drained
	}
}
