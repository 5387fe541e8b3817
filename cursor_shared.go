package scb

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"unsafe"

	"github.com/sharedcbuff/scb/internal/layout"
)

// What the cursors of both modes share (cursor_queue.go, cursor_broadcast.go):
// a writer's and a reader's positions, decoding an item, and telling a
// cursor that moved under a handle, by misuse, from a damaged file.

// errStale is a Broadcast reader's report that an item was overwritten
// before or while it was read. settle turns it into an overrun.
var errStale = errors.New("scb: item overwritten")

// errLeaseB is what leased reads return in Broadcast mode.
var errLeaseB = fmt.Errorf("%w: leased reads need a Queue buffer", ErrUnsupported)

// errNoHolders is what leased reads return where a Flock reader's death
// cannot be proved (no holder locks: every platform but Linux and Windows).
var errNoHolders = fmt.Errorf("%w: leased reads of a Flock buffer need holder locks, which this platform does not offer", ErrUnsupported)

// errZeroCopyB is what zero-copy calls return in Broadcast mode.
var errZeroCopyB = fmt.Errorf("%w: zero-copy access needs a Queue buffer", ErrUnsupported)

// writeState is what the writers of both modes keep: the write cursor as
// the writer moves it, and as it last stored or loaded it.
type writeState struct {
	ring layout.Ring // a copy of the handle's: the hot path reaches it without following a pointer
	own  bool        // the side is the handle's for its life (the strategy owns it)
	head uint64      // the next item number to write
	pub  uint64      // the write cursor as this handle last loaded or stored it
}

// checkUint and checkBytes refuse an item that can never fit, before a
// full buffer is reported.
func (w *writeState) checkUint(v uint64) error {
	if size := w.ring.ItemSize; size < 8 && v>>(8*uint(size)) != 0 {
		return w.outOfRange(v)
	}
	return nil
}

func (w *writeState) checkBytes(n int) error {
	switch {
	case w.ring.Fits(n):
	case n > w.ring.ItemSize:
		return w.tooLarge(n)
	default:
		return fmt.Errorf("%w: %d bytes, this buffer's items are all %d bytes (FixedSize)", ErrRange, n, w.ring.ItemSize)
	}
	return nil
}

func (w *writeState) outOfRange(v uint64) error {
	return fmt.Errorf("%w: %d does not fit in %d bytes", ErrRange, v, w.ring.ItemSize)
}

func (w *writeState) tooLarge(n int) error {
	return fmt.Errorf("%w: %d bytes, item size is %d", ErrTooLarge, n, w.ring.ItemSize)
}

// store publishes head with one compare-and-swap from where this handle
// left the write cursor, and reports false if the cursor moved meanwhile
// (the caller then reports raced).
func (w *writeState) store() bool {
	if w.head < w.pub || !atomic.CompareAndSwapUint64(w.ring.WCur, w.pub, w.head) {
		return false
	}
	w.pub = w.head
	return true
}

// end marks the stream ended after item head-1.
func (w *writeState) end() { atomic.StoreUint64(w.ring.End, w.head+1) }

// readState is what the readers of both modes keep.
type readState struct {
	ring  layout.Ring // a copy of the handle's: the hot path reaches it without following a pointer
	own   bool        // the side is the handle's for its life (the strategy owns it)
	pos   uint64      // the next item number to read
	head  uint64      // the write cursor as last seen
	first uint64      // the position of the first item of the last read (Reader.Pos)
	// oldRun is, for a reader that attached to a stream that had ended
	// with nothing left for it, that run + 1: the end of that run is not
	// this reader's, which waits for the next run. 0 otherwise.
	oldRun atomic.Uint32
}

// end loads the end-of-stream word as this reader sees it: 0 while it
// waits for the run after the ended one it attached to (oldRun). A writer
// that opens an ended stream again clears the word before it bumps the
// run, so the run is loaded first: once it moved on, the word loaded
// after it is the new run's.
func (r *readState) end() uint64 {
	if old := r.oldRun.Load(); old != 0 {
		if atomic.LoadUint32(r.ring.Run)+1 == old {
			return 0
		}
		r.oldRun.Store(0)
	}
	return atomic.LoadUint64(r.ring.End)
}

// joinRun decides, as the reader attaches, which run it belongs to: if the
// stream has ended, the reader has nothing left to read of it (unread
// reports whether it has), and no writer of that run is attached any more
// (writerHere, asked last: it asks the kernel), the next one. It reports
// whether it did.
func (r *readState) joinRun(unread bool, writerHere func() bool) bool {
	run := atomic.LoadUint32(r.ring.Run) // first: see end
	if atomic.LoadUint64(r.ring.End) == 0 || unread || writerHere() {
		return false
	}
	r.oldRun.Store(run + 1)
	return true
}

