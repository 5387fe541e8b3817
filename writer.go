package scb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Writer puts items into a buffer. Get one from Create or OpenWriter.
//
// Every call that can find a Queue buffer full comes in two forms: one that
// returns ErrFull at once, and one ending in Wait that waits for room until
// its context is done.
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
	head      uint64 // the next item number to write
	tailCache uint64 // Queue: the read cursor as last seen
	pub       uint64 // the write cursor as this handle last loaded or stored it
}

var (
	errClaimed   = fmt.Errorf("%w: a claimed slot is not committed or aborted yet", ErrBusy)
	errWriteRace = fmt.Errorf("%w: the write cursor moved under this Writer: an Atomic Writer used by two goroutines at once, or another process writing without the writer role; nothing was published", ErrBusy)
	errZeroCopyB = fmt.Errorf("%w: zero-copy access needs a Queue buffer", ErrUnsupported)
)

func newWriter(b *buffer, c config) (*Writer, error) {
	st, err := newStrategy(b, roleWriter)
	if err != nil {
		return nil, err
	}
	w := &Writer{}
	w.init(b, st, c, errClaimed)
	w.handle.load = w.load
	if err := w.attach(!w.broadcast && w.itemSize == 8); err != nil {
		return nil, err
	}
	// A writer opens the stream, again if CloseWrite ended it.
	atomic.StoreUint64(w.end, 0)
	return w, nil
}

// load reads the shared cursors into the writer's copies. A Flock writer
// loads under its lock, its goroutines one at a time, so its copy of the
// write cursor is one the shared cursor had: finding the cursor below it
// means the file was damaged (writers only move it forward). An Atomic
// writer loads only at attach and after misuse, whose torn copies prove
// nothing (raced has its check).
func (w *Writer) load() error {
	if w.broadcast {
		h := atomic.LoadUint64(w.wcur)
		if h < w.pub && !w.st.owns() {
			return wentBack("write", w.pub, h)
		}
		w.head, w.pub = h, h
		return nil
	}
	t := atomic.LoadUint64(w.rcur)
	h := atomic.LoadUint64(w.wcur)
	switch {
	case t > h || h-t > w.length:
		return cursorError(t, h, w.length)
	case h < w.pub && !w.st.owns():
		return wentBack("write", w.pub, h)
	}
	w.head, w.tailCache, w.pub = h, t, h
	return nil
}

// badCursors reports a read cursor t that does not fit the writer's own
// write cursor: damage, if the shared cursors disagree too (ErrCorrupt);
// else the writer's copy is wrong, which only misuse by two goroutines
// does (raced).
func (w *Writer) badCursors(t uint64) error {
	h := atomic.LoadUint64(w.wcur)
	switch {
	case !w.sound():
		return errOverwritten
	case t > h || h-t > w.length:
		return cursorError(t, h, w.length)
	}
	return w.raced()
}

// raced reports that the write cursor was not where this handle left it
// when it came to publish: it was used by two goroutines at once (an
// Atomic Writer must not be), or something else wrote the buffer. Nothing
// was published: the compare-and-swap that publishes refused, so the
// shared cursors stay valid for every other process. The handle reloads
// its copies, to carry on from the shared state when used correctly again.
// Damage is told from a race by raceOrDamage.
func (w *Writer) raced() error {
	pub := w.pub
	h := atomic.LoadUint64(w.wcur)
	w.load()
	return w.raceOrDamage("write", pub, h, errWriteRace)
}

// next returns the slot for the next item, or ErrFull. In Broadcast mode it
// marks the slot as being written, so that a reader still reading the item
// it held sees the overwrite.
func (w *Writer) next() (unsafe.Pointer, error) {
	n := w.head
	if w.broadcast {
		s := w.slot(n)
		// The mark must be visible before any byte of the new item is. A
		// swap is a full barrier where it is one instruction (x86, arm64
		// with LSE); as an LL/SC loop (arm64 v8.0) its store only releases,
		// so the load after it, an acquire, keeps the item's stores behind.
		atomic.SwapUint64(seqOf(s), 2*n+1)
		atomic.LoadUint64(seqOf(s))
		return s, nil
	}
	if n-w.tailCache >= w.length {
		t := atomic.LoadUint64(w.rcur)
		if t > n || n-t > w.length {
			return nil, w.badCursors(t)
		}
		w.tailCache = t
		if n-t >= w.length {
			return nil, ErrFull
		}
	}
	return w.slot(n), nil
}

