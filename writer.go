package scb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/wait"
)

// Writer puts items into a buffer. Get one from Create or OpenWriter.
//
// Every call that can find a Queue buffer full comes in two forms: one that
// returns ErrFull at once, and one ending in Wait that waits for room until
// its context is done or every reader has been gone for Options.Grace
// (ErrReaderGone).
//
// A Writer of the Atomic strategy must be used by one goroutine at a time
// (Close included); one of the Flock strategy is safe for concurrent use.
// Breaking the rule fails where it happens: the calls that collide return
// an error matching ErrBusy and leave the shared write cursor alone (it is
// published with a compare-and-swap from where the handle left it), so
// other processes never see a damaged buffer. The items of the colliding
// calls may be lost or duplicated within the misusing program; the race
// detector reports the misuse as a data race.
type Writer struct {
	handle
	c  writeCursor    // the cursor of the buffer's mode (cursor.go)
	q  queueWriter    // Queue mode's cursor, kept here so that Push's inline path reaches it at a fixed offset
	fl *flockStrategy // a Flock Queue writer of 8-byte items that locks its side's lock word: Push's shared inline path (pushShared)
}

var errClaimed = fmt.Errorf("%w: a claimed slot is not committed or aborted yet", ErrBusy)

func newWriter(b *mapping, c config) (*Writer, error) {
	w := &Writer{}
	if err := w.init(b, roleWriter, roomWait, c, errClaimed); err != nil {
		return nil, err
	}
	w.readers = watchReaders(b.path, b.geo)
	// The one place the Writer asks the buffer's mode: which cursor.
	ws := writeState{ring: w.lay, own: w.own}
	fast := false
	if b.geo.Broadcast() {
		w.c.b = &broadcastWriter{writeState: ws}
	} else {
		w.q = queueWriter{writeState: ws, tailSeen: new(atomic.Uint64)}
		w.c.q, fast = &w.q, w.lay.ItemSize == 8
	}
	if err := w.attach(w.c.reloader(), fast); err != nil {
		return nil, err
	}
	if fl, ok := w.st.(*flockStrategy); ok && fl.mode == useWord && w.c.q != nil && w.lay.ItemSize == 8 {
		w.fl = fl
	}
	return w, nil
}

// do runs op: once with ctx noWait, otherwise until it is finished, waiting
// for room in between. It returns how many items op wrote.
func (w *Writer) do(ctx context.Context, name string, op *wop) (int, error) {
	op.c = w.c
	err := w.run(ctx, ErrFull, op.idle, op.attempt)
	return op.n, w.wrap(name, err)
}

// Push writes v as one item: big-endian in ItemSize bytes, so 300 needs an
// ItemSize of at least 2 (ErrRange otherwise). It never blocks: with a Queue
// buffer holding Length unread items it returns ErrFull, unwrapped, and
// writes nothing. In Broadcast mode it overwrites the oldest item instead.
func (w *Writer) Push(v uint64) error {
	if w.fast {
		// The Atomic Queue path for 8-byte items, which is most of the
		// traffic: what putUint and publish do, inline. Anything unusual
		// takes the long way.
		q := &w.q
		n := q.head
		if n-q.tail >= w.lay.Length {
			t := atomic.LoadUint64(w.lay.RCur)
			if t <= n && n-t <= w.lay.Length {
				q.tail = t
				if n-t == w.lay.Length {
					return ErrFull
				}
			}
		}
		if n-q.tail < w.lay.Length {
			s := w.lay.Slot(n)
			if !w.lay.Fixed {
				*(*uint32)(unsafe.Add(s, layout.QueueLen)) = 8
			}
			binary.BigEndian.PutUint64(unsafe.Slice((*byte)(unsafe.Add(s, w.lay.DataOff)), 8), v)
			q.head = n + 1
			if !atomic.CompareAndSwapUint64(w.lay.WCur, n, n+1) {
				return w.wrap("push", q.raced())
			}
			q.pub = n + 1
			if atomic.LoadUint32(w.lay.DataWaiters) != 0 {
				wait.Word{Seq: w.lay.DataSeq, Waiters: w.lay.DataWaiters}.Wake()
			}
			return nil
		}
	}
	if w.fl != nil {
		if err, ok := w.pushShared(v); ok {
			return err
		}
	}
	op := wop{kind: opUint, v: v}
	_, err := w.do(noWait, "push", &op)
	return err
}

