package scb

import "github.com/sharedcbuff/scb/internal/layout"

// A cursor is a role's view of the ring in one mode: where its next item
// goes or comes from, which shared cursor it moves, and how what it did
// becomes visible to the other side. The roles (writer.go, reader.go) pick
// one when they open, by the buffer's mode, and never ask the mode again;
// the operations (ops.go) drive it; the handle (handle.go) reloads it
// after taking the side, and wakes the other side when it moved.
//
//	Queue mode (cursor_queue.go): the write cursor, which waits for the
//	read cursor to make room; the read cursor, shared by every Queue
//	reader and moved by one owner at a time (the side's lock holder).
//
//	Broadcast mode (cursor_broadcast.go): the write cursor, which
//	overwrites the oldest item and marks each slot's sequence word; a
//	reader's own private cursor, which reads a slot between two loads of
//	its sequence word and skips what was overwritten.
//
// Another way of reading a Queue (taking items under a lease, say) is
// another type and another field of readCursor. A cursor never calls back
// into the handle or the operations; it reports, and they act.

// reloader is what the handle needs of every mode's cursor.
type reloader interface {
	// reload refreshes the cursor's copies of the shared cursors. A
	// handle whose strategy owns its side calls it once, at attach; one
	// that does not, after every take: other handles move the side's
	// cursor between its operations.
	reload() error
	// close gives back what the cursor holds for the handle (a reader's
	// leases) when the handle closes, before it gives up its role.
	close()
}

// writeCursor is a writer's cursor: the cursor of the buffer's mode, one
// of its fields set. Its methods pass each call on to that one. It is not
// an interface because Go's escape analysis lets the arguments of an
// interface method escape to the heap, and the data calls take the
// caller's memory (a stack buffer must stay on the stack); here every call
// is static, and the choice a predictable branch.
type writeCursor struct {
	q *queueWriter
	b *broadcastWriter
}

// reloader returns the mode's cursor, for the handle to reload.
func (c *writeCursor) reloader() reloader {
	if c.q != nil {
		return c.q
	}
	return c.b
}

// full reports, without the side taken, that there is no room for an item
// right now, and the read cursor to wait on. (A Broadcast writer is never
// full.)
func (c writeCursor) full() (bool, mark) {
	if c.q != nil {
		return c.q.full()
	}
	return false, mark{}
}

// ring is the view of the buffer the cursor writes.
func (c writeCursor) ring() *layout.Ring {
	if c.q != nil {
		return &c.q.ring
	}
	return &c.b.ring
}

// putUint, putBytes and putUints write items into the slots past the
// write cursor, invisible until publish: ErrFull when there is no room,
// ErrRange or ErrTooLarge for an item that can never fit. putUints
// returns how many it wrote.
func (c writeCursor) putUint(v uint64) error {
	if c.q != nil {
		return c.q.putUint(v)
	}
	return c.b.putUint(v)
}

func (c writeCursor) putBytes(p []byte) error {
	if c.q != nil {
		return c.q.putBytes(p)
	}
	return c.b.putBytes(p)
}

func (c writeCursor) putUints(vs []uint64) (int, error) {
	if c.q != nil {
		return c.q.putUints(vs)
	}
	return c.b.putUints(vs)
}

// publish makes the items written visible with one store of the write
// cursor.
func (c writeCursor) publish() error {
	if c.q != nil {
		return c.q.publish()
	}
	return c.b.publish()
}

// seen returns the read cursor as last seen: what a writer waiting for
// room waits on.
func (c writeCursor) seen() mark {
	if c.q != nil {
		return mark{cursor: c.q.tail}
	}
	return mark{}
}

// claim returns the next slot for zero-copy writing; commit publishes its
// first n bytes as an item. (Queue mode only.)
func (c writeCursor) claim() ([]byte, error) {
	if c.q != nil {
		return c.q.claim()
	}
	return nil, errZeroCopyB
}

func (c writeCursor) commit(n int) error {
	if c.q != nil {
		return c.q.commit(n)
	}
	return errZeroCopyB
}

// end ends the stream after the items published.
func (c writeCursor) end() {
	if c.q != nil {
		c.q.end()
		return
	}
	c.b.end()
}

