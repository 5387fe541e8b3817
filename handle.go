package scb

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/wait"
)

// noWait is the context of the calls that do not wait for items or room
// (Push, Pop and their kin): handle.run makes one attempt. It is never
// done, so such a call still waits for the side's lock, without limit.
var noWait context.Context = noWaitCtx{context.Background()}

// noWaitCtx gives noWait a type of its own, so that no context a caller
// passes can equal it.
type noWaitCtx struct{ context.Context }

// handle is what a Writer and a Reader have in common: the mapping, the
// side's lock (the strategy), the handle's lifetime, and the loop that runs
// one operation, with or without waiting. Writer and Reader embed it and
// add their cursor (cursor.go) and their calls; an operation (ops.go) is
// what one call asks of the cursor.
//
// The verbs, each with one meaning:
//   - admit and dismiss bracket every call against Close;
//   - enter and exit let a shared handle's calls through its gate one at a
//     time, for their attempts; guard.in and guard.out do both at once,
//     for the calls that run and finish make;
//   - take and give bracket one attempt at an operation: the side's lock,
//     the header checked and the cursor reloaded under it, and after it
//     the wake-up the attempt owes the other side;
//   - lend keeps the side past the end of a call for a Claim or Peek, and
//     finish ends that (Commit, Abort, Release);
//   - close gives up the role.
//
// The cursor publishes (a writer's items) or frees (a Queue reader's
// slots); the handle wakes whoever waits for that. The strategy only locks.
type handle struct {
	waiter              // how the role's blocking calls wait, and whom it wakes (wait.go)
	lay     layout.Ring // the buffer's geometry and shared words
	b       *mapping    // nil once closed
	st      strategy    // the side's lock
	holder  holder      // the handle's holder slot (holders.go), where there are holder locks
	role    role
	grace   time.Duration // Options.Grace, defaulted
	g       *guard        // a handle that does not own its side: its goroutines and Close
	cur     reloader      // the role's cursor, reloaded after take when the side is shared
	own     bool          // st.owns()
	looks   bool          // st.locks(): run looks whether an attempt could proceed before taking the lock
	readers roleWatch     // an Atomic Queue writer's view of the reader role (orphaned)
	name    string
	lentErr error       // what an operation returns while a Claim or Peek is outstanding
	lent    atomic.Bool // a Claim or Peek is outstanding, for a handle with no guard (g.lent otherwise)
	lending uint64      // gLent once a shared handle's call lent (under its gate), for leave to set in g
	fastOK  bool        // the role's inline path suits this buffer and strategy
	fast    bool        // fastOK, open, and nothing lent: Push or Pop may take the inline path
}

// init fills in h for b and a role whose blocking calls wait in direction
// d, and attaches the side's strategy. The role then calls attach.
func (h *handle) init(b *mapping, r role, d direction, c config, lentErr error) error {
	hd, err := claimHolder(b)
	if err != nil {
		return err
	}
	st, err := newStrategy(b, r, hd.token(), &h.closing, &h.y)
	if err != nil {
		hd.release()
		return err
	}
	h.holder, h.role, h.waiter.hold = hd, r, hd
	h.grace = c.Grace
	h.lay = b.lay
	h.b = b
	h.st = st
	h.own, h.looks = st.owns(), st.locks()
	if !h.own {
		h.g = newGuard()
	}
	h.waiter.lay, h.waits, h.spin = &h.lay, d, c.Spin
	h.batchWake = c.BatchWake && wait.FineTimeouts
	h.sleepers = [2]*uint32{dataWait: h.lay.DataWaiters, roomWait: h.lay.RoomWaiters}
	h.name = b.name
	h.lentErr = lentErr
	return nil
}

// attach finishes opening with the role's cursor: a handle that owns its
// side loads the cursor now, once (nobody else moves it), and enables the
// inline path if fastOK. On error the role is given up. Then the handle is
// attached: its holder line says so, and the buffer counts it.
func (h *handle) attach(cur reloader, fastOK bool) error {
	h.cur = cur
	if h.own {
		if err := cur.reload(); err != nil {
			h.st.detach()
			h.holder.release()
			return err
		}
	}
	h.fastOK = fastOK && h.own
	h.fast = h.fastOK
	if h.role == roleWriter {
		// A writer opens the stream, again if CloseWrite ended it: a
		// new run. Before its holder line says it is attached, so that
		// a reader that finds a writer attached to an ended stream finds
		// one of that run (readState.joinRun).
		reopen(&h.lay)
	}
	h.holder.attached(h.role)
	atomic.AddUint32(h.attachCount(h.role), 1)
	return nil
}