// commit records the length of the item written into slot s and moves the
// local write cursor past it. Readers see it once publish runs.
func (w *Writer) commit(s unsafe.Pointer, n int) {
	w.setItemLen(s, n)
	if w.broadcast {
		atomic.StoreUint64(seqOf(s), 2*w.head+2)
	}
	w.head++
}

// publish makes every committed item visible by moving the write cursor
// from where this handle left it to head, in one compare-and-swap, and has
// the strategy wake readers that sleep. It refuses (raced) to move a
// cursor that another goroutine or process moved meanwhile, or to publish
// more than the read cursor it last saw leaves room for: whatever two
// goroutines misusing one handle did to its copies, the shared cursors
// stay valid.
func (w *Writer) publish() error {
	if w.head < w.pub || !w.broadcast && w.head-w.tailCache > w.length ||
		!atomic.CompareAndSwapUint64(w.wcur, w.pub, w.head) {
		return w.raced()
	}
	w.pub = w.head
	w.st.moved(&w.handle, dataWait)
	return nil
}

func (w *Writer) putUint(v uint64) error {
	if !w.fits(v) {
		return fmt.Errorf("%w: %d does not fit in %d bytes", ErrRange, v, w.itemSize)
	}
	s, err := w.next()
	if err != nil {
		return err
	}
	putUint(w.item(s, w.itemSize), v)
	w.commit(s, w.itemSize)
	return nil
}

// fits reports whether v fits in an item.
func (w *Writer) fits(v uint64) bool {
	return w.itemSize >= 8 || v>>(8*uint(w.itemSize)) == 0
}

// putUints is putUint for a batch into a Queue buffer: it finds the room
// once per stretch of free slots and fills them in a tight loop, so that
// the stores to consecutive slots overlap. It returns how many it wrote.
func (w *Writer) putUints(vs []uint64) (int, error) {
	done := 0
	for done < len(vs) {
		if !w.fits(vs[done]) {
			// A value that can never fit is reported before a full buffer.
			return done, fmt.Errorf("%w: %d does not fit in %d bytes", ErrRange, vs[done], w.itemSize)
		}
		room := w.length - (w.head - w.tailCache)
		if room == 0 {
			if _, err := w.next(); err != nil { // reloads the read cursor
				return done, err
			}
			continue
		}
		k := done + int(min(room, uint64(len(vs)-done)))
		if w.itemSize == 8 {
			// Every value fits: walk the slots by address, a run up
			// to the ring's end at a time.
			for done < k {
				idx := w.index(w.head)
				run := int(min(uint64(k-done), w.length-idx))
				step, lenOff, dataOff := w.slotSize, w.lenOff, w.dataOff // locals: the stores below could alias w
				p := unsafe.Add(w.base, headerSize+uintptr(idx)*step)
				for _, v := range vs[done : done+run] {
					*(*uint32)(unsafe.Add(p, lenOff)) = 8
					binary.BigEndian.PutUint64(unsafe.Slice((*byte)(unsafe.Add(p, dataOff)), 8), v)
					p = unsafe.Add(p, step)
				}
				done += run
				w.head += uint64(run)
			}
			continue
		}
		for ; done < k; done++ {
			v := vs[done]
			if !w.fits(v) {
				return done, fmt.Errorf("%w: %d does not fit in %d bytes", ErrRange, v, w.itemSize)
			}
			s := w.slot(w.head)
			w.setItemLen(s, w.itemSize)
			putUint(w.item(s, w.itemSize), v)
			w.head++
		}
	}
	return done, nil
}

func (w *Writer) putBytes(p []byte) error {
	if len(p) > w.itemSize {
		return fmt.Errorf("%w: %d bytes, item size is %d", ErrTooLarge, len(p), w.itemSize)
	}
	s, err := w.next()
	if err != nil {
		return err
	}
	copy(w.item(s, len(p)), p)
	w.commit(s, len(p))
	return nil
}

// wop is one write operation, carried through retries by the Wait forms.
type wop struct {
	kind uint8
	v    uint64
	p    []byte
	vs   []uint64
	ps   [][]byte
	n    int // items written so far
}

