package scb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"unsafe"
)

// Reader takes items from a buffer. Get one from OpenReader.
//
// Every call that can find the buffer empty comes in two forms: one that
// returns ErrEmpty at once, and one ending in Wait that waits for an item
// until its context is done.
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
	pos       uint64 // the next item number to read (Queue: the read cursor)
	headCache uint64 // the write cursor as last seen
	pub       uint64 // Queue: the read cursor as this handle last loaded or stored it
	lost      atomic.Uint64
	posSnap   atomic.Uint64 // Broadcast: pos as of the last operation, for Len
	fence     uint32        // scratch word for loadFence
}

var (
	// errStale is readOne's report that a Broadcast item was overwritten
	// before or while it was read. The caller decides whether to skip now.
	errStale    = errors.New("scb: item overwritten")
	errPeeked   = fmt.Errorf("%w: a peeked item is not released yet", ErrBusy)
	errReadRace = fmt.Errorf("%w: the read cursor moved under this Reader: an Atomic Reader used by two goroutines at once, or another process reading without the reader role; nothing was consumed", ErrBusy)
)

func newReader(b *buffer, c config) (*Reader, error) {
	st, err := newStrategy(b, roleReader)
	if err != nil {
		return nil, err
	}
	r := &Reader{}
	r.init(b, st, c, errPeeked)
	r.handle.load = r.load
	if b.broadcast {
		h := atomic.LoadUint64(r.wcur)
		switch {
		case c.SkipBacklog:
			r.pos = h
		case h > r.length:
			r.pos = h - r.length
		}
		r.headCache = h
		r.posSnap.Store(r.pos)
	}
	if err := r.attach(!r.broadcast && r.itemSize >= 8); err != nil {
		return nil, err
	}
	return r, nil
}

// load reads a Queue buffer's cursors into the reader's copies. A
// Broadcast reader's cursor is its own; it reloads the write cursor when
// it runs out of items (refresh).
func (r *Reader) load() error {
	if r.broadcast {
		return nil
	}
	t := atomic.LoadUint64(r.rcur)
	h := atomic.LoadUint64(r.wcur)
	switch {
	case t > h || h-t > r.length:
		return cursorError(t, h, r.length)
	case t < r.pub && !r.st.owns():
		// As for a Flock writer (Writer.load): readers only move the
		// read cursor forward.
		return wentBack("read", r.pub, t)
	}
	r.pos, r.headCache, r.pub = t, h, t
	return nil
}

// raced is Writer.raced for the read cursor.
func (r *Reader) raced() error {
	pub := r.pub
	t := atomic.LoadUint64(r.rcur)
	r.load()
	return r.raceOrDamage("read", pub, t, errReadRace)
}

// refresh reloads the write cursor; ErrEmpty if nothing is past pos, or
// io.EOF if moreover the stream ended.
func (r *Reader) refresh() error {
	// The end mark first: the writer stores it after its last item's
	// write cursor, so with the mark set the cursor loaded next covers
	// every item of the stream.
	e := atomic.LoadUint64(r.end)
	h := atomic.LoadUint64(r.wcur)
	if r.broadcast {
		if h < r.headCache {
			return wentBack("write", r.headCache, h)
		}
	} else if h < r.pos || h-r.pos > r.length {
		// Damage, if the shared cursors disagree too; else the reader's
		// copy is wrong, which only misuse by two goroutines does.
		if !r.sound() {
			return errOverwritten
		}
		if t := atomic.LoadUint64(r.rcur); t > h || h-t > r.length {
			return cursorError(t, h, r.length)
		}
		return r.raced()
	}
	r.headCache = h
	if r.pos >= h {
		if e != 0 {
			return io.EOF
		}
		return ErrEmpty
	}
	return nil
}

// readOne reads the item at pos: into dst, or as a uint64 if asUint. On
// success it moves pos past the item; the caller publishes pos with
// release. An item that does not fit (ErrRange, io.ErrShortBuffer) stays
// unread. In Broadcast mode a slot is read between two loads of its sequence
// number, and an item overwritten meanwhile is reported as errStale, never
// returned.
func (r *Reader) readOne(dst []byte, asUint bool) (v uint64, n int, err error) {
	if r.pos >= r.headCache {
		if err := r.refresh(); err != nil {
			return 0, 0, err
		}
	}
	if !r.sound() {
		// A file zeroed under the reader would otherwise hand out its
		// zeroed slots as empty items.
		return 0, 0, errOverwritten
	}
	s := r.slot(r.pos)
	var seq uint64
	if r.broadcast {
		seq = atomic.LoadUint64(seqOf(s))
		if seq != 2*r.pos+2 {
			return 0, 0, r.stale(seq)
		}
	}
	l := r.itemLen(s)
	n = int(min(l, uint32(r.itemSize)))
	switch {
	case l > uint32(r.itemSize):
		err = corruptf("item %d has length %d, item size is %d", r.pos, l, r.itemSize)
	case asUint:
		var ok bool
		if v, ok = getUint(r.item(s, n)); !ok {
			err = fmt.Errorf("%w: item %d has %d bytes that do not hold a uint64", ErrRange, r.pos, n)
		}
	case n > len(dst):
		err = fmt.Errorf("%w: item of %d bytes, buffer of %d", io.ErrShortBuffer, n, len(dst))
	default:
		copy(dst, r.item(s, n))
	}
	if r.broadcast {
		loadFence(&r.fence)
		if atomic.LoadUint64(seqOf(s)) != seq {
			return 0, 0, errStale
		}
	}
	if err != nil {
		return 0, 0, err
	}
	r.pos++
	return v, n, nil
}