// pushShared is Push's inline path for a Flock Queue writer of 8-byte
// items (w.fl): what run makes of one attempt, ctx noWait, inline: wop's
// look at a full ring, the strategy's take, the header check and the
// cursor's reload, putUint's next and fill (every value fits 8 bytes) and
// publish, then give and the wake-up, in the same order, with the same
// hooks and the same errors. It reports false, having done nothing, when
// the handle's gate or the side's lock word is taken, or a Claim is
// outstanding, or Close has closed the gate: Push then
// goes run's way, which waits for the gate and the lock. Through run's
// way an item costs several times as much, most of it moving an
// attempt's outcome through closures.
func (w *Writer) pushShared(v uint64) (error, bool) {
	if !w.enterShared() {
		return nil, false
	}
	q := &w.q
	if full, _ := q.full(); full {
		w.exitShared()
		return ErrFull, true
	}
	fl := w.fl
	if !fl.side.lock(fl.tok) {
		w.exitShared()
		return nil, false
	}
	fl.held = true
	if lockStep != nil {
		lockStep(stepTaken)
	}
	if !w.lay.Sound() {
		return w.unlockShared(errOverwritten), true
	}
	if err := q.reload(); err != nil {
		return w.unlockShared(err), true
	}
	s, err := q.next()
	if err != nil {
		return w.giveShared(err), true
	}
	binary.BigEndian.PutUint64(unsafe.Slice((*byte)(unsafe.Add(s, w.lay.DataOff)), 8), v)
	q.fill(s, 8)
	if err := q.publish(); err != nil {
		return w.giveShared(err), true
	}
	if lockStep != nil {
		lockStep(stepMoved)
		lockStep(stepGiving)
	}
	fl.held = false
	fl.side.unlock(fl.tok)
	w.wakeNow(dataWait, false)
	w.exitShared()
	return nil, true
}

// giveShared ends pushShared's attempt that published nothing, as
// handle.give does, and returns err wrapped as Push does.
func (w *Writer) giveShared(err error) error {
	if lockStep != nil {
		lockStep(stepGiving)
	}
	return w.unlockShared(err)
}

// unlockShared gives the side's lock word and the gate back, and returns
// err wrapped as Push does; after the take, as handle.take does when the
// header or the cursors are wrong, without the give's hook.
func (w *Writer) unlockShared(err error) error {
	w.fl.held = false
	w.fl.side.unlock(w.fl.tok)
	w.exitShared()
	return w.wrap("push", err)
}

// PushWait is Push that waits for room while a Queue buffer is full, until
// ctx is done (it then returns ctx's error, wrapped). With ctx already done
// it still writes v if there is room now.
func (w *Writer) PushWait(ctx context.Context, v uint64) error {
	if w.fast {
		// Poll through Push's inline path before the wait machinery.
		err := w.Push(v)
		if err != ErrFull {
			return err
		}
		if inlineHook != nil {
			inlineHook()
		}
		for i := 0; err == ErrFull && w.fast && i < min(spinCount(w.spin), spinCheck); i++ {
			err = w.Push(v)
		}
		if err != ErrFull {
			w.keptPace() // a wait, which these polls ended (paceFor)
			return err
		}
	} else if w.fl != nil {
		// Once through Push's shared inline path; full, run's way looks
		// again and waits.
		if err, ok := w.pushShared(v); ok && err != ErrFull {
			return err
		}
	}
	op := wop{kind: opUint, v: v}
	_, err := w.do(ctx, "push", &op)
	return err
}

// PushBytes writes p as one item. p may be shorter than ItemSize (the
// length is kept), except in a buffer of fixed-size items
// (Options.FixedSize), where shorter is ErrRange; longer is ErrTooLarge. Like Push it never blocks and
// returns ErrFull when a Queue buffer is full.
func (w *Writer) PushBytes(p []byte) error {
	op := wop{kind: opBytes, p: p}
	_, err := w.do(noWait, "push", &op)
	return err
}

// PushBytesWait is PushBytes that waits for room while a Queue buffer is
// full, until ctx is done. With ctx already done it still writes p if there
// is room now.
func (w *Writer) PushBytesWait(ctx context.Context, p []byte) error {
	op := wop{kind: opBytes, p: p}
	_, err := w.do(ctx, "push", &op)
	return err
}

// PushMany writes as many values of vs as there is room for, in order, and
// makes them visible to readers at once (one cursor update, and with Flock
// one lock, for the whole batch). It returns how many it wrote; if that is
// fewer than len(vs) the error says why: ErrFull (unwrapped) when a Queue
// buffer filled up, ErrRange for a value that does not fit.
func (w *Writer) PushMany(vs []uint64) (int, error) {
	op := wop{kind: opUints, vs: vs}
	return w.do(noWait, "push", &op)
}

// PushManyWait is PushMany that waits for room until all of vs is written
// or ctx is done. It returns how many values it wrote. With ctx already
// done it still writes what there is room for now, and returns ctx's error
// if that is not all of vs.
func (w *Writer) PushManyWait(ctx context.Context, vs []uint64) (int, error) {
	op := wop{kind: opUints, vs: vs}
	return w.do(ctx, "push", &op)
}

