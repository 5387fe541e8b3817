package scb

import (
	"context"
	"io"
	"sync/atomic"
)

// handle is what a Writer and a Reader have in common: the mapping, the
// strategy, the handle's lifetime, and the loop that runs one operation,
// with or without waiting. Writer and Reader embed it and add their
// cursors and their operations.
//
// The verbs, each with one meaning (strategy.go has the strategy's side):
//   - admit and dismiss bracket every call against Close;
//   - take and give bracket one attempt at an operation: exclusive use of
//     the cursors the handle moves, fresh;
//   - publish (Writer) and free (Reader) store the handle's cursor in the
//     shared header, which makes items visible or slots reusable;
//   - lend keeps the ring past the end of a call for a Claim or Peek, and
//     finish ends that (Commit, Abort, Release);
//   - detach gives up the role (Close).
type handle struct {
	ring             // the buffer's geometry and shared words
	b       *buffer  // nil once closed
	st      strategy // how an operation begins and ends
	name    string
	spin    int          // Options.Spin
	load    func() error // reloads the cursors the role works from (Writer.load, Reader.load)
	check   bool         // st.checkFirst(): look without taking whether an operation can proceed
	lentErr error        // what an operation returns while a Claim or Peek is outstanding
	closing atomic.Bool  // set by Close, so that waits end with ErrClosed
	lent    bool         // a Claim or Peek is outstanding
	fastOK  bool         // the role's inline path suits this buffer and strategy
	fast    bool         // fastOK, open, and nothing lent: Push or Pop may take the inline path
	slept   atomic.Int32 // recent waits that ended asleep (await spins less after them); a Flock handle's goroutines wait at once
	// busyUntil is when await yields again (monotonic), busyFor how long
	// it last stopped: a yield found the cores oversubscribed.
	busyUntil, busyFor atomic.Int64
}

// init fills in h for b and the strategy st; the caller then sets load
// and calls attach.
func (h *handle) init(b *buffer, st strategy, c config, lentErr error) {
	h.ring = b.ring
	h.b = b
	h.st = st
	h.name = b.name
	h.spin = c.Spin
	h.check = st.checkFirst()
	h.lentErr = lentErr
}

// attach finishes opening: the strategy loads what it needs, and the
// inline path is enabled if fastOK. On error the role is given up.
func (h *handle) attach(fastOK bool) error {
	if err := h.st.attach(h); err != nil {
		h.st.detach()
		return err
	}
	h.fastOK = fastOK && h.st.owns()
	h.fast = h.fastOK
	return nil
}

// wrap names the operation and the buffer in err, except for ErrFull,
// ErrEmpty and io.EOF, which loops compare on every turn (and io.EOF is
// returned bare by convention).
func (h *handle) wrap(op string, err error) error {
	if err == nil || err == ErrFull || err == ErrEmpty || err == io.EOF {
		return err
	}
	return opError(op, h.name, err)
}

// run performs one operation. attempt makes one try with the ring taken
// and returns blocked (ErrFull or ErrEmpty) if the operation cannot
// proceed yet, with seen, the value of the other side's cursor it found.
// With a nil ctx run returns then; otherwise it waits in direction d until
// that cursor moves and tries again, until attempt reports anything else
// or ctx is done. stuck is run first, without the ring, where taking it is
// costly (see strategy.checkFirst): it reports that attempt would return
// blocked, and the cursor value to wait on.
//
// attempt and stuck must not be kept past the call: they stay on the
// caller's stack, so that operations allocate nothing.
func (h *handle) run(ctx context.Context, d direction, blocked error, stuck func() (bool, uint64), attempt func() (uint64, error)) error {
	if err := h.st.admit(h); err != nil {
		return err
	}
	// (No defers: this is the path of every call but the inline ones.)
	ws := waitState{spin: h.spin}
	for {
		var seen uint64
		var err error
		ok := false
		if h.check {
			ok, seen = stuck()
		}
		if !ok {
			if err = h.st.take(ctx, h); err == nil {
				seen, err = attempt()
				if h.lent {
					h.st.keep() // attempt lent a slot or an item: the ring stays taken
				} else {
					h.st.give(h)
				}
			}
			if err != blocked {
				return h.leave(&ws, err)
			}
		}
		if ctx == nil {
			return h.leave(&ws, blocked)
		}
		if ws.checkDue() && h.orphaned(d) {
			return h.leave(&ws, ErrRemoved)
		}
		if err := h.await(ctx, &ws, d, seen); err != nil {
			return h.leave(&ws, err)
		}
	}
}

// orphaned reports that the buffer file was unlinked or replaced under
// the handle, and that a call waiting in direction d can therefore never
// proceed: a reader waits for items nobody can write any more; a writer
// waits for room that only an attached reader could make, and the
// strategy knows none is attached.
func (h *handle) orphaned(d direction) bool {
	if isSameFile(h.b.file, h.b.path) {
		return false
	}
	return d == dataWait || h.st.readerGone(h)
}

// leave ends a call admitted by run: it ends its waiting, if it waited,
// and dismisses it.
func (h *handle) leave(ws *waitState, err error) error {
	ws.done()
	h.st.dismiss()
	return err
}

// lend marks a Claim or Peek outstanding: the calling attempt keeps the
// ring, and the inline paths stay off until finish.
func (h *handle) lend() {
	h.lent = true
	if h.fastOK {
		h.fast = false
	}
}

// finish ends the outstanding Claim or Peek: done runs with the handle
// taken again and the ring still held since lend. If done fails, the
// Claim or Peek stays outstanding.
func (h *handle) finish(done func() error) error {
	if err := h.st.admit(h); err != nil {
		return err
	}
	err := h.st.resume()
	switch {
	case err != nil:
	case !h.lent:
		h.st.keep()
		err = ErrNotClaimed
	default:
		if err = done(); err != nil {
			h.st.keep()
			break
		}
		h.lent = false
		if h.fastOK {
			h.fast = true
		}
		h.st.give(h)
	}
	h.st.dismiss()
	return err
}

// look runs f, which reads only shared words, while the handle is open;
// closed, it returns zero.
func (h *handle) look(f func() int) int {
	if h.st.admit(h) != nil {
		return 0
	}
	defer h.st.dismiss()
	return f()
}

// close detaches the handle: it stops the handle's waits and waits for
// its running operations (strategy.stop), gives up the role, unmaps the
// buffer and closes its file, and returns the first error. A second call
// does nothing.
func (h *handle) close() error {
	h.st.stop(h)
	defer h.st.stopped()
	if h.b == nil {
		return nil
	}
	err := h.st.detach()
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