// attachCount returns the header's count of the handles of role r that
// ever attached.
func (h *handle) attachCount(r role) *uint32 {
	if r == roleWriter {
		return layout.At32(h.lay.Base, layout.OffWriters)
	}
	return layout.At32(h.lay.Base, layout.OffReaders)
}

// Cap returns the buffer's Length: the number of slots.
func (h *handle) Cap() int { return int(h.lay.Length) }

// ItemSize returns the largest item the buffer holds, in bytes.
func (h *handle) ItemSize() int { return h.lay.ItemSize }

// Name returns the buffer's name.
func (h *handle) Name() string { return h.name }

// wrap names the operation and the buffer in err, except for ErrFull,
// ErrEmpty and io.EOF, which loops compare on every turn (and io.EOF is
// returned bare by convention).
func (h *handle) wrap(op string, err error) error {
	if err == nil || err == ErrFull || err == ErrEmpty || err == io.EOF {
		return err
	}
	return opError(op, h.name, err)
}

// run performs one operation (ops.go), given as its two methods: attempt
// makes one try with the side taken and returns blocked (ErrFull or
// ErrEmpty) if the operation cannot proceed yet, with the value of the
// other side's cursor it found. With ctx noWait (or nil) run returns
// then; otherwise
// it waits until that cursor moves and tries again, until an attempt
// reports anything else or ctx is done. Where taking the side is costly (a
// strategy that locks it), idle first looks without it whether the
// operation could proceed.
//
// The methods come as method values of an operation on the caller's stack,
// not as an interface: Go's escape analysis lets the receiver of an
// interface method escape, and operations must allocate nothing. They
// must not be kept past the call.
//
// A shared handle's call is admitted and through its gate (guard.in)
// from the start, so that a call that succeeds at its first attempt pays
// for one compare-and-swap to come in and one add to go out; it leaves
// the gate only to wait.
func (h *handle) run(ctx context.Context, blocked error, idle func() (bool, mark), attempt func() (outcome, error)) error {
	if ctx == nil {
		ctx = noWait
	}
	g := h.g
	if g != nil {
		if err := g.in(ctx); err != nil {
			return err
		}
	} else if err := h.admit(); err != nil {
		return err
	}
	// (No defers: this is the path of every call but the inline ones.)
	ws := waitState{spin: h.spin, gated: g != nil}
	for {
		if g != nil && !ws.gated {
			if err := g.enter(ctx); err != nil {
				return h.leave(&ws, err)
			}
			ws.gated = true
		}
		if g != nil && g.lent() {
			// A Claim or Peek is outstanding: say so, rather than that
			// there is no room or no item.
			return h.leave(&ws, h.lentErr)
		}
		var seen mark
		stuck := false
		if h.looks {
			stuck, seen = idle()
		}
		if !stuck {
			var err error
			if seen, err = h.attempt(ctx, attempt); err != blocked {
				return h.leave(&ws, err)
			}
		}
		if ctx == noWait {
			return h.leave(&ws, blocked)
		}
		if ws.gated {
			g.exit()
			ws.gated = false
		}
		if ws.checkDue() {
			if h.orphaned() {
				return h.leave(&ws, ErrRemoved)
			}
			if err := h.peersGone(&ws); err != nil {
				return h.leave(&ws, err)
			}
		}
		if err := h.await(ctx, &ws, seen); err != nil {
			return h.leave(&ws, err)
		}
	}
}

// enterShared lets a call of a handle that shares its side (Flock) in and
// through its gate with one compare-and-swap, as run's first step does
// (guard.in), when the gate is free, nothing is lent (which run checks
// next) and the handle is open; it reports false otherwise, having
// changed nothing, and the call then goes run's way (which waits for the
// gate, reports a Claim or Peek outstanding, or ErrClosed). A call let in
// leaves with exitShared. The inline paths of shared handles use the pair
// (Writer.pushShared; Reader.beginShared, for Pop, Take and the end of a
// lease).
func (h *handle) enterShared() bool {
	g := h.g
	v := g.w.Load()
	return v&(gClosed|gBusy|gLent) == 0 && g.w.CompareAndSwap(v, v+gCall+gBusy)
}

// exitShared lets a call that enterShared let in out of the gate and the
// handle.
func (h *handle) exitShared() { h.g.out(0, 0) }

