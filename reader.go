package scb

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/platform"
)

// Reader takes items from a buffer. Get one from OpenReader.
//
// Every call that can find the buffer empty comes in two forms: one that
// returns ErrEmpty at once, and one ending in Wait that waits for an item
// until its context is done, the stream ends (io.EOF), or every writer has
// been gone for Options.Grace (ErrWriterGone).
//
// A Reader of the Atomic strategy must be used by one goroutine at a time
// (Close included); one of the Flock strategy is safe for concurrent use.
// Breaking the rule fails where it happens: the calls that collide return
// an error matching ErrBusy and leave the shared read cursor alone (it is
// published with a compare-and-swap from where the handle left it), so
// other processes never see a damaged buffer. The items of the colliding
// calls may be lost or duplicated within the misusing program; the race
// detector reports the misuse as a data race.
type Reader struct {
	handle
	c      readCursor  // the cursor of the buffer's mode (cursor.go)
	q      queueReader // Queue mode's cursor, kept here so that Pop's inline path reaches it at a fixed offset
	shared bool        // a Flock Queue reader that takes without a lock: Pop, Take and a lease's end take the inline path (beginShared)
	pop8   bool        // shared, and items are 8 bytes (Push's): Pop reads one at the read cursor through popFront
}

var errPeeked = fmt.Errorf("%w: a peeked item is not released yet", ErrBusy)

func newReader(b *mapping, c config) (*Reader, error) {
	r := &Reader{}
	if err := r.init(b, roleReader, dataWait, c, errPeeked); err != nil {
		return nil, err
	}
	// The one place the Reader asks the buffer's mode: which cursor.
	fast := false
	if b.geo.Broadcast() {
		r.c.b = newBroadcastReader(r.lay, r.own, c.SkipBacklog)
		r.c.b.hold = r.holder
		// A reader that joins the next run starts where the ended one
		// ended: its position is the write cursor already.
		r.c.b.joinRun(r.c.b.pos < atomic.LoadUint64(r.lay.WCur), r.writerHere)
		r.c.b.record()
		r.view = &r.c.b.readState
	} else {
		r.q = queueReader{readState: readState{ring: r.lay, own: r.own}}
		// Pop's inline path reads 8-byte items: any item whose length
		// says 8, or every item where all are 8 bytes.
		r.c.q, fast = &r.q, r.lay.ItemSize >= 8 && (!r.lay.Fixed || r.lay.ItemSize == 8)
		r.returns = r.lay.Returns // a returned item ends a wait for items too
	}
	if err := r.attach(r.c.reloader(), fast); err != nil {
		return nil, err
	}
	if r.c.q != nil {
		// The Atomic reader takes back what a reader before it left
		// taken (all); a Flock reader asks the holders.
		r.q.sleeps = &r.sleeps
		r.q.attachTaker(r.st.token(), b.file.Fd(), !r.own && platform.HolderLocks, r.own)
		r.q.joinRun(atomic.LoadUint64(r.lay.RCur) < atomic.LoadUint64(r.lay.WCur), r.writerHere)
		r.view = &r.q.readState
		r.shared = !r.own && !r.looks
		r.pop8 = r.shared && r.lay.ItemSize == 8
	}
	return r, nil
}

// writerHere reports whether a writer is attached, where holder locks can
// prove it; where they cannot, it says yes: a reader then never takes an
// ended stream for a past run.
func (r *Reader) writerHere() bool {
	if !platform.HolderLocks {
		return true
	}
	live, err := anyLive(r.b.file.Fd(), r.lay.Base, r.holder.token(), roleWriter)
	return live || err != nil
}

// do runs op: once with ctx noWait, otherwise until it reads something,
// waiting for items in between.
func (r *Reader) do(ctx context.Context, name string, op *rop) error {
	op.c = r.c
	return r.wrap(name, r.run(ctx, ErrEmpty, op.idle, op.attempt))
}

