package scb

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Writer puts items into a buffer. Get one from Create or OpenWriter.
//
// A Writer of the Atomic strategy must be used by one goroutine at a time
// (Close included); one of the Flock strategy is safe for concurrent use.
type Writer struct {
	b        *buffer // nil once closed
	st       strategy
	shared   bool // st.shared(): lock and reload around every operation
	name     string
	length   int
	itemSize int

	life    sync.RWMutex // Flock: operations hold it for reading, Close for writing
	closing atomic.Bool  // Flock: set by Close to end waits

	head      uint64 // the next item number to write
	tailCache uint64 // Queue: the read cursor as last seen
}

func newWriter(b *buffer) (*Writer, error) {
	st, err := newStrategy(b, roleWriter)
	if err != nil {
		return nil, err
	}
	w := &Writer{b: b, st: st, shared: st.shared(), name: b.name, length: int(b.length), itemSize: b.itemSize}
	if err := w.load(); err != nil {
		st.release()
		return nil, err
	}
	return w, nil
}

// load reads the shared cursors into the writer's copies.
func (w *Writer) load() error {
	b := w.b
	if b.broadcast {
		w.head = atomic.LoadUint64(b.head)
		return nil
	}
	t := atomic.LoadUint64(b.tail)
	h := atomic.LoadUint64(b.head)
	if t > h || h-t > b.length {
		return cursorError(t, h, b.length)
	}
	w.head, w.tailCache = h, t
	return nil
}

// hold keeps a Flock writer from being closed until unhold.
func (w *Writer) hold() error {
	if w.shared {
		w.life.RLock()
		if w.b == nil {
			w.life.RUnlock()
			return ErrClosed
		}
		return nil
	}
	if w.b == nil {
		return ErrClosed
	}
	return nil
}

func (w *Writer) unhold() {
	if w.shared {
		w.life.RUnlock()
	}
}

// lock takes the strategy's lock and reloads the cursors (Flock only).
func (w *Writer) lock() error {
	if !w.shared {
		return nil
	}
	if err := w.st.lock(); err != nil {
		return err
	}
	if err := w.load(); err != nil {
		w.st.unlock()
		return err
	}
	return nil
}

func (w *Writer) unlock() {
	if w.shared {
		w.st.unlock()
	}
}

// enter is hold then lock; exit undoes it.
func (w *Writer) enter() error {
	if err := w.hold(); err != nil {
		return err
	}
	if err := w.lock(); err != nil {
		w.unhold()
		return err
	}
	return nil
}

func (w *Writer) exit() {
	w.unlock()
	w.unhold()
}

func (w *Writer) wrap(op string, err error) error {
	if err == ErrFull {
		return err
	}
	return opError(op, w.name, err)
}

// claim returns the slot for the next item, or ErrFull. In Broadcast mode it
// marks the slot as being written, so that a reader still reading the item
// it held sees the overwrite.
func (w *Writer) claim() (unsafe.Pointer, error) {
	b := w.b
	n := w.head
	if b.broadcast {
		s := b.slot(n)
		// A swap, not a store: it is a full barrier, so the mark is visible
		// before any byte of the new item is.
		atomic.SwapUint64((*uint64)(s), 2*n+1)
		return s, nil
	}
	if n-w.tailCache >= b.length {
		t := atomic.LoadUint64(b.tail)
		if t > n || n-t > b.length {
			return nil, cursorError(t, n, b.length)
		}
		w.tailCache = t
		if n-t >= b.length {
			return nil, ErrFull
		}
	}
	return b.slot(n), nil
}

// commit records the length of the item written into slot s and moves the
// local write cursor past it. Readers see it once publish runs.
func (w *Writer) commit(s unsafe.Pointer, n int) {
	*(*uint32)(unsafe.Add(s, slotLen)) = uint32(n)
	if w.b.broadcast {
		atomic.StoreUint64((*uint64)(s), 2*w.head+2)
	}
	w.head++
}

// publish makes every committed item visible with one atomic store, and
// wakes readers if any sleep.
func (w *Writer) publish() {
	b := w.b
	atomic.StoreUint64(b.head, w.head)
	if atomic.LoadUint32(b.dataWaiters) != 0 {
		wake(b.dataSeq)
	}
}

// putUint writes v big-endian into the next slot.
func (w *Writer) putUint(v uint64) error {
	b := w.b
	if b.itemSize < 8 && v>>(8*uint(b.itemSize)) != 0 {
		return fmt.Errorf("%w: %d does not fit in %d bytes", ErrRange, v, b.itemSize)
	}
	s, err := w.claim()
	if err != nil {
		return err
	}
	putUint(itemBytes(s, b.itemSize), v)
	w.commit(s, b.itemSize)
	return nil
}

