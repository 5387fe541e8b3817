package scb

import "context"

// role is what a handle does with a buffer.
type role uint8

const (
	roleWriter role = iota + 1
	roleReader
)

func (r role) String() string {
	if r == roleWriter {
		return "writer"
	}
	return "reader"
}

// strategy is everything that differs between the coordination schemes.
// The operations themselves (writer.go, reader.go), the slot layout
// (header.go, ring.go) and the waits (wait.go) are the same for every
// scheme; a new scheme is a new implementation of this interface and a
// case in newStrategy, and touches nothing else. Each handle has its own
// strategy value, made when it attaches.
//
// The contract, in the order a call meets it (handle.go runs it):
//
//   - attach is called once, when the handle opens, after the handle is
//     filled in. A scheme whose handle alone moves its cursors (owns)
//     loads them here, once, with h.load.
//   - admit and dismiss bracket every call on the handle; admit fails with
//     ErrClosed once the handle is closed, and stop waits for every
//     admitted call to be dismissed. A scheme whose handles are used by
//     one goroutine at a time need only check that h.b is not nil.
//   - take and give bracket one attempt at an operation. After take
//     returns nil, the calling goroutine has exclusive use of the cursors
//     the handle moves, across goroutines and processes, and the handle's
//     copies of them are fresh (a scheme that does not own them reloads
//     them with h.load). take refuses with h.lentErr while h.lent, before
//     touching anything shared. It gives up with ctx's error when ctx
//     (which may be nil, for no limit) is done, and with ErrClosed once
//     h.closing is set. give ends the attempt.
//   - moved reports, between take and give, that the attempt stored a
//     shared cursor that sleepers of direction d wait on. The scheme wakes
//     them (wake, wait.go) now, or once give has released what they would
//     otherwise find taken.
//   - keep ends a call whose attempt lent the ring (a Claim or Peek is
//     outstanding: h.lent): other goroutines of the handle may enter
//     again, while every other handle stays excluded until the lend ends.
//     resume re-enters for the call that ends it, which then calls give,
//     or keep if it ends nothing.
//   - stop begins Close: it sets h.closing, ends the handle's waits, and
//     waits until every admitted call is dismissed; stopped follows once
//     Close is done with the handle. detach gives up the role, once.
//
// readerGone reports, for a writer whose buffer was removed, that no
// reader is attached, so that a wait for room can never end; a scheme
// that cannot know reports false.
//
// owns reports whether the handle is the only mover of the cursors it
// works from, so that its copies stay valid between operations and the
// inline paths (Writer.Push, Reader.Pop) may use them without take.
// checkFirst reports whether take is costly enough (a system call) that an
// operation should first look, without it, whether it could proceed.
type strategy interface {
	owns() bool
	checkFirst() bool
	attach(h *handle) error
	admit(h *handle) error
	dismiss()
	take(ctx context.Context, h *handle) error
	moved(h *handle, d direction)
	give(h *handle)
	keep()
	resume() error
	stop(h *handle)
	stopped()
	detach() error
	readerGone(h *handle) bool
}

// newStrategy attaches a handle of role r to b with b's strategy.
func newStrategy(b *buffer, r role) (strategy, error) {
	switch b.geo.strategy {
	case Atomic:
		s, err := newAtomicStrategy(b, r)
		if err != nil {
			return nil, err
		}
		switch {
		case r == roleWriter:
			s.pid = b.writerPid
			if !b.broadcast {
				s.watchReader(b)
			}
		case !b.broadcast:
			s.pid = b.readerPid
		}
		return s, nil
	case Flock:
		return newFlockStrategy(b, r), nil
	}
	return nil, corruptf("strategy %d", b.geo.strategy)
}

// cursorError reports shared cursors that no valid buffer can have.
func cursorError(tail, head, length uint64) error {
	return corruptf("read cursor %d and write cursor %d are not 0 to %d apart", tail, head, length)
}