// Pop reads one item and decodes it as a big-endian unsigned integer (as
// Push wrote it). It never blocks: with nothing to read it returns ErrEmpty,
// unwrapped. An item that does not hold a uint64 gives ErrRange and stays
// unread. In Broadcast mode, a read that finds the reader was overrun skips
// to the oldest item still held and returns an error matching ErrOverrun
// (an [*OverrunError] saying how many items were lost); the next read
// returns that item, or reports a further overrun if it was overwritten
// too. With the Flock strategy "never blocks" means it does not wait for
// an item; it does wait for the file lock (see the package documentation).
func (r *Reader) Pop() (uint64, error) {
	if r.fast && r.q.sole {
		// The Atomic Queue path for an 8-byte item: what refresh, readOne
		// and free do, inline. Anything unusual takes the long way.
		q := &r.q
		n := q.pos
		if n >= q.head {
			h := atomic.LoadUint64(r.lay.WCur)
			if h == n && atomic.LoadUint64(r.lay.End) == 0 {
				return 0, ErrEmpty
			}
			if h-n <= r.lay.Length {
				q.head = h
			}
		}
		s := r.lay.Slot(n)
		// Where every item is 8 bytes no length tells a zeroed file
		// from items: the header's magic does (Sound).
		if n < q.head && (r.lay.Fixed && r.lay.Sound() || *(*uint32)(unsafe.Add(s, layout.QueueLen)) == 8) {
			v := binary.BigEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(s, r.lay.DataOff)), 8))
			q.pos, q.first = n+1, n
			if !atomic.CompareAndSwapUint64(r.lay.RCur, n, n+1) {
				return 0, r.wrap("pop", q.raced())
			}
			q.pub = n + 1
			if atomic.LoadUint32(r.lay.RoomWaiters) != 0 {
				r.wakeNow(roomWait, false)
			}
			return v, nil
		}
	}
	if v, err, ok := r.popShared(); ok {
		return v, err
	}
	op := rop{kind: opUint}
	err := r.do(noWait, "pop", &op)
	return op.v, err
}

// popShared is Pop's inline path for a Flock Queue reader that takes
// items without a lock (r.shared): run's one attempt, ctx noWait, made
// directly (beginShared, rop's attempt for one integer, endShared), and
// for an 8-byte item at the read cursor nobody took, its take, read and
// consumption in one step (queueReader.popFront). It
// reports false, having done nothing, when the handle's gate is taken, a
// Peek is outstanding or Close has closed the gate: Pop then goes run's way.
func (r *Reader) popShared() (uint64, error, bool) {
	if ok, err := r.beginShared(); !ok || err != nil {
		return 0, r.wrap("pop", err), ok
	}
	c := r.c
	c.begin()
	if r.pop8 {
		if v, moved, ok, err := c.q.popFront(); ok {
			r.endShared(moved, false)
			return v, r.wrap("pop", err), true
		}
	}
	v, _, err := c.readOne(nil, true)
	got := 0
	if err == nil {
		got = 1
	}
	moved, err := c.settle(got, err)
	r.endShared(moved, false)
	return v, r.wrap("pop", err), true
}

// beginShared begins the inline paths of a Flock Queue reader that takes
// items without a lock (r.shared): Pop, Take and the end of a lease make
// run's one attempt, ctx noWait, directly, rather than through an
// operation's closures, which cost them most of their time (an
// attempt's outcome is copied through them). It lets the call through the
// handle's gate (enterShared) and then does what handle.take does for
// such a reader: the hook, and the header's check (the cursor's reload
// does nothing for a reader on the take protocol). It reports false,
// having done nothing, when the call must go run's way; true and an error
// if the header is not this buffer's, having let the call out again.
func (r *Reader) beginShared() (bool, error) {
	if !r.shared || !r.enterShared() {
		return false, nil
	}
	if lockStep != nil {
		lockStep(stepTaken)
	}
	if !r.lay.Sound() {
		// A file zeroed or overwritten under the reader.
		r.exitShared()
		return true, errOverwritten
	}
	return true, nil
}

// endShared ends an inline attempt as handle.give does: the hooks, and
// the wake-ups it owes: the writers' if it moved the read cursor, other
// readers' if it gave an item back. It lets the call out of the gate.
func (r *Reader) endShared(moved, returned bool) {
	if lockStep != nil {
		if moved {
			lockStep(stepMoved)
		}
		lockStep(stepGiving)
	}
	r.wakeFor(outcome{moved: moved, returned: returned})
	r.exitShared()
}