// getUints is readOne for a batch from a Queue buffer: it reads a stretch
// of ready 8-byte items in a tight loop, so that the loads from
// consecutive slots overlap, and leaves any other item to readOne. It
// returns how many it read.
func (r *Reader) getUints(vs []uint64) (int, error) {
	got := 0
	for got < len(vs) {
		if r.pos >= r.headCache {
			if err := r.refresh(); err != nil {
				return got, err
			}
		}
		k := got + int(min(r.headCache-r.pos, uint64(len(vs)-got)))
		if r.itemSize < 8 {
			// No valid item is 8 bytes long: each goes the slow way,
			// which checks and decodes any length.
			for ; got < k; got++ {
				v, _, err := r.readOne(nil, true)
				if err != nil {
					return got, err
				}
				vs[got] = v
			}
			continue
		}
		// Walk the slots by address, a run up to the ring's end at a
		// time; an item of another length than 8 goes the slow way.
		for got < k {
			idx := r.index(r.pos)
			run := int(min(uint64(k-got), r.length-idx))
			step, lenOff, dataOff := r.slotSize, r.lenOff, r.dataOff // locals: the stores to vs could alias r
			p := unsafe.Add(r.base, headerSize+uintptr(idx)*step)
			out := vs[got : got+run]
			n := 0
			for ; n < len(out) && *(*uint32)(unsafe.Add(p, lenOff)) == 8; n++ {
				out[n] = binary.BigEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(p, dataOff)), 8))
				p = unsafe.Add(p, step)
			}
			got += n
			r.pos += uint64(n)
			if n < run {
				v, _, err := r.readOne(nil, true) // checks and decodes any length
				if err != nil {
					return got, err
				}
				vs[got] = v
				got++
			}
		}
	}
	return got, nil
}

// stale classifies a Broadcast slot whose sequence number is not the one
// item pos would have: a later item (overwritten: errStale), or an earlier
// one, which no valid buffer can hold once the write cursor is past pos.
func (r *Reader) stale(seq uint64) error {
	if seq < 2*r.pos+2 {
		return corruptf("slot of item %d holds sequence %d", r.pos, seq)
	}
	return errStale
}

// skip moves a Broadcast reader that was overrun to the oldest item still
// valid, counts what it lost, and returns the OverrunError to report.
func (r *Reader) skip() error {
	h := atomic.LoadUint64(r.wcur)
	next := r.pos + 1
	if h > r.length && h-r.length > next {
		next = h - r.length
	}
	if next > h {
		return corruptf("write cursor %d is behind item %d that was overwritten", h, r.pos)
	}
	lost := next - r.pos
	r.pos, r.headCache = next, h
	r.lost.Add(lost)
	return &OverrunError{Lost: lost}
}

// free publishes a Queue reader's cursor, freeing the slots it read, with
// one compare-and-swap from where this handle left it, and has the
// strategy wake writers that sleep. Like Writer.publish it refuses
// (raced) to move a cursor that moved meanwhile, or past the write
// cursor it last saw.
func (r *Reader) free() error {
	if r.broadcast {
		return nil
	}
	if r.pos < r.pub || r.pos > r.headCache || !atomic.CompareAndSwapUint64(r.rcur, r.pub, r.pos) {
		return r.raced()
	}
	r.pub = r.pos
	r.st.moved(&r.handle, roomWait)
	return nil
}

// rop is one read operation, carried through retries by the Wait forms.
type rop struct {
	kind uint8 // opUint, opBytes, opUints or opBytesMany
	dst  []byte
	vs   []uint64
	bufs [][]byte
	v    uint64 // opUint's item
	size int    // opBytes's item length
	n    int    // items read
}

// wants reports whether op asks for at least one item: a batch into an
// empty slice is done at once, whether or not the buffer is empty.
func (op *rop) wants() bool {
	switch op.kind {
	case opUints:
		return len(op.vs) > 0
	case opBytesMany:
		return len(op.bufs) > 0
	}
	return true
}

