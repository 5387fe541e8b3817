package scb

import (
	"context"
	"sync"
	"sync/atomic"
)

// guard is what a handle whose strategy does not own its side (Flock) needs
// to be used by several goroutines at once: the gate, which lets one of
// them at a time take the side, and life, which the calls hold for reading
// and Close for writing, so that Close waits until every call has
// returned before it unmaps the buffer. A handle whose strategy owns its
// side is used by one goroutine at a time and has no guard.
type guard struct {
	gate   gate
	life   sync.RWMutex
	closed bool // set by Close under life, once the handle gave up its role
}

// admit lets a call of the handle in while it is open: the call holds
// life for reading until dismiss.
func (g *guard) admit() error {
	g.life.RLock()
	if g.closed {
		g.life.RUnlock()
		return ErrClosed
	}
	return nil
}

// dismiss lets a call admitted by admit out.
func (g *guard) dismiss() { g.life.RUnlock() }

// gate is a handle's own lock. It serialises the handle's goroutines,
// which the lock words and the file lock cannot tell apart (both belong to
// the handle), and unlike a sync.Mutex it lets a waiting goroutine give up
// when its context is done or the handle is closed: the goroutine holding
// the gate may itself be waiting for the side's lock, for as long as
// another process holds it.
//
// Entering a free gate is one compare-and-swap, and leaving it one store
// and one load when nobody waits. A goroutine that finds it taken counts
// itself in waiting, tries again, and waits for a token on wake; leave
// frees the gate and then, if anyone waits, leaves a token. Both sides use
// sequentially consistent atomics, so either the waiter's retry finds the
// gate free or leave finds the waiter counted: no wake-up is lost. A token
// nobody needed only costs a waiter a spurious retry.
type gate struct {
	busy    atomic.Int32  // 1 while the gate is taken
	waiting atomic.Int32  // goroutines waiting in enter
	wake    chan struct{} // holds a token when the gate was freed under a waiter
	closed  chan struct{} // closed by shut
	once    sync.Once
}

func newGate() gate {
	return gate{wake: make(chan struct{}, 1), closed: make(chan struct{})}
}

// enter takes the gate, or returns ctx's error or ErrClosed.
func (g *gate) enter(ctx context.Context) error {
	if g.busy.CompareAndSwap(0, 1) {
		return nil
	}
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	done := ctx.Done()
	for {
		if g.busy.CompareAndSwap(0, 1) {
			return nil
		}
		select {
		case <-g.wake:
		case <-done:
			return ctx.Err()
		case <-g.closed:
			return ErrClosed
		}
	}
}

// leave frees the gate and wakes a waiter, if any.
func (g *gate) leave() {
	g.busy.Store(0)
	if g.waiting.Load() != 0 {
		select {
		case g.wake <- struct{}{}:
		default:
		}
	}
}

// shut makes waiting and later enters return ErrClosed.
func (g *gate) shut() { g.once.Do(func() { close(g.closed) }) }