// PopWait is Pop that waits for an item while the buffer is empty, until
// ctx is done (it then returns ctx's error, wrapped). With ctx already done
// it still returns an item that is ready.
func (r *Reader) PopWait(ctx context.Context) (uint64, error) {
	if r.fast && r.q.sole {
		// Poll through Pop's inline path before the wait machinery.
		v, err := r.Pop()
		if err != ErrEmpty {
			return v, err
		}
		if inlineHook != nil {
			inlineHook()
		}
		for i := 0; err == ErrEmpty && r.fast && r.q.sole && i < min(spinCount(r.spin), spinCheck); i++ {
			v, err = r.Pop()
		}
		if err != ErrEmpty {
			r.keptPace() // a wait, which these polls ended (paceFor)
			return v, err
		}
	} else if r.shared {
		// Once through Pop's shared inline path; empty, run's way tries
		// again (readers take no lock to try) and waits.
		if v, err, ok := r.popShared(); ok && err != ErrEmpty {
			return v, err
		}
	}
	op := rop{kind: opUint}
	err := r.do(ctx, "pop", &op)
	return op.v, err
}

// PopBytes reads one item into dst[:cap(dst)] and returns its length n;
// the item is dst[:n]. It does not allocate. Like every byte-item read
// (PopBytesInto, Items) it sizes the destination by its capacity, not its
// length, so a buffer resliced to a previous item's length (or made with
// make([]byte, 0, size)) still has all its room; to keep it from writing
// past len(dst), pass dst[:len(dst):len(dst)]. If the item is longer than
// cap(dst) it returns io.ErrShortBuffer (wrapped) and the item stays
// unread. Otherwise it behaves as Pop: ErrEmpty when there is nothing to
// read, never blocking, and ErrOverrun in Broadcast mode after a skip.
func (r *Reader) PopBytes(dst []byte) (int, error) {
	op := rop{kind: opBytes, dst: dst[:cap(dst)]}
	err := r.do(noWait, "pop", &op)
	return op.size, err
}

// PopBytesWait is PopBytes that waits for an item while the buffer is
// empty, until ctx is done. It sizes dst by its capacity, as PopBytes
// does. With ctx already done it still returns an item that is ready.
func (r *Reader) PopBytesWait(ctx context.Context, dst []byte) (int, error) {
	op := rop{kind: opBytes, dst: dst[:cap(dst)]}
	err := r.do(ctx, "pop", &op)
	return op.size, err
}

// PopInto reads up to len(dst) items that are ready now into dst, in order,
// and returns how many; it allocates nothing, and frees the slots it read
// with one cursor update (and with Flock one lock). With nothing to read it
// returns 0 and ErrEmpty; with an empty dst, 0 and nil. Having read some
// items, it stops without an error at one it cannot return (one that does
// not hold a uint64, or in Broadcast mode one that was overwritten), which
// the next call reports; if the first is such an item it reports it now.
func (r *Reader) PopInto(dst []uint64) (int, error) {
	op := rop{kind: opUints, vs: dst}
	err := r.do(noWait, "pop", &op)
	return op.n, err
}

// PopIntoWait is PopInto that waits while the buffer is empty until at
// least one item is read or ctx is done. With ctx already done it still
// reads the items that are ready. A Queue reader opened with
// Options.BatchWake lets a writer of batches leave it asleep, when
// len(dst) > 1, until a quarter of the ring is ready to take, for at
// most about a millisecond; PopManyWait and PopBytesIntoWait wait the
// same way.
func (r *Reader) PopIntoWait(ctx context.Context, dst []uint64) (int, error) {
	op := rop{kind: opUints, vs: dst}
	err := r.do(ctx, "pop", &op)
	return op.n, err
}

// PopBytesInto is PopInto for byte items: item i is copied into
// bufs[i][:cap(bufs[i])] and bufs[i] is resliced to the item's length, so
// the same bufs can be passed again. Like PopBytes it sizes each buffer by
// its capacity, not its length. It returns how many items it read. An
// item longer than cap(bufs[i]) stops it (io.ErrShortBuffer, wrapped, if
// it is the first) and stays unread.
func (r *Reader) PopBytesInto(bufs [][]byte) (int, error) {
	op := rop{kind: opBytesMany, bufs: bufs}
	err := r.do(noWait, "pop", &op)
	return op.n, err
}