// PushBytesMany is PushMany for byte items: it writes as many of items as
// there is room for, publishes them together, and returns how many. An item
// longer than ItemSize stops it with ErrTooLarge, and, with fixed-size
// items (Options.FixedSize), one shorter with ErrRange.
func (w *Writer) PushBytesMany(items [][]byte) (int, error) {
	op := wop{kind: opBytesMany, ps: items}
	return w.do(noWait, "push", &op)
}

// PushBytesManyWait is PushBytesMany that waits for room until all of items
// are written or ctx is done. With ctx already done it still writes what
// there is room for now, as PushManyWait does.
func (w *Writer) PushBytesManyWait(ctx context.Context, items [][]byte) (int, error) {
	op := wop{kind: opBytesMany, ps: items}
	return w.do(ctx, "push", &op)
}

// Claim gives zero-copy access to the next slot of a Queue buffer: it
// returns the slot's ItemSize bytes, to be filled in place and then
// published with Commit, or given back with Abort. It returns ErrFull at
// once when there is no room.
//
// The rules: one claim at a time per Writer; until Commit or Abort, the
// Writer's other writing calls return an error matching ErrBusy, and with
// the Flock strategy the buffer stays locked for every other handle, in
// this process or another (a call on another handle in the same goroutine
// would wait for ever), so keep the claim short. The slice must not be used
// after Commit, Abort or Close. Broadcast buffers do not support zero-copy
// writes (ErrUnsupported).
func (w *Writer) Claim() ([]byte, error) {
	return w.claimWait(noWait)
}

// ClaimWait is Claim that waits for room while the buffer is full, until
// ctx is done. With ctx already done it still claims a slot that is free
// now.
func (w *Writer) ClaimWait(ctx context.Context) ([]byte, error) {
	return w.claimWait(ctx)
}

func (w *Writer) claimWait(ctx context.Context) ([]byte, error) {
	op := claimOp{c: w.c}
	err := w.run(ctx, ErrFull, op.idle, op.attempt)
	return op.slot, w.wrap("claim", err)
}

// Commit publishes the claimed slot as an item of its first n bytes.
// n above ItemSize is ErrTooLarge, and n below it in a buffer of
// fixed-size items (Options.FixedSize) is ErrRange; both keep the claim
// open.
func (w *Writer) Commit(n int) error {
	return w.wrap("commit", w.finish((&commitOp{c: w.c, n: n}).attempt))
}

// Abort gives the claimed slot back unpublished.
func (w *Writer) Abort() error {
	return w.wrap("abort", w.finish(abort))
}

// Len returns the number of items not yet read: in Queue mode the unread
// items, in Broadcast mode the items held in the ring (at most Length). It
// returns 0 after Close. The answer may be stale as soon as it is returned.
func (w *Writer) Len() int { return w.look(w.c.unread) }

// Close detaches the writer: it gives up the writer role, drops an
// outstanding claim unpublished, unmaps the buffer and closes its file, and
// returns the first error. The buffer and its items stay for other
// processes until Remove. Close is idempotent; other methods return
// ErrClosed afterwards. With Flock, Close ends the waits of the Writer's
// other goroutines.
func (w *Writer) Close() error { return w.close() }

// CloseWrite ends the stream and then closes the writer, as Close does.
// Readers read every item written before it (in Broadcast mode, every one
// the ring still holds) and then get io.EOF, unwrapped, from every read,
// blocking ones at once. An outstanding Claim is dropped first, as by
// Abort.
//
// A writer that attaches later (OpenWriter) opens the stream again, as a
// new run (Info.Generation): its items are read after the io.EOF that
// readers were given, by readers that read on, and by readers that
// attached to the ended run with nothing left of it (see the package
// documentation's end of stream). With the Flock strategy the stream ends for every writer:
// items that other attached writers push afterwards are still read
// before io.EOF. On a closed Writer, CloseWrite returns an error matching
// ErrClosed.
func (w *Writer) CloseWrite() error {
	if err := w.Abort(); err != nil && !errors.Is(err, ErrNotClaimed) {
		return err
	}
	// One attempt with the side taken (where it is shared, the write
	// cursor is fresh under the lock); it never blocks, so nothing counts
	// as blocked.
	op := endOp{c: w.c}
	if err := w.run(noWait, ErrFull, op.idle, op.attempt); err != nil {
		return w.wrap("close", err)
	}
	// Every reader, registered as a sleeper or not; admitted, so that a
	// Close of another goroutine cannot unmap the buffer under it.
	w.look(func() int { w.wakeAll(); return 0 })
	return w.Close()
}
