package scb

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/sharedcbuff/scb/internal/layout"
)

// Queue mode's cursors. Items are consumed: the write cursor may run at
// most Length items ahead of the read cursor, which every Queue reader
// shares and which one owner at a time moves (the Atomic strategy's one
// reader, or the Flock side's lock holder). Each side publishes its
// cursor with one compare-and-swap from where its handle left it, so a
// handle misused by two goroutines, or damage, is refused there and never
// reaches the other processes.

// queueWriter is a Queue writer's cursor.
type queueWriter struct {
	writeState
	tail uint64 // the read cursor as last seen
}

// reload reads the shared cursors into the writer's copies. A writer
// that does not own its side loads under its lock, its goroutines one at a
// time, so its copy of the write cursor is one the shared cursor had:
// finding the cursor below it means the file was damaged (writers only
// move it forward). An owner loads only at attach and after misuse, whose
// torn copies prove nothing (raced has its check).
func (w *queueWriter) reload() error {
	t, h, err := loadCursors(&w.ring)
	switch {
	case err != nil:
		return err
	case h < w.pub && !w.own:
		return wentBack("write", w.pub, h)
	}
	w.head, w.tail, w.pub = h, t, h
	return nil
}

// loadCursors loads a Queue buffer's read and write cursors and checks that
// they are 0 to Length apart. (The caller has the side: the cursor it moves
// holds still; the other only moves towards it.)
func loadCursors(ring *layout.Ring) (t, h uint64, err error) {
	t = atomic.LoadUint64(ring.RCur)
	h = atomic.LoadUint64(ring.WCur)
	if t > h || h-t > ring.Length {
		return 0, 0, cursorError(t, h, ring.Length)
	}
	return t, h, nil
}

func (w *queueWriter) full() (bool, uint64) {
	h := atomic.LoadUint64(w.ring.WCur) // first: the read cursor only grows towards it
	t := atomic.LoadUint64(w.ring.RCur)
	return h-t == w.ring.Length && w.ring.Sound(), h - w.ring.Length
}

// next returns the slot for the next item, or ErrFull.
func (w *queueWriter) next() (unsafe.Pointer, error) {
	n := w.head
	if n-w.tail >= w.ring.Length {
		t := atomic.LoadUint64(w.ring.RCur)
		if t > n || n-t > w.ring.Length {
			return nil, w.badCursors(t)
		}
		w.tail = t
		if n-t >= w.ring.Length {
			return nil, ErrFull
		}
	}
	return w.ring.Slot(n), nil
}

// fill records the length of the item written into slot s and moves the
// local write cursor past it. Readers see it once publish runs.
func (w *queueWriter) fill(s unsafe.Pointer, n int) {
	w.ring.SetItemLen(s, n)
	w.head++
}

func (w *queueWriter) putUint(v uint64) error {
	if err := w.checkUint(v); err != nil {
		return err
	}
	s, err := w.next()
	if err == nil {
		layout.PutUint(w.ring.Item(s, w.ring.ItemSize), v)
		w.fill(s, w.ring.ItemSize)
	}
	return err
}

func (w *queueWriter) putBytes(p []byte) error {
	if err := w.checkBytes(len(p)); err != nil {
		return err
	}
	s, err := w.next()
	if err == nil {
		copy(w.ring.Item(s, len(p)), p)
		w.fill(s, len(p))
	}
	return err
}