// putBytes copies p into the next slot.
func (w *Writer) putBytes(p []byte) error {
	if len(p) > w.b.itemSize {
		return fmt.Errorf("%w: %d bytes, item size is %d", ErrTooLarge, len(p), w.b.itemSize)
	}
	s, err := w.claim()
	if err != nil {
		return err
	}
	copy(itemBytes(s, len(p)), p)
	w.commit(s, len(p))
	return nil
}

// Push writes v as one item: big-endian in ItemSize bytes, so 300 needs an
// ItemSize of at least 2 (ErrRange otherwise). It never blocks: with a Queue
// buffer holding Length unread items it returns ErrFull, unwrapped, and
// writes nothing. In Broadcast mode it overwrites the oldest item instead.
func (w *Writer) Push(v uint64) error {
	if err := w.enter(); err != nil {
		return w.wrap("push", err)
	}
	err := w.putUint(v)
	if err == nil {
		w.publish()
	}
	w.exit()
	if err != nil {
		return w.wrap("push", err)
	}
	return nil
}

// PushBytes writes p as one item. p may be shorter than ItemSize (the
// length is kept); longer is ErrTooLarge. Like Push it never blocks and
// returns ErrFull when a Queue buffer is full.
func (w *Writer) PushBytes(p []byte) error {
	if err := w.enter(); err != nil {
		return w.wrap("push", err)
	}
	err := w.putBytes(p)
	if err == nil {
		w.publish()
	}
	w.exit()
	if err != nil {
		return w.wrap("push", err)
	}
	return nil
}

// PushWait is Push that waits for room while a Queue buffer is full, until
// ctx is done (it then returns ctx's error, wrapped).
func (w *Writer) PushWait(ctx context.Context, v uint64) error {
	return w.pushWait(ctx, nil, v)
}

// PushBytesWait is PushBytes that waits for room while a Queue buffer is
// full, until ctx is done.
func (w *Writer) PushBytesWait(ctx context.Context, p []byte) error {
	if p == nil {
		p = []byte{}
	}
	return w.pushWait(ctx, p, 0)
}

// pushWait pushes p, or v if p is nil, waiting for room.
func (w *Writer) pushWait(ctx context.Context, p []byte, v uint64) error {
	if err := w.hold(); err != nil {
		return w.wrap("push", err)
	}
	defer w.unhold()
	var ws waitState
	defer ws.done()
	for {
		err := w.lock()
		if err != nil {
			return w.wrap("push", err)
		}
		if p != nil {
			err = w.putBytes(p)
		} else {
			err = w.putUint(v)
		}
		if err == nil {
			w.publish()
		}
		seen := w.tailCache
		w.unlock()
		if err != ErrFull {
			if err != nil {
				return w.wrap("push", err)
			}
			return nil
		}
		if err := w.b.await(ctx, &ws, roomWait, seen, &w.closing); err != nil {
			return w.wrap("push", err)
		}
	}
}

// Len returns the number of items not yet read: in Queue mode the unread
// items, in Broadcast mode the items held in the ring (at most Length). It
// returns 0 after Close. The answer may be stale as soon as it is returned.
func (w *Writer) Len() int {
	if w.hold() != nil {
		return 0
	}
	defer w.unhold()
	return w.b.unread()
}

// Cap returns the buffer's Length: the number of slots.
func (w *Writer) Cap() int { return w.length }

// ItemSize returns the largest item the buffer holds, in bytes.
func (w *Writer) ItemSize() int { return w.itemSize }

// Name returns the buffer's name.
func (w *Writer) Name() string { return w.name }

// Close detaches the writer: it gives up the writer role, unmaps the buffer
// and closes its file, and returns the first error. The buffer and its items
// stay for other processes until Remove. Close is idempotent; other methods
// return ErrClosed afterwards.
func (w *Writer) Close() error {
	if w.shared {
		w.closing.Store(true)
		w.life.RLock()
		if w.b != nil {
			w.b.wakeAll()
		}
		w.life.RUnlock()
		w.life.Lock()
		defer w.life.Unlock()
	}
	if w.b == nil {
		return nil
	}
	err := w.st.release()
	if cerr := w.b.close(); err == nil {
		err = cerr
	}
	w.b = nil
	if err != nil {
		return opError("close", w.name, err)
	}
	return nil
}
