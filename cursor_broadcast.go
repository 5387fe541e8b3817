package scb

import (
	"sync/atomic"
	"unsafe"

	"github.com/sharedcbuff/scb/internal/layout"
)

// Broadcast mode's cursors. The writer never waits: it overwrites the
// oldest item, marking each slot's sequence word odd while it writes the
// slot and even (2n+2 for item n) once item n is in it. Every reader has
// a private cursor, reads a slot between two loads of its sequence word
// (a seqlock), and skips what was overwritten before or while it read it,
// counting the items lost.

// broadcastWriter is a Broadcast writer's cursor.
type broadcastWriter struct {
	writeState
}

// reload reads the write cursor; as for a Queue writer, one that does not
// own its side finds it below its own copy only in a damaged file.
func (w *broadcastWriter) reload() error {
	h := atomic.LoadUint64(w.ring.WCur)
	if h < w.pub && !w.own {
		return wentBack("write", w.pub, h)
	}
	w.head, w.pub = h, h
	return nil
}

// close has nothing to give back.
func (w *broadcastWriter) close() {}

// next returns the slot for the next item and marks it as being written,
// so that a reader still reading the item it held sees the overwrite.
func (w *broadcastWriter) next() unsafe.Pointer {
	n := w.head
	s := w.ring.Slot(n)
	// The mark must be visible before any byte of the new item is. A
	// swap is a full barrier where it is one instruction (x86, arm64
	// with LSE); as an LL/SC loop (arm64 v8.0) its store only releases,
	// so the load after it, an acquire, keeps the item's stores behind.
	atomic.SwapUint64(layout.Seq(s), 2*n+1)
	atomic.LoadUint64(layout.Seq(s))
	return s
}

// fill records the length of the item written into slot s, marks the
// slot as holding item head, and moves the local write cursor past it.
func (w *broadcastWriter) fill(s unsafe.Pointer, n int) {
	w.ring.SetItemLen(s, n)
	atomic.StoreUint64(layout.Seq(s), 2*w.head+2)
	w.head++
}

func (w *broadcastWriter) putUint(v uint64) error {
	if err := w.checkUint(v); err != nil {
		return err
	}
	s := w.next()
	layout.PutUint(w.ring.Item(s, w.ring.ItemSize), v)
	w.fill(s, w.ring.ItemSize)
	return nil
}

func (w *broadcastWriter) putBytes(p []byte) error {
	if err := w.checkBytes(len(p)); err != nil {
		return err
	}
	s := w.next()
	copy(w.ring.Item(s, len(p)), p)
	w.fill(s, len(p))
	return nil
}

func (w *broadcastWriter) putUints(vs []uint64) (int, error) {
	for i, v := range vs {
		if err := w.putUint(v); err != nil {
			return i, err
		}
	}
	return len(vs), nil
}

// publish moves the write cursor to head; it refuses (raced) a cursor
// that moved meanwhile.
func (w *broadcastWriter) publish() error {
	if !w.store() {
		pub := w.pub
		h := atomic.LoadUint64(w.ring.WCur)
		w.reload()
		return raceOrDamage(&w.ring, "write", pub, h, errWriteRace)
	}
	return nil
}

// unread returns the items held in the ring, at most Length.
func (w *broadcastWriter) unread() int {
	return int(min(atomic.LoadUint64(w.ring.WCur), w.ring.Length))
}

// broadcastReader is a Broadcast reader's private cursor.
type broadcastReader struct {
	readState
	lostN atomic.Uint64
	snap  atomic.Uint64 // pos as of the last operation, for available, where the reader has no holder line
	fence uint32        // scratch word for loadFence
	hold  holder        // the reader's holder line, where Stat finds its progress
}

// newBroadcastReader starts a reader at the oldest item the ring holds,
// or, with skipBacklog, at the next item written.
func newBroadcastReader(ring layout.Ring, own, skipBacklog bool) *broadcastReader {
	r := &broadcastReader{readState: readState{ring: ring, own: own}}
	h := atomic.LoadUint64(ring.WCur)
	switch {
	case skipBacklog:
		r.pos = h
	case h > ring.Length:
		r.pos = h - ring.Length
	}
	r.head = h
	r.snap.Store(r.pos)
	return r
}

// reload has nothing to do: the cursor is the reader's own, and it reloads
// the write cursor when it runs out of items (refresh).
func (r *broadcastReader) reload() error { return nil }

// close has nothing to give back.
func (r *broadcastReader) close() {}

// refresh reloads the write cursor; ErrEmpty if nothing is past pos, or
// io.EOF if moreover the stream ended.
func (r *broadcastReader) refresh() error {
	e := r.end() // first, as queueReader.refresh says
	h := atomic.LoadUint64(r.ring.WCur)
	if h < r.head {
		return wentBack("write", r.head, h)
	}
	return r.caughtUp(e, h)
}