// attempt makes one attempt with the side taken (a shared handle's call
// is through its gate). It gives the side back afterwards, unless the
// attempt lent a slot or an item (a Claim or Peek), and returns the other
// side's cursor the attempt found.
func (h *handle) attempt(ctx context.Context, attempt func() (outcome, error)) (mark, error) {
	if h.own {
		// The side is the handle's for its life and one goroutine uses
		// the handle: nothing to take, reload or give back.
		if h.lent.Load() {
			return mark{}, h.lentErr
		}
		out, err := attempt()
		if out.lent {
			h.lend()
			return out.seen, nil
		}
		h.wakeFor(out)
		return out.seen, err
	}
	if err := h.take(ctx); err != nil {
		return mark{}, err
	}
	out, err := attempt()
	if out.lent {
		h.lend()
		return out.seen, nil
	}
	h.give(out)
	return out.seen, err
}

// take begins an attempt on a shared side, for a call through the
// handle's gate with nothing lent (run checked): it takes the side
// (strategy), checks the header and reloads the cursor under the lock.
func (h *handle) take(ctx context.Context) error {
	if err := h.st.take(ctx); err != nil {
		return err
	}
	if lockStep != nil {
		lockStep(stepTaken)
	}
	// A file zeroed or overwritten under the handle must not look like an
	// empty buffer; the other side, or a holder that died, may have moved
	// the cursors since the last operation.
	err := errOverwritten
	if h.lay.Sound() {
		err = h.cur.reload()
	}
	if err != nil {
		h.st.give()
		return err
	}
	return nil
}

// give ends an attempt on a shared side: it gives the side back, then
// wakes whoever the attempt owes a wake-up (wakeFor; after the release:
// one woken while the lock is held would sleep again). The call leaves
// the gate afterwards.
func (h *handle) give(out outcome) {
	if out.moved && lockStep != nil {
		lockStep(stepMoved)
	}
	if lockStep != nil {
		lockStep(stepGiving)
	}
	h.st.give()
	h.wakeFor(out)
}

// wakeFor wakes the sleepers an attempt's outcome owes a wake-up: the
// other side's if it stored the role's shared cursor (moved), and other
// readers if it gave an item back (returned).
func (h *handle) wakeFor(out outcome) {
	if out.moved {
		h.wakeNow(h.waits.other(), out.batch)
	}
	if out.returned {
		h.wakeNow(dataWait, false)
	}
}

// enter and exit let one admitted call at a time through a shared
// handle's gate (a handle that owns its side is used by one goroutine
// anyway).
func (h *handle) enter(ctx context.Context) error {
	if g := h.g; g != nil {
		return g.enter(ctx)
	}
	return nil
}

func (h *handle) exit() {
	if g := h.g; g != nil {
		g.exit()
	}
}

// admit lets a call in while the handle is open; dismiss lets it out.
// Close waits for the calls it admitted.
func (h *handle) admit() error {
	if h.g != nil {
		return h.g.admit()
	}
	if h.b == nil {
		return ErrClosed
	}
	return nil
}

func (h *handle) dismiss() {
	if g := h.g; g != nil {
		g.dismiss()
	}
}

// orphaned reports that the buffer file was unlinked or replaced under
// the handle, and that a call waiting for h.waits can therefore never
// proceed: a reader waits for items nobody can write any more; a writer
// waits for room that only an attached reader could make, and it knows
// (roleWatch) that none is attached.
func (h *handle) orphaned() bool {
	if isSameFile(h.b.file, h.b.path) {
		return false
	}
	return h.waits == dataWait || h.readers.gone()
}

// peersGone returns ErrWriterGone (a reader waiting for items) or
// ErrReaderGone (a Queue writer waiting for room) once the peers the call
// waits on have been gone for the handle's grace: the buffer had a peer of
// that role once (for writers, one that wrote), and no live holder of it is
// attached now. A reader of a
// stream that ended is not cut off: it retries, and gets io.EOF. Where
// there are no holder locks it never reports.
func (h *handle) peersGone(ws *waitState) error {
	if h.grace < 0 || h.holder.token() == 0 {
		return nil
	}
	peer, gone := roleReader, ErrReaderGone
	if h.waits == dataWait {
		peer, gone = roleWriter, ErrWriterGone
		if h.view != nil && (h.view.end() != 0 || h.view.awaitsRun()) {
			// An ended stream is io.EOF, not gone; a reader waiting
			// for the next run waits for its first writer.
			ws.gone = time.Time{}
			return nil
		}
	}
	if atomic.LoadUint32(h.attachCount(peer)) == 0 || peer == roleWriter && atomic.LoadUint64(h.lay.WCur) == 0 {
		// No peer yet (a writer that wrote nothing, such as Create's
		// in a program that only sets the buffer up, does not count):
		// wait for the first.
		ws.gone = time.Time{}
		return nil
	}
	live, err := anyLive(h.b.file.Fd(), h.lay.Base, h.holder.token(), peer)
	if err != nil || live {
		ws.gone = time.Time{}
		return nil
	}
	now := time.Now()
	if ws.gone.IsZero() {
		ws.gone = now
	}
	if now.Sub(ws.gone) < h.grace {
		return nil
	}
	return gone
}