// unread returns the items not yet read: in Queue mode the unread ones,
// in Broadcast mode those held in the ring.
func (c writeCursor) unread() int {
	if c.q != nil {
		return c.q.unread()
	}
	return c.b.unread()
}

// readCursor is a reader's cursor: the cursor of the buffer's mode, one of
// its fields set, as for writeCursor.
type readCursor struct {
	q *queueReader
	b *broadcastReader
}

// reloader returns the mode's cursor, for the handle to reload.
func (c *readCursor) reloader() reloader {
	if c.q != nil {
		return c.q
	}
	return c.b
}

// empty reports, without the side taken, that there is nothing to read
// right now, and the write cursor to wait on. (A Broadcast reader's cursor
// is its own, guarded by the side: it cannot tell without it, and reports
// false.)
func (c readCursor) empty() (bool, mark) {
	if c.q != nil {
		return c.q.empty()
	}
	return false, mark{}
}

// begin starts an attempt.
func (c readCursor) begin() {
	if c.q != nil {
		c.q.begin()
	}
}

// readOne reads the next item into dst, or as a uint64 if asUint, and
// moves past it; readUints reads a batch of integer items. What they read
// is consumed only once settle publishes it. An item that does not fit
// (ErrRange, io.ErrShortBuffer) stays unread.
func (c readCursor) readOne(dst []byte, asUint bool) (uint64, int, error) {
	if c.q != nil {
		return c.q.readOne(dst, asUint)
	}
	return c.b.readOne(dst, asUint)
}

func (c readCursor) readUints(vs []uint64) (int, error) {
	if c.q != nil {
		return c.q.readUints(vs)
	}
	return c.b.readUints(vs)
}

// readBytes reads a batch of byte items, as PopBytesInto does.
func (c readCursor) readBytes(bufs [][]byte) (int, error) {
	if c.q != nil {
		return c.q.readBytes(bufs)
	}
	return c.b.readBytes(bufs)
}

// settle ends an attempt that read got items and stopped with err: it
// publishes what was read (freeing the slots, in Queue mode) and reports
// whether it stored the shared cursor, and the error the attempt returns
// (a Broadcast item overwritten while it was read becomes an overrun).
func (c readCursor) settle(got int, err error) (bool, error) {
	if c.q != nil {
		return c.q.settle(got, err)
	}
	return c.b.settle(got, err)
}

// seen returns what a reader waiting for items waits on: the write
// cursor as last seen (and a Queue reader's returns counter).
func (c readCursor) seen() mark {
	if c.q != nil {
		return c.q.seen()
	}
	return mark{cursor: c.b.head}
}

// pos returns the position of the first item of the last read.
func (c readCursor) pos() uint64 {
	if c.q != nil {
		return c.q.first
	}
	return c.b.first
}

// available returns how many items could be read now, at most Length.
func (c readCursor) available() int {
	if c.q != nil {
		return c.q.ring.Unread()
	}
	return c.b.available()
}

// peek returns the next item in place; release consumes it. (Queue mode
// only.)
func (c readCursor) peek() ([]byte, error) {
	if c.q != nil {
		return c.q.peek()
	}
	return nil, errZeroCopyB
}

func (c readCursor) release() (bool, error) {
	if c.q != nil {
		return c.q.release()
	}
	return false, errZeroCopyB
}

// take takes one item under a lease (Queue mode only) and returns its
// position and deliveries; leasedItem reads it; settleLease ends the
// lease, consuming the item (ack) or giving it back. settleLease reports
// whether the read cursor moved.
func (c readCursor) take() (uint64, int, error) {
	if c.q != nil {
		return c.q.take()
	}
	return 0, 0, errLeaseB
}

func (c readCursor) leasedItem(p uint64, d int, dst []byte, asUint bool) (uint64, int, error) {
	return c.q.leasedItem(p, d, dst, asUint)
}

func (c readCursor) settleLease(p uint64, d int, consume bool) (bool, error) {
	if c.q != nil {
		return c.q.settleLease(p, d, consume)
	}
	return false, errLeaseB
}

// lost returns how many items the reader skipped because they were
// overwritten (Broadcast mode).
func (c readCursor) lost() uint64 {
	if c.b != nil {
		return c.b.lostN.Load()
	}
	return 0
}