// putUints finds the room once per stretch of free slots and fills them
// in a tight loop, so that the stores to consecutive slots overlap. It
// returns how many it wrote.
func (w *queueWriter) putUints(vs []uint64) (int, error) {
	done := 0
	for done < len(vs) {
		if err := w.checkUint(vs[done]); err != nil {
			// A value that can never fit is reported before a full buffer.
			return done, err
		}
		room := w.ring.Length - (w.head - w.tail)
		if room == 0 {
			if _, err := w.next(); err != nil { // reloads the read cursor
				return done, err
			}
			continue
		}
		k := done + int(min(room, uint64(len(vs)-done)))
		if w.ring.ItemSize == 8 {
			// Every value fits: walk the slots by address, a run up
			// to the ring's end at a time.
			for done < k {
				idx := w.ring.Index(w.head)
				run := int(min(uint64(k-done), w.ring.Length-idx))
				step, lenOff, dataOff := w.ring.SlotSize, w.ring.LenOff, w.ring.DataOff // locals: the stores below could alias w
				p := unsafe.Add(w.ring.Base, layout.HeaderSize+uintptr(idx)*step)
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
			if err := w.checkUint(v); err != nil {
				return done, err
			}
			s := w.ring.Slot(w.head)
			layout.PutUint(w.ring.Item(s, w.ring.ItemSize), v)
			w.fill(s, w.ring.ItemSize)
		}
	}
	return done, nil
}

// publish makes every item written visible by moving the write cursor
// from where this handle left it to head, in one compare-and-swap. It
// refuses (raced) to move a cursor that another goroutine or process moved
// meanwhile, or to publish more than the read cursor it last saw leaves
// room for: whatever two goroutines misusing one handle did to its
// copies, the shared cursors stay valid.
func (w *queueWriter) publish() error {
	if w.head-w.tail > w.ring.Length || !w.store() {
		return w.raced()
	}
	return nil
}

// badCursors reports a read cursor t that does not fit the writer's own
// write cursor: damage, if the shared cursors disagree too (ErrCorrupt);
// else the writer's copy is wrong, which only misuse by two goroutines
// does (raced).
func (w *queueWriter) badCursors(t uint64) error {
	h := atomic.LoadUint64(w.ring.WCur)
	switch {
	case !w.ring.Sound():
		return errOverwritten
	case t > h || h-t > w.ring.Length:
		return cursorError(t, h, w.ring.Length)
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
func (w *queueWriter) raced() error {
	pub := w.pub
	h := atomic.LoadUint64(w.ring.WCur)
	w.reload()
	return raceOrDamage(&w.ring, "write", pub, h, errWriteRace)
}

func (w *queueWriter) claim() ([]byte, error) {
	s, err := w.next()
	if err != nil {
		return nil, err
	}
	return w.ring.Item(s, w.ring.ItemSize), nil
}

func (w *queueWriter) commit(n int) error {
	if n < 0 {
		return fmt.Errorf("%w: negative length %d", ErrRange, n)
	}
	if err := w.checkBytes(n); err != nil {
		return err
	}
	w.fill(w.ring.Slot(w.head), n)
	return w.publish()
}

func (w *queueWriter) unread() int { return queueUnread(&w.ring) }

// queueUnread returns the unread items of a Queue buffer.
func queueUnread(ring *layout.Ring) int {
	t := atomic.LoadUint64(ring.RCur) // first: the write cursor only grows past it
	h := atomic.LoadUint64(ring.WCur)
	return int(min(h-t, ring.Length))
}

// queueReader is a Queue reader's cursor.
type queueReader struct {
	readState
	pub uint64 // the read cursor as this handle last loaded or stored it
}

// reload reads the shared cursors into the reader's copies.
func (r *queueReader) reload() error {
	t, h, err := loadCursors(&r.ring)
	switch {
	case err != nil:
		return err
	case t < r.pub && !r.own:
		// As for a writer (queueWriter.reload): readers only move the
		// read cursor forward.
		return wentBack("read", r.pub, t)
	}
	r.pos, r.head, r.pub = t, h, t
	return nil
}

func (r *queueReader) empty() (bool, uint64) {
	t := atomic.LoadUint64(r.ring.RCur) // first: the write cursor only grows past it
	return atomic.LoadUint64(r.ring.WCur) == t && atomic.LoadUint64(r.ring.End) == 0 && r.ring.Sound(), t
}

// refresh reloads the write cursor; ErrEmpty if nothing is past pos, or
// io.EOF if moreover the stream ended.
func (r *queueReader) refresh() error {
	// The end mark first: the writer stores it after its last item's
	// write cursor, so with the mark set the cursor loaded next covers
	// every item of the stream.
	e := atomic.LoadUint64(r.ring.End)
	h := atomic.LoadUint64(r.ring.WCur)
	if h < r.pos || h-r.pos > r.ring.Length {
		// Damage, if the shared cursors disagree too; else the reader's
		// copy is wrong, which only misuse by two goroutines does.
		if !r.ring.Sound() {
			return errOverwritten
		}
		if t := atomic.LoadUint64(r.ring.RCur); t > h || h-t > r.ring.Length {
			return cursorError(t, h, r.ring.Length)
		}
		return r.raced()
	}
	return r.caughtUp(e, h)
}

// at returns the slot of the next item, once there is one.
func (r *queueReader) at() (unsafe.Pointer, error) {
	if r.pos >= r.head {
		if err := r.refresh(); err != nil {
			return nil, err
		}
	}
	if !r.ring.Sound() {
		// A file zeroed under the reader would otherwise hand out its
		// zeroed slots as empty items.
		return nil, errOverwritten
	}
	return r.ring.Slot(r.pos), nil
}

func (r *queueReader) readOne(dst []byte, asUint bool) (uint64, int, error) {
	s, err := r.at()
	if err != nil {
		return 0, 0, err
	}
	v, n, err := r.decode(s, dst, asUint)
	if err != nil {
		return 0, 0, err
	}
	r.pos++
	return v, n, nil
}

// readUints reads a stretch of ready 8-byte items in a tight loop, so
// that the loads from consecutive slots overlap, and leaves any other
// item to readOne. It returns how many it read.
func (r *queueReader) readUints(vs []uint64) (int, error) {
	got := 0
	for got < len(vs) {
		if r.pos >= r.head {
			if err := r.refresh(); err != nil {
				return got, err
			}
		}
		k := got + int(min(r.head-r.pos, uint64(len(vs)-got)))
		if r.ring.ItemSize < 8 {
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
			idx := r.ring.Index(r.pos)
			run := int(min(uint64(k-got), r.ring.Length-idx))
			step, lenOff, dataOff := r.ring.SlotSize, r.ring.LenOff, r.ring.DataOff // locals: the stores to vs could alias r
			p := unsafe.Add(r.ring.Base, layout.HeaderSize+uintptr(idx)*step)
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

// settle frees the slots read, if any.
func (r *queueReader) settle(got int, err error) (bool, error) {
	if got == 0 {
		return false, err
	}
	if ferr := r.free(); ferr != nil {
		return false, ferr
	}
	return true, nil
}

// free publishes the reader's cursor, freeing the slots it read, with one
// compare-and-swap from where this handle left it. Like the writer's
// publish it refuses (raced) to move a cursor that moved meanwhile, or
// past the write cursor it last saw.
func (r *queueReader) free() error {
	if r.pos < r.pub || r.pos > r.head || !atomic.CompareAndSwapUint64(r.ring.RCur, r.pub, r.pos) {
		return r.raced()
	}
	r.pub = r.pos
	return nil
}

// raced is queueWriter.raced for the read cursor.
func (r *queueReader) raced() error {
	pub := r.pub
	t := atomic.LoadUint64(r.ring.RCur)
	r.reload()
	return raceOrDamage(&r.ring, "read", pub, t, errReadRace)
}

func (r *queueReader) peek() ([]byte, error) {
	s, err := r.at()
	if err != nil {
		return nil, err
	}
	l := r.ring.ItemLen(s)
	if l > uint32(r.ring.ItemSize) {
		return nil, corruptf("item %d has length %d, item size is %d", r.pos, l, r.ring.ItemSize)
	}
	return r.ring.Item(s, int(l)), nil
}

func (r *queueReader) release() error {
	r.pos++
	return r.free()
}