// readOne reads the slot of item pos between two loads of its sequence
// word; an item overwritten meanwhile is reported as errStale, never
// returned.
func (r *broadcastReader) readOne(dst []byte, asUint bool) (uint64, int, error) {
	if r.pos >= r.head {
		if err := r.refresh(); err != nil {
			return 0, 0, err
		}
	}
	if !r.ring.Sound() {
		return 0, 0, errOverwritten
	}
	s := r.ring.Slot(r.pos)
	seq := atomic.LoadUint64(layout.Seq(s))
	if seq != 2*r.pos+2 {
		return 0, 0, r.stale(seq)
	}
	v, n, err := r.decode(s, dst, asUint)
	loadFence(&r.fence)
	if atomic.LoadUint64(layout.Seq(s)) != seq {
		return 0, 0, errStale
	}
	if err != nil {
		return 0, 0, err
	}
	r.first = r.pos
	r.pos++
	return v, n, nil
}

func (r *broadcastReader) readUints(vs []uint64) (int, error) {
	first := r.pos
	for i := range vs {
		v, _, err := r.readOne(nil, true)
		if err != nil {
			if i > 0 {
				r.first = first
			}
			return i, err
		}
		vs[i] = v
	}
	r.first = first
	return len(vs), nil
}

// readBytes reads items into bufs, as PopBytesInto does.
func (r *broadcastReader) readBytes(bufs [][]byte) (int, error) {
	first := r.pos
	for i, b := range bufs {
		_, k, err := r.readOne(b[:cap(b)], false)
		if err != nil {
			if i > 0 {
				r.first = first
			}
			return i, err
		}
		bufs[i] = b[:k]
	}
	r.first = first
	return len(bufs), nil
}

// stale classifies a slot whose sequence number is not the one item pos
// would have: a later item (overwritten: errStale), or an earlier one,
// which no valid buffer can hold once the write cursor is past pos.
func (r *broadcastReader) stale(seq uint64) error {
	if seq < 2*r.pos+2 {
		return corruptf("slot of item %d holds sequence %d", r.pos, seq)
	}
	return errStale
}

// settle turns a stale first read into an overrun, and records the
// position for available and in the reader's holder line (for Stat).
// Nothing shared moves.
func (r *broadcastReader) settle(got int, err error) (bool, error) {
	switch {
	case got > 0:
		err = nil
	case err == errStale:
		err = r.skip()
	}
	r.record()
	return false, err
}

// record notes the reader's position for available and for Stat, with
// one store: in the reader's holder line where it has one (the line is
// private to the reader; Stat reads it), else in snap.
func (r *broadcastReader) record() {
	if r.hold.tok != 0 {
		r.hold.progress(r.pos)
	} else {
		r.snap.Store(r.pos)
	}
}

// recorded returns the position record noted last.
func (r *broadcastReader) recorded() uint64 {
	if r.hold.tok != 0 {
		return r.hold.position()
	}
	return r.snap.Load()
}

// skip moves a reader that was overrun to the oldest item still valid,
// counts what it lost, and returns the OverrunError to report.
func (r *broadcastReader) skip() error {
	h := atomic.LoadUint64(r.ring.WCur)
	next := r.pos + 1
	if h > r.ring.Length && h-r.ring.Length > next {
		next = h - r.ring.Length
	}
	if next > h {
		return corruptf("write cursor %d is behind item %d that was overwritten", h, r.pos)
	}
	lost := next - r.pos
	r.pos, r.head = next, h
	r.hold.lost(r.lostN.Add(lost))
	return &OverrunError{Lost: lost}
}

// available returns how many items the reader could read now, at most
// Length. The cursor is the reader's own, and with Flock guarded by the
// handle, which another goroutine may hold for long: it reads the copy the
// last operation left.
func (r *broadcastReader) available() int {
	h := atomic.LoadUint64(r.ring.WCur)
	pos := r.recorded()
	if h <= pos {
		return 0
	}
	return int(min(h-pos, r.ring.Length))
}

// loadFence orders the plain loads that read a Broadcast item before the
// atomic load that re-checks the slot's sequence number. Go has no
// stand-alone fence; an atomic read-modify-write does it: on x86 it is a
// locked instruction, a full barrier; on arm64 its store releases, which
// keeps the item's loads before it, and the sequence load after it is an
// acquire, which a release cannot pass. The word is private to the reader,
// so it costs no cache traffic between cores.
//
//go:noinline
func loadFence(word *uint32) {
	atomic.AddUint32(word, 1)
}