const (
	opUint      uint8 = iota // one uint64
	opBytes                  // one byte item
	opUints                  // a batch of uint64s
	opBytesMany              // a batch of byte items
)

// try makes one attempt at op with the ring taken: it writes what fits,
// publishes it with one store, and returns ErrFull if op is not finished.
func (w *Writer) try(op *wop) error {
	start := op.n
	var err error
	switch op.kind {
	case opUint:
		if err = w.putUint(op.v); err == nil {
			op.n = 1
		}
	case opBytes:
		if err = w.putBytes(op.p); err == nil {
			op.n = 1
		}
	case opUints:
		if !w.broadcast {
			var k int
			k, err = w.putUints(op.vs[op.n:])
			op.n += k
			break
		}
		for op.n < len(op.vs) {
			if err = w.putUint(op.vs[op.n]); err != nil {
				break
			}
			op.n++
		}
	case opBytesMany:
		for op.n < len(op.ps) {
			if err = w.putBytes(op.ps[op.n]); err != nil {
				break
			}
			op.n++
		}
	}
	if op.n > start {
		if perr := w.publish(); perr != nil {
			op.n = start
			return perr
		}
	}
	return err
}

// stuck reports, without taking the ring, that a Queue buffer is full
// right now and op's next item is one it could take (an item that can
// never fit is reported as such by try whether or not the buffer is
// full, and an empty batch is done at once), and the read cursor to wait
// on.
func (w *Writer) stuck(op *wop) (bool, uint64) {
	if w.broadcast {
		return false, 0
	}
	var ok bool
	switch op.kind {
	case opUint:
		ok = w.fits(op.v)
	case opBytes:
		ok = len(op.p) <= w.itemSize
	case opUints:
		ok = op.n < len(op.vs) && w.fits(op.vs[op.n])
	case opBytesMany:
		ok = op.n < len(op.ps) && len(op.ps[op.n]) <= w.itemSize
	}
	h := atomic.LoadUint64(w.wcur) // first: the read cursor only grows towards it
	t := atomic.LoadUint64(w.rcur)
	return ok && h-t == w.length && w.sound(), h - w.length
}

// do runs op: once with a nil ctx, otherwise until it is finished, waiting
// for room in between. It returns how many items op wrote.
func (w *Writer) do(ctx context.Context, name string, op *wop) (int, error) {
	err := w.run(ctx, roomWait, ErrFull,
		func() (bool, uint64) { return w.stuck(op) },
		func() (uint64, error) { err := w.try(op); return w.tailCache, err })
	return op.n, w.wrap(name, err)
}

// Push writes v as one item: big-endian in ItemSize bytes, so 300 needs an
// ItemSize of at least 2 (ErrRange otherwise). It never blocks: with a Queue
// buffer holding Length unread items it returns ErrFull, unwrapped, and
// writes nothing. In Broadcast mode it overwrites the oldest item instead.
func (w *Writer) Push(v uint64) error {
	if w.fast {
		// The Atomic Queue path for 8-byte items, which is most of the
		// traffic: what claim, putUint, commit and publish do, inline.
		// Anything unusual takes the long way.
		n := w.head
		if n-w.tailCache >= w.length {
			t := atomic.LoadUint64(w.rcur)
			if t <= n && n-t <= w.length {
				w.tailCache = t
				if n-t == w.length {
					return ErrFull
				}
			}
		}
		if n-w.tailCache < w.length {
			s := w.slot(n)
			*(*uint32)(unsafe.Add(s, queueLen)) = 8
			binary.BigEndian.PutUint64(unsafe.Slice((*byte)(unsafe.Add(s, w.dataOff)), 8), v)
			w.head = n + 1
			if !atomic.CompareAndSwapUint64(w.wcur, n, n+1) {
				return w.wrap("push", w.raced())
			}
			w.pub = n + 1
			if atomic.LoadUint32(w.dataWaiters) != 0 {
				wakeWord(w.dataSeq, w.dataWaiters)
			}
			return nil
		}
	}
	op := wop{kind: opUint, v: v}
	_, err := w.do(nil, "push", &op)
	return err
}

