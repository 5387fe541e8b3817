package scb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Reader takes items from a buffer. Get one from OpenReader.
//
// A Reader of the Atomic strategy must be used by one goroutine at a time
// (Close included); one of the Flock strategy is safe for concurrent use.
type Reader struct {
	b        *buffer // nil once closed
	st       strategy
	shared   bool // st.shared(): lock and reload around every operation
	name     string
	length   int
	itemSize int

	life    sync.RWMutex // Flock: operations hold it for reading, Close for writing
	closing atomic.Bool  // Flock: set by Close to end waits

	pos       uint64 // the next item number to read (Queue: the read cursor)
	headCache uint64 // the write cursor as last seen
	lost      atomic.Uint64
	fence     uint32 // scratch word for loadFence
}

// errStale is readOne's report that a Broadcast item was overwritten
// before or while it was read. The caller decides whether to skip now.
var errStale = errors.New("scb: item overwritten")

func newReader(b *buffer, skipBacklog bool) (*Reader, error) {
	st, err := newStrategy(b, roleReader)
	if err != nil {
		return nil, err
	}
	r := &Reader{b: b, st: st, shared: st.shared(), name: b.name, length: int(b.length), itemSize: b.itemSize}
	if b.broadcast {
		h := atomic.LoadUint64(b.head)
		switch {
		case skipBacklog:
			r.pos = h
		case h > b.length:
			r.pos = h - b.length
		}
		r.headCache = h
		return r, nil
	}
	if err := r.load(); err != nil {
		st.release()
		return nil, err
	}
	return r, nil
}

// load reads a Queue buffer's cursors into the reader's copies.
func (r *Reader) load() error {
	b := r.b
	t := atomic.LoadUint64(b.tail)
	h := atomic.LoadUint64(b.head)
	if t > h || h-t > b.length {
		return cursorError(t, h, b.length)
	}
	r.pos, r.headCache = t, h
	return nil
}

// hold keeps a Flock reader from being closed until unhold.
func (r *Reader) hold() error {
	if r.shared {
		r.life.RLock()
		if r.b == nil {
			r.life.RUnlock()
			return ErrClosed
		}
		return nil
	}
	if r.b == nil {
		return ErrClosed
	}
	return nil
}

func (r *Reader) unhold() {
	if r.shared {
		r.life.RUnlock()
	}
}

// lock takes the strategy's lock and, for a Queue buffer, reloads the
// cursors (Flock only). A Broadcast reader's cursor is its own.
func (r *Reader) lock() error {
	if !r.shared {
		return nil
	}
	if err := r.st.lock(); err != nil {
		return err
	}
	if !r.b.broadcast {
		if err := r.load(); err != nil {
			r.st.unlock()
			return err
		}
	}
	return nil
}

func (r *Reader) unlock() {
	if r.shared {
		r.st.unlock()
	}
}

func (r *Reader) enter() error {
	if err := r.hold(); err != nil {
		return err
	}
	if err := r.lock(); err != nil {
		r.unhold()
		return err
	}
	return nil
}

func (r *Reader) exit() {
	r.unlock()
	r.unhold()
}

func (r *Reader) wrap(op string, err error) error {
	if err == ErrEmpty {
		return err
	}
	return opError(op, r.name, err)
}