// PopBytesIntoWait is PopBytesInto that waits while the buffer is empty
// until at least one item is read or ctx is done. With ctx already done it
// still reads the items that are ready.
func (r *Reader) PopBytesIntoWait(ctx context.Context, bufs [][]byte) (int, error) {
	op := rop{kind: opBytesMany, bufs: bufs}
	err := r.do(ctx, "pop", &op)
	return op.n, err
}

// PopMany reads up to n items that are ready now, in order, and returns
// them in a new slice; with none ready it returns an empty slice and
// ErrEmpty, unwrapped, as Pop does (io.EOF at the end of the stream).
// Having read some items, it stops without an error at one it cannot
// return (one that does not hold a uint64, or in Broadcast mode one that
// was overwritten), which the next read reports; if the first is such an
// item it reports it now. n <= 0 returns an empty slice and nil (or
// ErrClosed). PopInto does the same without allocating.
func (r *Reader) PopMany(n int) ([]uint64, error) {
	return r.popMany(noWait, n)
}

// PopManyWait is PopMany that waits, until ctx is done, while nothing is
// ready (and as Reader says for the end of stream and writers gone); then
// it returns what is ready, up to n items.
func (r *Reader) PopManyWait(ctx context.Context, n int) ([]uint64, error) {
	return r.popMany(orBackground(ctx), n)
}

func (r *Reader) popMany(ctx context.Context, n int) ([]uint64, error) {
	if n <= 0 {
		if err := r.admit(); err != nil {
			return nil, r.wrap("pop", err)
		}
		r.dismiss()
		return []uint64{}, nil
	}
	op := rop{kind: opMany, max: n}
	err := r.do(ctx, "pop", &op)
	if op.vs == nil {
		op.vs = []uint64{}
	}
	return op.vs[:op.n], err
}

// Peek gives zero-copy access to the next item of a Queue buffer: it
// returns the item's bytes in place, without copying and without consuming
// it; Release consumes it. It returns ErrEmpty at once when there is nothing
// to read.
//
// The item is taken as Take takes it, under a lease: if this process dies
// before Release, the item goes to the next reader that takes, and with
// the Flock strategy other readers go on taking the items after it
// meanwhile. Where Flock has no holder locks (macOS, the BSDs) the buffer
// file stays locked instead, for every other handle, in this process or
// another, until Release (a call on another handle in the same goroutine
// would wait for ever), so keep it short there.
//
// The rules: one peek at a time per Reader; until Release, the Reader's
// other reading calls return an error matching ErrBusy. The slice must
// not be used, and must not be written, after Release or Close. Broadcast
// buffers do not support zero-copy reads (ErrUnsupported): their items
// can be overwritten while being read.
func (r *Reader) Peek() ([]byte, error) {
	return r.peekWait(noWait)
}

// PeekWait is Peek that waits for an item while the buffer is empty, until
// ctx is done. With ctx already done it still peeks at an item that is
// ready.
func (r *Reader) PeekWait(ctx context.Context) ([]byte, error) {
	return r.peekWait(ctx)
}

func (r *Reader) peekWait(ctx context.Context) ([]byte, error) {
	op := peekOp{c: r.c}
	err := r.run(ctx, ErrEmpty, op.idle, op.attempt)
	return op.item, r.wrap("peek", err)
}

// Release consumes the item returned by Peek, freeing its slot.
func (r *Reader) Release() error {
	return r.wrap("release", r.finish((&releaseOp{c: r.c}).attempt))
}

// Len returns the number of items this reader could read now: unread items
// in Queue mode, items past this reader's cursor (at most Length) in
// Broadcast mode. It returns 0 after Close. The answer may be stale as soon
// as it is returned.
func (r *Reader) Len() int { return r.look(r.c.available) }

// Lost returns how many items this reader has skipped, in total, because
// the writer overwrote them first (Broadcast mode; always 0 in Queue mode).
func (r *Reader) Lost() uint64 { return r.c.lost() }

// Close detaches the reader: it gives up its role, drops an outstanding
// peek unconsumed, unmaps the buffer and closes its file, and returns the
// first error. A Queue reader's position stays in the buffer for the next
// reader. Close is idempotent; other methods return ErrClosed afterwards.
// With Flock, Close ends the waits of the Reader's other goroutines.
func (r *Reader) Close() error { return r.close() }