// PushWait is Push that waits for room while a Queue buffer is full, until
// ctx is done (it then returns ctx's error, wrapped). With ctx already done
// it still writes v if there is room now.
func (w *Writer) PushWait(ctx context.Context, v uint64) error {
	if w.fast {
		// Poll through Push's inline path before the wait machinery.
		err := w.Push(v)
		for i := 0; err == ErrFull && w.fast && i < spinCount(w.spin); i++ {
			err = w.Push(v)
		}
		if err != ErrFull {
			return err
		}
	}
	op := wop{kind: opUint, v: v}
	_, err := w.do(ctx, "push", &op)
	return err
}

// PushBytes writes p as one item. p may be shorter than ItemSize (the
// length is kept); longer is ErrTooLarge. Like Push it never blocks and
// returns ErrFull when a Queue buffer is full.
func (w *Writer) PushBytes(p []byte) error {
	op := wop{kind: opBytes, p: p}
	_, err := w.do(nil, "push", &op)
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
	return w.do(nil, "push", &op)
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
// longer than ItemSize stops it with ErrTooLarge.
func (w *Writer) PushBytesMany(items [][]byte) (int, error) {
	op := wop{kind: opBytesMany, ps: items}
	return w.do(nil, "push", &op)
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
	return w.claimWait(nil)
}

// ClaimWait is Claim that waits for room while the buffer is full, until
// ctx is done. With ctx already done it still claims a slot that is free
// now.
func (w *Writer) ClaimWait(ctx context.Context) ([]byte, error) {
	return w.claimWait(ctx)
}

func (w *Writer) claimWait(ctx context.Context) ([]byte, error) {
	var p []byte
	probe := wop{kind: opBytes} // an empty item: stuck only asks whether the buffer is full
	err := w.run(ctx, roomWait, ErrFull,
		func() (bool, uint64) { return w.stuck(&probe) },
		func() (uint64, error) {
			if w.broadcast {
				return 0, errZeroCopyB
			}
			s, err := w.next()
			if err != nil {
				return w.tailCache, err
			}
			w.lend() // the ring stays taken until Commit or Abort
			p = w.item(s, w.itemSize)
			return 0, nil
		})
	return p, w.wrap("claim", err)
}

// Commit publishes the claimed slot as an item of its first n bytes.
// n above ItemSize is ErrTooLarge and keeps the claim open.
func (w *Writer) Commit(n int) error {
	return w.wrap("commit", w.finish(func() error {
		if n < 0 {
			return fmt.Errorf("%w: negative length %d", ErrRange, n)
		}
		if n > w.itemSize {
			return fmt.Errorf("%w: %d bytes, item size is %d", ErrTooLarge, n, w.itemSize)
		}
		w.commit(w.slot(w.head), n)
		return w.publish()
	}))
}

// Abort gives the claimed slot back unpublished.
func (w *Writer) Abort() error {
	return w.wrap("abort", w.finish(func() error { return nil }))
}

// Len returns the number of items not yet read: in Queue mode the unread
// items, in Broadcast mode the items held in the ring (at most Length). It
// returns 0 after Close. The answer may be stale as soon as it is returned.
func (w *Writer) Len() int { return w.look(w.unread) }

// Cap returns the buffer's Length: the number of slots.
func (w *Writer) Cap() int { return int(w.length) }

// ItemSize returns the largest item the buffer holds, in bytes.
func (w *Writer) ItemSize() int { return w.itemSize }

// Name returns the buffer's name.
func (w *Writer) Name() string { return w.name }

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
// A writer that attaches later (OpenWriter) opens the stream again: its
// items are read after the io.EOF that readers were given, by readers
// that read on. With the Flock strategy the stream ends for every writer:
// items that other attached writers push afterwards are still read
// before io.EOF. On a closed Writer, CloseWrite returns an error matching
// ErrClosed.
func (w *Writer) CloseWrite() error {
	if err := w.Abort(); err != nil && !errors.Is(err, ErrNotClaimed) {
		return err
	}
	// One attempt with the ring taken (Flock: the write cursor is fresh
	// under the lock); it never blocks, so nothing counts as blocked.
	err := w.run(nil, roomWait, nil,
		func() (bool, uint64) { return false, 0 },
		func() (uint64, error) {
			atomic.StoreUint64(w.end, w.head+1)
			return 0, nil
		})
	if err != nil {
		return w.wrap("close", err)
	}
	w.wakeAll() // every reader, registered as a sleeper or not
	return w.Close()
}