// try makes one attempt at op with the ring locked: it reads what is ready
// (up to what op asks for) and publishes the new read cursor once. A batch
// stops without an error at an item it cannot return, so that the next
// call reports it; a batch that read nothing reports it now, ErrEmpty
// included.
func (r *Reader) try(op *rop) error {
	var err error
	got := 0
	switch op.kind {
	case opUint:
		if op.v, _, err = r.readOne(nil, true); err == nil {
			got = 1
		}
	case opBytes:
		if _, op.size, err = r.readOne(op.dst, false); err == nil {
			got = 1
		}
	case opUints:
		if !r.broadcast {
			got, err = r.getUints(op.vs)
			break
		}
		for got < len(op.vs) {
			var v uint64
			if v, _, err = r.readOne(nil, true); err != nil {
				break
			}
			op.vs[got] = v
			got++
		}
	case opBytesMany:
		for got < len(op.bufs) {
			b := op.bufs[got]
			var k int
			if _, k, err = r.readOne(b[:cap(b)], false); err != nil {
				break
			}
			op.bufs[got] = b[:k]
			got++
		}
	}
	switch {
	case got > 0:
		err = nil
	case err == errStale:
		err = r.skip()
	}
	if got > 0 {
		if ferr := r.free(); ferr != nil {
			op.n = 0
			return ferr
		}
	}
	if r.broadcast {
		r.posSnap.Store(r.pos)
	}
	op.n = got
	return err
}

// stuck reports, without taking the ring, that a Queue buffer is empty
// right now and op asks for an item (a batch into an empty slice is done
// at once), and the write cursor to wait on. (A Broadcast reader's cursor
// is its own, guarded by the strategy, so it always takes the ring.)
func (r *Reader) stuck(op *rop) (bool, uint64) {
	if r.broadcast {
		return false, 0
	}
	t := atomic.LoadUint64(r.rcur) // first: the write cursor only grows past it
	return op.wants() && atomic.LoadUint64(r.wcur) == t && atomic.LoadUint64(r.end) == 0 && r.sound(), t
}

// do runs op: once with a nil ctx, otherwise until it reads something,
// waiting for items in between.
func (r *Reader) do(ctx context.Context, name string, op *rop) error {
	err := r.run(ctx, dataWait, ErrEmpty,
		func() (bool, uint64) { return r.stuck(op) },
		func() (uint64, error) { err := r.try(op); return r.headCache, err })
	return r.wrap(name, err)
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
	if r.fast {
		// The Atomic Queue path for an 8-byte item: what refresh, readOne
		// and release do, inline. Anything unusual takes the long way.
		n := r.pos
		if n >= r.headCache {
			h := atomic.LoadUint64(r.wcur)
			if h == n && atomic.LoadUint64(r.end) == 0 {
				return 0, ErrEmpty
			}
			if h-n <= r.length {
				r.headCache = h
			}
		}
		s := r.slot(n)
		if n < r.headCache && *(*uint32)(unsafe.Add(s, queueLen)) == 8 {
			v := binary.BigEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(s, r.dataOff)), 8))
			r.pos = n + 1
			if !atomic.CompareAndSwapUint64(r.rcur, n, n+1) {
				return 0, r.wrap("pop", r.raced())
			}
			r.pub = n + 1
			if atomic.LoadUint32(r.roomWaiters) != 0 {
				r.wakeNow(roomWait)
			}
			return v, nil
		}
	}
	op := rop{kind: opUint}
	err := r.do(nil, "pop", &op)
	return op.v, err
}