// leave ends a call admitted by run: it ends its waiting, if it waited,
// and lets it out of the gate, if it is through, and of the handle.
func (h *handle) leave(ws *waitState, err error) error {
	ws.done()
	if ws.gated {
		set := h.lending
		h.lending = 0
		h.g.out(set, 0)
	} else {
		h.dismiss()
	}
	return err
}

// lend marks a Claim or Peek outstanding at the end of the attempt that
// made it: the side stays taken (give is not called), other goroutines of
// the handle may enter again once the call left the gate, and the inline
// paths stay off until finish.
func (h *handle) lend() {
	if h.g != nil {
		h.lending = gLent
	} else {
		h.lent.Store(true)
	}
	if h.fastOK {
		h.fast = false
	}
}

// finish ends the outstanding Claim or Peek with end (an operation's
// attempt, as for run), which runs with the side still taken since lend,
// and then gives the side back. If end fails, the Claim or Peek stays
// outstanding.
func (h *handle) finish(end func() (outcome, error)) error {
	if g := h.g; g != nil {
		// Through the gate for end, and out again with the Claim or
		// Peek no longer marked, in one add, if end succeeded.
		if err := g.in(noWait); err != nil {
			return err
		}
		err := ErrNotClaimed
		var clear uint64
		if g.lent() {
			var out outcome
			if out, err = end(); err == nil {
				if h.fastOK {
					h.fast = true
				}
				clear = gLent
				h.give(out)
			}
		}
		g.out(0, clear)
		return err
	}
	if err := h.admit(); err != nil {
		return err
	}
	err := ErrNotClaimed
	if h.lent.Load() {
		var out outcome
		if out, err = end(); err == nil {
			h.lent.Store(false)
			if h.fastOK {
				h.fast = true
			}
			h.wakeFor(out)
		}
	}
	h.dismiss()
	return err
}

// isLent reports whether a Claim or Peek is outstanding.
func (h *handle) isLent() bool {
	if g := h.g; g != nil {
		return g.lent()
	}
	return h.lent.Load()
}

// look runs f, which reads only shared words, while the handle is open;
// closed, it returns zero.
func (h *handle) look(f func() int) int {
	if h.admit() != nil {
		return 0
	}
	defer h.dismiss()
	return f()
}

// close detaches the handle: it stops the handle's waits and waits for
// its running calls, gives up the role (and a side still kept for a Claim
// or Peek), unmaps the buffer and closes its file, and returns the first
// error. A second call does nothing.
func (h *handle) close() error {
	h.closing.Store(true)
	if g := h.g; g != nil {
		g.closing.Lock()
		defer g.closing.Unlock()
		g.close()
		if h.b != nil {
			h.wakeAll() // the handle's own sleepers notice closing
		}
		g.drain()
	}
	if h.b == nil {
		return nil
	}
	h.cur.close()
	err := h.st.detach()
	h.holder.release()
	h.readers.close()
	if cerr := h.b.close(); err == nil {
		err = cerr
	}
	h.b = nil
	if h.fastOK {
		h.fast = false
	}
	if err != nil {
		return opError("close", h.name, err)
	}
	return nil
}

// newStrategy attaches a handle of role r to b with b's strategy. closing
// is the handle's flag that ends its waits, y its yield back-off.
func newStrategy(b *mapping, r role, token uint32, closing *atomic.Bool, y *wait.Yielder) (strategy, error) {
	switch Strategy(b.geo.Strategy) {
	case Atomic:
		return newAtomicStrategy(b, r)
	case Flock:
		return newFlockStrategy(b, sideOf(b, r), token, closing, y)
	}
	return nil, corruptf("strategy %d", b.geo.Strategy)
}
