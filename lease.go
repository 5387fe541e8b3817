package scb

import (
	"context"
	"iter"
)

// A Lease is an item of a Queue buffer taken by a Reader and not yet
// consumed. The item keeps its slot until the lease ends: Ack consumes it,
// GiveBack returns it to the buffer, where the next reader that takes an
// item gets it before any newer one. If the Reader's process dies first
// (SIGKILL at any instruction) the item is returned the same way: a
// reader that takes finds the holder's lock free, which the kernel drops
// when a process dies, and takes the item back; no clock decides it. So a
// consumer that acknowledges an item only once it has done its work gets
// every item at least once, and an item twice only when the reader that
// had it died (or gave it back) before acknowledging it; the second
// delivery has the same Pos and a larger Deliveries.
//
// A Lease is a small value, copied freely; the zero Lease is no lease
// (Ack and GiveBack return an error matching ErrNotClaimed).
type Lease struct {
	r   *Reader
	pos uint64
	d   int
	v   uint64
}

// Pos returns the item's position: its number among the items written to
// the buffer since it was created, the first being 0. A redelivered item
// keeps its position, so a consumer whose effects record the positions
// they applied can skip an item it has seen: its effects are exactly once.
func (l Lease) Pos() uint64 { return l.pos }

// Deliveries returns how many times the item was taken, this time
// included: 1 the first time, more after a holder died or gave it back
// (at most 255). A program can set aside an item that keeps killing its
// workers.
func (l Lease) Deliveries() int { return l.d }

// Value returns the item decoded as a big-endian integer, for a lease from
// Take, TakeWait or Leases (0 for one from TakeBytes).
func (l Lease) Value() uint64 { return l.v }

// Ack consumes the item: its slot is freed for the writer once the items
// before it are consumed too. It returns an error matching ErrNotClaimed
// if the lease has ended already, and ErrClosed after the Reader's Close
// (which gave the lease back).
func (l Lease) Ack() error { return l.end(true) }

// GiveBack ends the lease without consuming the item: the next reader to
// take an item gets it first, with Deliveries one more. Use it for an item
// this reader cannot process now.
func (l Lease) GiveBack() error { return l.end(false) }

func (l Lease) end(consume bool) error {
	r := l.r
	name := "giveback"
	if consume {
		name = "ack"
	}
	if r == nil || l.d == 0 {
		return opError(name, "", ErrNotClaimed)
	}
	op := settleOp{c: r.c, pos: l.pos, d: l.d, consume: consume}
	if ok, err := r.beginShared(); ok {
		// The inline path (Reader.beginShared): settleOp's attempt.
		if err == nil {
			var moved, returned bool
			moved, returned, err = op.end()
			r.endShared(moved, returned)
		}
		return r.wrap(name, err)
	}
	return r.wrap(name, r.run(noWait, nil, op.idle, op.attempt))
}

// Take takes the next item of a Queue buffer under a lease and decodes it
// as a big-endian integer, as Pop does; the item is consumed only when the
// lease is acknowledged (Lease.Ack). It never blocks: with nothing to take
// it returns ErrEmpty, unwrapped. Items given back, or taken back from a
// holder that died, are taken before newer ones. An item that does not
// hold a uint64 gives ErrRange and is not taken.
//
// A Reader may hold any number of leases at once, up to the buffer's
// Length: leased items keep their slots, so a writer waits (or gets
// ErrFull) once the unread and the leased items fill the ring. With the
// Flock strategy readers take without any lock, each lease independent of
// the others; with Atomic the one Reader of the buffer holds them all.
// Close gives back the leases still held. Broadcast buffers have no leases
// (ErrUnsupported); nor, with Flock, the platforms without holder locks
// (every one but Linux and Windows), where a reader's death cannot be
// proved.
func (r *Reader) Take() (uint64, Lease, error) {
	op := leaseOp{c: r.c, asUint: true}
	return r.takeLease(noWait, &op)
}

// TakeWait is Take that waits for an item while there is none to take,
// until ctx is done. With ctx already done it still takes an item that is
// ready.
func (r *Reader) TakeWait(ctx context.Context) (uint64, Lease, error) {
	op := leaseOp{c: r.c, asUint: true}
	return r.takeLease(ctx, &op)
}

// TakeBytes is Take for byte items: it copies the item into
// dst[:cap(dst)] and returns its length, as PopBytes does. An item longer
// than cap(dst) gives io.ErrShortBuffer (wrapped) and is not taken.
func (r *Reader) TakeBytes(dst []byte) (int, Lease, error) {
	op := leaseOp{c: r.c, dst: dst[:cap(dst)]}
	_, l, err := r.takeLease(noWait, &op)
	return op.size, l, err
}

// TakeBytesWait is TakeBytes that waits for an item while there is none
// to take, until ctx is done.
func (r *Reader) TakeBytesWait(ctx context.Context, dst []byte) (int, Lease, error) {
	op := leaseOp{c: r.c, dst: dst[:cap(dst)]}
	_, l, err := r.takeLease(ctx, &op)
	return op.size, l, err
}

func (r *Reader) takeLease(ctx context.Context, op *leaseOp) (uint64, Lease, error) {
	if ok, err := r.beginShared(); ok {
		// The inline path (Reader.beginShared): leaseOp's attempt once;
		// with nothing to take, a waiting call goes run's way.
		if err == nil {
			var returned bool
			returned, err = op.takeOne()
			r.endShared(false, returned)
		}
		if err != ErrEmpty || ctx == noWait {
			if err != nil {
				return 0, Lease{}, r.wrap("take", err)
			}
			return op.v, Lease{r: r, pos: op.pos, d: op.d, v: op.v}, nil
		}
	}
	if err := r.run(ctx, ErrEmpty, op.idle, op.attempt); err != nil {
		return 0, Lease{}, r.wrap("take", err)
	}
	return op.v, Lease{r: r, pos: op.pos, d: op.d, v: op.v}, nil
}

// Leases returns an iterator over the integer items of a Queue buffer,
// each taken under a lease with TakeWait:
//
//	for l, err := range r.Leases(ctx) {
//		if err != nil {
//			return err
//		}
//		if err := apply(l.Pos(), l.Value()); err != nil {
//			l.GiveBack()
//			continue
//		}
//		l.Ack()
//	}
//
// The loop body ends each lease (Ack or GiveBack); a lease it leaves open
// stays this Reader's until Close gives it back. The loop waits for items
// until ctx is done (nil: no limit), and ends as Values does: without an
// error at the end of the stream, with any other error (ctx's included)
// yielded once, with a zero Lease, as the last. It allocates nothing per
// item.
func (r *Reader) Leases(ctx context.Context) iter.Seq2[Lease, error] {
	return func(yield func(Lease, error) bool) {
		ctx := orBackground(ctx)
		var l Lease
		iterate(
			func() (err error) { _, l, err = r.TakeWait(ctx); return err },
			func(err error) bool {
				if err != nil {
					return yield(Lease{}, err)
				}
				return yield(l, nil)
			})
	}
}

// Pos returns the position of the item that the Reader's last successful
// read returned (for a batch, of its first item; a batch's items are
// consecutive): its number among the items written to the buffer since it
// was created, the first being 0. It is stable: in Queue mode an item
// given back or taken back from a reader that died keeps its position when
// it is read again. A consumer whose effects record positions can make
// them exactly-once; one that commits the positions it has done can start
// again after them. With several goroutines on one Flock Reader, each
// should take its items under leases, which carry their own positions.
func (r *Reader) Pos() uint64 { return r.c.pos() }