// refresh reloads the write cursor; ErrEmpty if nothing is past pos.
func (r *Reader) refresh() error {
	b := r.b
	h := atomic.LoadUint64(b.head)
	if b.broadcast {
		if h < r.headCache {
			return corruptf("write cursor went back from %d to %d", r.headCache, h)
		}
	} else if h < r.pos || h-r.pos > b.length {
		return cursorError(r.pos, h, b.length)
	}
	r.headCache = h
	if r.pos >= h {
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
	b := r.b
	if r.pos >= r.headCache {
		if err := r.refresh(); err != nil {
			return 0, 0, err
		}
	}
	s := b.slot(r.pos)
	var seq uint64
	if b.broadcast {
		seq = atomic.LoadUint64((*uint64)(s))
		if seq != 2*r.pos+2 {
			return 0, 0, r.stale(seq)
		}
	}
	n = itemLen(s)
	switch {
	case n > b.itemSize:
		err = corruptf("item %d has length %d, item size is %d", r.pos, n, b.itemSize)
	case asUint:
		var ok bool
		if v, ok = getUint(itemBytes(s, n)); !ok {
			err = fmt.Errorf("%w: item %d has %d bytes that do not hold a uint64", ErrRange, r.pos, n)
		}
	case n > len(dst):
		err = fmt.Errorf("%w: item of %d bytes, buffer of %d", io.ErrShortBuffer, n, len(dst))
	default:
		copy(dst, itemBytes(s, n))
	}
	if b.broadcast {
		loadFence(&r.fence)
		if atomic.LoadUint64((*uint64)(s)) != seq {
			return 0, 0, errStale
		}
	}
	if err != nil {
		return 0, 0, err
	}
	r.pos++
	return v, n, nil
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
	b := r.b
	h := atomic.LoadUint64(b.head)
	next := r.pos + 1
	if h > b.length && h-b.length > next {
		next = h - b.length
	}
	if next > h {
		return corruptf("write cursor %d is behind item %d that was overwritten", h, r.pos)
	}
	lost := next - r.pos
	r.pos, r.headCache = next, h
	r.lost.Add(lost)
	return &OverrunError{Lost: lost}
}

// release publishes a Queue reader's cursor, freeing the slots it read,
// and wakes writers if any sleep.
func (r *Reader) release() {
	b := r.b
	if b.broadcast {
		return
	}
	atomic.StoreUint64(b.tail, r.pos)
	if atomic.LoadUint32(b.roomWaiters) != 0 {
		wake(b.roomSeq)
	}
}

// pop reads one item under enter/exit.
func (r *Reader) pop(dst []byte, asUint bool) (uint64, int, error) {
	v, n, err := r.readOne(dst, asUint)
	if err == errStale {
		err = r.skip()
	}
	if err == nil {
		r.release()
	}
	return v, n, err
}

// Pop reads one item and decodes it as a big-endian unsigned integer (as
// Push wrote it). It never blocks: with nothing to read it returns ErrEmpty,
// unwrapped. An item that does not hold a uint64 gives ErrRange and stays
// unread. In Broadcast mode, a read that finds the reader was overrun skips
// to the oldest valid item and returns an error matching ErrOverrun (an
// [*OverrunError] saying how many items were lost); the next read returns
// that item.
func (r *Reader) Pop() (uint64, error) {
	if err := r.enter(); err != nil {
		return 0, r.wrap("pop", err)
	}
	v, _, err := r.pop(nil, true)
	r.exit()
	if err != nil {
		return 0, r.wrap("pop", err)
	}
	return v, nil
}

// PopBytes reads one item into dst and returns its length. It does not
// allocate. If dst is shorter than the item it returns io.ErrShortBuffer
// (wrapped) and the item stays unread. Otherwise it behaves as Pop: ErrEmpty
// when there is nothing to read, never blocking, and ErrOverrun in
// Broadcast mode after a skip.
func (r *Reader) PopBytes(dst []byte) (int, error) {
	if err := r.enter(); err != nil {
		return 0, r.wrap("pop", err)
	}
	_, n, err := r.pop(dst, false)
	r.exit()
	if err != nil {
		return 0, r.wrap("pop", err)
	}
	return n, nil
}

// PopWait is Pop that waits for an item while the buffer is empty, until
// ctx is done (it then returns ctx's error, wrapped).
func (r *Reader) PopWait(ctx context.Context) (uint64, error) {
	v, _, err := r.popWait(ctx, nil, true)
	return v, err
}

// PopBytesWait is PopBytes that waits for an item while the buffer is
// empty, until ctx is done.
func (r *Reader) PopBytesWait(ctx context.Context, dst []byte) (int, error) {
	_, n, err := r.popWait(ctx, dst, false)
	return n, err
}

func (r *Reader) popWait(ctx context.Context, dst []byte, asUint bool) (uint64, int, error) {
	if err := r.hold(); err != nil {
		return 0, 0, r.wrap("pop", err)
	}
	defer r.unhold()
	var ws waitState
	defer ws.done()
	for {
		if err := r.lock(); err != nil {
			return 0, 0, r.wrap("pop", err)
		}
		v, n, err := r.pop(dst, asUint)
		seen := r.headCache
		r.unlock()
		if err != ErrEmpty {
			if err != nil {
				return 0, 0, r.wrap("pop", err)
			}
			return v, n, nil
		}
		if err := r.b.await(ctx, &ws, dataWait, seen, &r.closing); err != nil {
			return 0, 0, r.wrap("pop", err)
		}
	}
}

// PopMany reads up to n items that are ready now, in order, and returns
// them; with none ready it returns an empty slice and nil. It stops early,
// without an error, at an item it cannot return (one that does not hold a
// uint64, or in Broadcast mode one that was overwritten): the next read
// reports it. n <= 0 returns an empty slice.
func (r *Reader) PopMany(n int) ([]uint64, error) {
	if err := r.enter(); err != nil {
		return nil, r.wrap("pop", err)
	}
	out := []uint64{}
	if n > 0 {
		out = make([]uint64, 0, min(n, r.available()))
	}
	var err error
	for len(out) < n {
		var v uint64
		v, _, err = r.readOne(nil, true)
		if err != nil {
			break
		}
		out = append(out, v)
	}
	switch {
	case len(out) > 0 || err == ErrEmpty:
		err = nil
	case err == errStale:
		err = r.skip()
	}
	if len(out) > 0 {
		r.release()
	}
	r.exit()
	if err != nil {
		return out, r.wrap("pop", err)
	}
	return out, nil
}

// available returns how many items the reader could read now, at most
// Length.
func (r *Reader) available() int {
	h := atomic.LoadUint64(r.b.head)
	if h <= r.pos {
		return 0
	}
	return int(min(h-r.pos, r.b.length))
}

// Len returns the number of items this reader could read now: unread items
// in Queue mode, items past this reader's cursor (at most Length) in
// Broadcast mode. It returns 0 after Close. The answer may be stale as soon
// as it is returned.
func (r *Reader) Len() int {
	if r.enter() != nil {
		return 0
	}
	defer r.exit()
	return r.available()
}

// Lost returns how many items this reader has skipped, in total, because
// the writer overwrote them first (Broadcast mode; always 0 in Queue mode).
func (r *Reader) Lost() uint64 { return r.lost.Load() }

// Cap returns the buffer's Length: the number of slots.
func (r *Reader) Cap() int { return r.length }

// ItemSize returns the largest item the buffer holds, in bytes.
func (r *Reader) ItemSize() int { return r.itemSize }

// Name returns the buffer's name.
func (r *Reader) Name() string { return r.name }

// Close detaches the reader: it gives up its role, unmaps the buffer and
// closes its file, and returns the first error. A Queue reader's position
// stays in the buffer for the next reader. Close is idempotent; other
// methods return ErrClosed afterwards.
func (r *Reader) Close() error {
	if r.shared {
		r.closing.Store(true)
		r.life.RLock()
		if r.b != nil {
			r.b.wakeAll()
		}
		r.life.RUnlock()
		r.life.Lock()
		defer r.life.Unlock()
	}
	if r.b == nil {
		return nil
	}
	err := r.st.release()
	if cerr := r.b.close(); err == nil {
		err = cerr
	}
	r.b = nil
	if err != nil {
		return opError("close", r.name, err)
	}
	return nil
}