// PopWait is Pop that waits for an item while the buffer is empty, until
// ctx is done (it then returns ctx's error, wrapped). With ctx already done
// it still returns an item that is ready.
func (r *Reader) PopWait(ctx context.Context) (uint64, error) {
	if r.fast {
		// Poll through Pop's inline path before the wait machinery.
		v, err := r.Pop()
		for i := 0; err == ErrEmpty && r.fast && i < spinCount(r.spin); i++ {
			v, err = r.Pop()
		}
		if err != ErrEmpty {
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
	err := r.do(nil, "pop", &op)
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
	err := r.do(nil, "pop", &op)
	return op.n, err
}

// PopIntoWait is PopInto that waits while the buffer is empty until at
// least one item is read or ctx is done. With ctx already done it still
// reads the items that are ready.
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
	err := r.do(nil, "pop", &op)
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
// them in a new slice; with none ready it returns an empty slice and nil.
// Having read some items, it stops without an error at one it cannot
// return (one that does not hold a uint64, or in Broadcast mode one that
// was overwritten), which the next read reports; if the first is such an
// item it reports it now. n <= 0 returns an empty slice (or ErrClosed).
// PopInto does the same without allocating.
func (r *Reader) PopMany(n int) ([]uint64, error) {
	if n <= 0 {
		if err := r.st.admit(&r.handle); err != nil {
			return nil, r.wrap("pop", err)
		}
		r.st.dismiss()
		return []uint64{}, nil
	}
	op := rop{kind: opUints}
	err := r.run(nil, dataWait, ErrEmpty,
		func() (bool, uint64) { return r.stuck(&op) },
		func() (uint64, error) {
			op.vs = make([]uint64, min(n, r.available()))
			return 0, r.try(&op)
		})
	if err != nil && err != ErrEmpty {
		return op.vs[:op.n], r.wrap("pop", err)
	}
	if op.vs == nil {
		op.vs = []uint64{}
	}
	return op.vs[:op.n], nil
}

// Peek gives zero-copy access to the next item of a Queue buffer: it
// returns the item's bytes in place, without copying and without consuming
// it; Release consumes it. It returns ErrEmpty at once when there is nothing
// to read.
//
// The rules: one peek at a time per Reader; until Release, the Reader's
// other reading calls return an error matching ErrBusy, and with the Flock
// strategy the buffer stays locked for every other handle, in this process
// or another (a call on another handle in the same goroutine would wait
// for ever), so keep it short. The slice must not be used, and must not be
// written, after Release or Close. Broadcast buffers do not support
// zero-copy reads (ErrUnsupported): their items can be overwritten while
// being read.
func (r *Reader) Peek() ([]byte, error) {
	return r.peekWait(nil)
}

// PeekWait is Peek that waits for an item while the buffer is empty, until
// ctx is done. With ctx already done it still peeks at an item that is
// ready.
func (r *Reader) PeekWait(ctx context.Context) ([]byte, error) {
	return r.peekWait(ctx)
}

func (r *Reader) peekWait(ctx context.Context) ([]byte, error) {
	var p []byte
	probe := rop{kind: opUint} // one item: stuck only asks whether the buffer is empty
	err := r.run(ctx, dataWait, ErrEmpty,
		func() (bool, uint64) { return r.stuck(&probe) },
		func() (uint64, error) {
			if r.broadcast {
				return 0, errZeroCopyB
			}
			if r.pos >= r.headCache {
				if err := r.refresh(); err != nil {
					return r.headCache, err
				}
			}
			if !r.sound() {
				return 0, errOverwritten
			}
			s := r.slot(r.pos)
			l := r.itemLen(s)
			if l > uint32(r.itemSize) {
				return 0, corruptf("item %d has length %d, item size is %d", r.pos, l, r.itemSize)
			}
			r.lend() // the ring stays taken until Release
			p = r.item(s, int(l))
			return 0, nil
		})
	return p, r.wrap("peek", err)
}

// Release consumes the item returned by Peek, freeing its slot.
func (r *Reader) Release() error {
	return r.wrap("release", r.finish(func() error {
		r.pos++
		return r.free()
	}))
}

// available returns how many items the reader could read now, at most
// Length.
func (r *Reader) available() int {
	if !r.broadcast {
		return r.unread()
	}
	// The cursor is the reader's own, and with Flock guarded by the
	// strategy, which another goroutine may hold for long: read the copy
	// the last operation left.
	return r.behind(r.posSnap.Load())
}

// behind returns how many items a Broadcast reader at pos could read now,
// at most Length.
func (r *Reader) behind(pos uint64) int {
	h := atomic.LoadUint64(r.wcur)
	if h <= pos {
		return 0
	}
	return int(min(h-pos, r.length))
}

// Len returns the number of items this reader could read now: unread items
// in Queue mode, items past this reader's cursor (at most Length) in
// Broadcast mode. It returns 0 after Close. The answer may be stale as soon
// as it is returned.
func (r *Reader) Len() int { return r.look(r.available) }

// Lost returns how many items this reader has skipped, in total, because
// the writer overwrote them first (Broadcast mode; always 0 in Queue mode).
func (r *Reader) Lost() uint64 { return r.lost.Load() }

// Cap returns the buffer's Length: the number of slots.
func (r *Reader) Cap() int { return int(r.length) }

// ItemSize returns the largest item the buffer holds, in bytes.
func (r *Reader) ItemSize() int { return r.itemSize }

// Name returns the buffer's name.
func (r *Reader) Name() string { return r.name }

// Close detaches the reader: it gives up its role, drops an outstanding
// peek unconsumed, unmaps the buffer and closes its file, and returns the
// first error. A Queue reader's position stays in the buffer for the next
// reader. Close is idempotent; other methods return ErrClosed afterwards.
// With Flock, Close ends the waits of the Reader's other goroutines.
func (r *Reader) Close() error { return r.close() }