// awaitsRun reports whether the reader still waits for the run after the
// ended one it attached to.
func (r *readState) awaitsRun() bool {
	old := r.oldRun.Load()
	return old != 0 && atomic.LoadUint32(r.ring.Run)+1 == old
}

// reopen opens the stream again for a writer that attaches, if it ended:
// it clears the end word, then bumps the run (in that order: see
// readState.end).
func reopen(ring *layout.Ring) {
	if e := atomic.LoadUint64(ring.End); e != 0 && atomic.CompareAndSwapUint64(ring.End, e, 0) {
		atomic.AddUint32(ring.Run, 1)
	}
}

// caughtUp records h, the write cursor just loaded with the end mark e,
// and reports ErrEmpty if nothing is past pos, or io.EOF if moreover the
// stream ended.
func (r *readState) caughtUp(e, h uint64) error {
	r.head = h
	if r.pos >= h {
		return endOrEmpty(&r.ring, e, h)
	}
	return nil
}

// endOrEmpty is what a reader that read every item written (h) returns,
// from the end-of-stream word e loaded before h: io.EOF if the stream
// ended there, ErrEmpty if it is open, ErrCorrupt for a word no writer
// could have stored. A writer stores n+1 once its n-th item is published,
// and a writer that reopens the stream stores 0 before it writes, so while
// the word says n+1 the write cursor says n: a word past h is damage, and
// so is a word below h that is still there once h was loaded (below h and
// gone, a writer reopened the stream meanwhile). Except with the Flock
// strategy: there other writers still attached push on after one ended
// the stream, and their items are read before io.EOF.
func endOrEmpty(ring *layout.Ring, e, h uint64) error {
	switch {
	case e == 0:
		return ErrEmpty
	case e-1 == h, e-1 < h && ring.Shared:
		return io.EOF
	case e-1 < h && atomic.LoadUint64(ring.End) != e:
		return ErrEmpty
	}
	return corruptf("end-of-stream word %#x says the stream ended after %d items, but %d were written", e, e-1, h)
}

// decode reads the item in slot s, item pos, into dst or as a uint64
// (asUint), after checking its recorded length.
func (r *readState) decode(s unsafe.Pointer, dst []byte, asUint bool) (v uint64, n int, err error) {
	l := r.ring.ItemLen(s)
	n = int(min(l, uint32(r.ring.ItemSize)))
	switch {
	case l > uint32(r.ring.ItemSize):
		err = corruptf("item %d has length %d, item size is %d", r.pos, l, r.ring.ItemSize)
	case asUint:
		var ok bool
		if v, ok = layout.GetUint(r.ring.Item(s, n)); !ok {
			err = fmt.Errorf("%w: item %d has %d bytes that do not hold a uint64", ErrRange, r.pos, n)
		}
	case n > len(dst):
		err = fmt.Errorf("%w: item of %d bytes, buffer of %d", io.ErrShortBuffer, n, len(dst))
	default:
		copy(dst, r.ring.Item(s, n))
	}
	return v, n, err
}

// wentBack reports the cursor named ("write" or "read") found at now after
// the handle saw it at was: writers and readers only move their cursors
// forward, so that is damage.
func wentBack(cursor string, was, now uint64) error {
	return corruptf("the %s cursor went back from %d to %d: the file was truncated or overwritten", cursor, was, now)
}

// raceOrDamage classifies a cursor that was not where the handle left it
// when it came to publish it (cursor names it, was is the handle's copy,
// now the shared value): damage if the header lost its magic or the cursor
// is back at 0 after the handle saw it past 0, else race, misuse by two
// goroutines. Only 0 is sure: under misuse the handle's own copies are torn
// between goroutines, so a cursor below them proves nothing.
func raceOrDamage(ring *layout.Ring, cursor string, was, now uint64, race error) error {
	switch {
	case !ring.Sound():
		return errOverwritten
	case now == 0 && was > 0:
		return wentBack(cursor, was, 0)
	}
	return race
}

// errWriteRace and errReadRace are what raced reports when a cursor moved
// under a handle that owns its side (raceOrDamage).
var (
	errWriteRace = fmt.Errorf("%w: the write cursor moved under this Writer: an Atomic Writer used by two goroutines at once, or another process writing without the writer role; nothing was published", ErrBusy)
	errReadRace  = fmt.Errorf("%w: the read cursor moved under this Reader: an Atomic Reader used by two goroutines at once, or another process reading without the reader role; nothing was consumed", ErrBusy)
)
