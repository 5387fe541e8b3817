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
	// tailSeen is tail for full, which WaitAny runs outside the gate. It
	// lives apart from the cursor: on 386 the 64-bit atomics are calls
	// that let their argument escape, and a field's address would take
	// the cursor, and every item passed through it, to the heap.
	tailSeen *atomic.Uint64
}

// reload reads the shared cursors into the writer's copies. A writer
// that does not own its side loads under its lock, its goroutines one at a
// time, so its copy of the write cursor is one the shared cursor had:
// finding the cursor below it means the file was damaged (writers only
// move it forward). An owner loads only at attach and after misuse, whose
// torn copies prove nothing (raced has its check).
//
// A shared writer loads only the write cursor when the read cursor as
// last seen still leaves the write cursor in range: the read cursor only
// grows, so the old value understates the room, and next loads it again
// once the ring looks full. Readers move the read cursor on every item;
// not loading it keeps its line with them.
func (w *queueWriter) reload() error {
	if !w.own {
		h := atomic.LoadUint64(w.ring.WCur)
		if h < w.pub {
			return wentBack("write", w.pub, h)
		}
		if h-w.tail <= w.ring.Length {
			w.head, w.pub = h, h
			return nil
		}
	}
	t, h, err := loadCursors(&w.ring)
	switch {
	case err != nil:
		return err
	case h < w.pub && !w.own:
		return wentBack("write", w.pub, h)
	}
	w.head, w.tail, w.pub = h, t, h
	w.tailSeen.Store(t)
	return nil
}

// close has nothing to give back.
func (w *queueWriter) close() {}

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

func (w *queueWriter) full() (bool, mark) {
	h := atomic.LoadUint64(w.ring.WCur) // first: the read cursor only grows towards it
	if h-w.tailSeen.Load() < w.ring.Length {
		return false, mark{} // room, by the read cursor as last seen
	}
	t := atomic.LoadUint64(w.ring.RCur)
	return h-t == w.ring.Length && w.ring.Sound(), mark{cursor: h - w.ring.Length}
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
		w.tailSeen.Store(t)
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
				p := unsafe.Add(w.ring.Slots, uintptr(idx)*step)
				if w.ring.Fixed {
					// The slots are the items, back to back.
					d := unsafe.Slice((*[8]byte)(unsafe.Add(p, dataOff)), run)
					for i, v := range vs[done : done+run] {
						binary.BigEndian.PutUint64(d[i][:], v)
					}
				} else {
					for _, v := range vs[done : done+run] {
						*(*uint32)(unsafe.Add(p, lenOff)) = 8
						binary.BigEndian.PutUint64(unsafe.Slice((*byte)(unsafe.Add(p, dataOff)), 8), v)
						p = unsafe.Add(p, step)
					}
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

func (w *queueWriter) unread() int { return w.ring.Unread() }

// queueReader is a Queue reader's cursor. It reads one of two ways:
//
//   - the sole path: the Atomic strategy's one reader, while it holds no
//     lease and nothing is taken past the read cursor R or given back,
//     reads at R and moves R with one compare-and-swap from where it left
//     it, as Queue readers always did (Reader.Pop's inline path is this);
//   - the take protocol (cursor_take.go) every other time: Flock readers,
//     which take without a lock, and the Atomic reader while it holds
//     leases or finds items taken or returned.
type queueReader struct {
	readState // the sole path's position (pos) and the write cursor as last seen (head)
	taker
	pub       uint64        // sole path: R as this handle last loaded or stored it
	sole      bool          // the sole path is open
	held      int           // leases this handle holds, its Peek included
	moved     bool          // the last read moved R
	batchHead int           // returned items at the head of the last batch, each marked alone
	returnsAt atomic.Uint32 // the returns counter as the last attempt began
	peekAt    uint64        // the peeked item's position
	peekD     int           // and its deliveries
	peekSole  bool          // the Peek was made on the sole path
}

// reload reads the shared cursors into the reader's copies, for the sole
// path, at attach. A reader on the take protocol checks the cursors as it
// takes (they move under it: there is no lock to load them under).
func (r *queueReader) reload() error {
	if !r.own {
		return nil
	}
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

// attachTaker finishes attaching a reader to the take protocol with its
// token: the Atomic reader (all) takes back everything a reader before it
// left taken; a Flock reader asks the holders of what it finds taken.
func (r *queueReader) attachTaker(token uint16, fd uintptr, holders, all bool) {
	r.token, r.fd, r.holders = token, fd, holders
	r.rseen = atomic.LoadUint64(r.ring.RCur)
	r.returns.Store(atomic.LoadUint32(r.ring.Returns) - 1) // look for returned items once
	r.reclaim(all)
	r.checkSole()
}

// checkSole opens the sole path for the Atomic reader when nothing is
// leased or taken past R (then nothing can be returned either), and puts
// the sole path's copies where the cursors are.
func (r *queueReader) checkSole() {
	if !r.own || r.held > 0 {
		r.sole = false
		return
	}
	rr := atomic.LoadUint64(r.ring.RCur)
	if atomic.LoadUint64(r.ring.TCur) > rr {
		r.sole = false
		return
	}
	r.sole = true
	r.returns.Store(atomic.LoadUint32(r.ring.Returns))
	r.pos, r.pub, r.rseen = rr, rr, rr
	r.head = atomic.LoadUint64(r.ring.WCur)
}

// seen returns what a reader waiting for items waits on to move: the
// write cursor, and the returns counter.
func (r *queueReader) seen() mark {
	return mark{cursor: r.head, returns: r.returnsAt.Load()}
}

// readable reports, without the side taken, whether a read would find
// something now (WaitAny): an item nobody took, one given back, or the
// end of the stream. Unlike empty it does not count an item taken past
// the read cursor as something to read unless it was given back: a live
// holder's lease would make a waiter spin (a dead one's is taken back by
// sweep, which counts it as returned).
func (r *queueReader) readable() bool {
	rr := atomic.LoadUint64(r.ring.RCur)
	if max(atomic.LoadUint64(r.ring.TCur), rr) < atomic.LoadUint64(r.ring.WCur) || r.end() != 0 || !r.ring.Sound() {
		return true
	}
	if ret := atomic.LoadUint32(r.ring.Returns); ret != r.returns.Load() {
		// Something was given back since this reader last looked: look
		// as takeReturned does, and, finding nothing, note it as looked
		// at, as takeReturned does.
		if _, _, ok := r.nextReturned(rr, takenEnd(&r.ring, rr)); ok {
			return true
		}
		r.returns.Store(ret)
	}
	w := layout.State(atomic.LoadUint64(r.ring.State(rr)))
	return w.Of(rr, r.ring.Laps) && w.Kind() == layout.Returned
}

// empty reports, without the side taken, that nothing is untaken or
// returned right now. Only readers whose strategy locks (Flock where files
// lock) ask before an attempt; the others find out by attempting.
func (r *queueReader) empty() (bool, mark) {
	ret := atomic.LoadUint32(r.ring.Returns)
	rr := atomic.LoadUint64(r.ring.RCur) // first: the others only grow past it
	t := atomic.LoadUint64(r.ring.TCur)
	h := atomic.LoadUint64(r.ring.WCur)
	idle := max(t, rr) >= h && r.end() == 0 && ret == r.returns.Load() && r.ring.Sound()
	if idle && t > rr {
		// A returned item whose count a dying reader did not bump holds
		// the read cursor (takeReturned finds it there). Where Flock
		// readers take under the file lock (the only readers that look
		// before they attempt), an item taken while nobody holds the lock
		// is a dead reader's, which the attempt takes back.
		if w := layout.State(atomic.LoadUint64(r.ring.State(rr))); !r.holders || w.Of(rr, r.ring.Laps) && w.Kind() == layout.Returned {
			idle = false
		}
	}
	return idle, mark{cursor: h, returns: ret}
}

// refresh reloads the write cursor; ErrEmpty if nothing is past pos, or
// io.EOF if moreover the stream ended. (The sole path.)
func (r *queueReader) refresh() error {
	// The end mark first: the writer stores it after its last item's
	// write cursor, so with the mark set the cursor loaded next covers
	// every item of the stream.
	e := r.end()
	h := atomic.LoadUint64(r.ring.WCur)
	if h < r.pos || h-r.pos > r.ring.Length {
		// Damage, if the shared cursors disagree too; else the reader's
		// copy is wrong, which only misuse by two goroutines does.
		if !r.ring.Sound() {
			return errOverwritten
		}
		if t, h2, ok := apart(r.ring.RCur, r.ring.WCur, r.ring.Length); !ok {
			return cursorError(t, h2, r.ring.Length)
		}
		return r.raced()
	}
	return r.caughtUp(e, h)
}

// at returns the slot of the next item, once there is one. (The sole
// path.)
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

// begin starts an attempt: it notes the returns counter (what a wait
// would wait on besides the write cursor), forgets the last one's move,
// and, for a Flock reader, takes back what holders that are gone hold
// (sweep).
func (r *queueReader) begin() {
	if n := atomic.LoadUint32(r.ring.Returns); n != r.returnsAt.Load() {
		r.returnsAt.Store(n) // (a store is a locked exchange: only on change)
	}
	r.moved = false
	if !r.own {
		r.sweep()
	}
}

func (r *queueReader) readOne(dst []byte, asUint bool) (uint64, int, error) {
	if r.sole {
		s, err := r.at()
		if err != nil {
			return 0, 0, err
		}
		v, n, err := r.decode(s, dst, asUint)
		if err != nil {
			return 0, 0, err
		}
		r.first = r.pos
		r.pos++
		return v, n, nil
	}
	p, err := r.takeOne(false)
	if err != nil {
		return 0, 0, err
	}
	r.pos = p // for decode's messages
	v, n, err := r.decode(r.ring.Slot(p), dst, asUint)
	var moved bool
	var serr error
	if err != nil {
		moved, serr = r.unrun(p, 1, 0)
	} else {
		moved, serr = r.done(p, 1)
		r.first = p
	}
	r.moved = r.moved || moved
	if err == nil {
		err = serr
	}
	if err != nil {
		return 0, 0, err
	}
	return v, n, nil
}

// takeOne takes one item for a plain read or a lease: a returned one
// first, else the first untaken one.
func (r *queueReader) takeOne(lease bool) (uint64, error) {
	if p, _, ok := r.takeReturned(lease); ok {
		return p, nil
	}
	p, _, err := r.takeNew(1, lease)
	return p, err
}

// readUints reads a stretch of ready 8-byte items in a tight loop, so
// that the loads from consecutive slots overlap, and leaves any other
// item to readOne. It returns how many it read.
func (r *queueReader) readUints(vs []uint64) (int, error) {
	if !r.sole {
		return r.takeUints(vs)
	}
	start := r.pos
	got, err := r.soleUints(vs)
	if got > 0 {
		r.first = start
	}
	return got, err
}

// soleUints is readUints on the sole path.
func (r *queueReader) soleUints(vs []uint64) (int, error) {
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
		for got < k {
			n := r.walk(r.pos, vs[got:k])
			got += n
			r.pos += uint64(n)
			if got < k {
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

// walk reads 8-byte items from item p into out by slot address, a run up
// to the ring's end at a time, and stops at an item of another length. It
// returns how many it read.
func (r *queueReader) walk(p uint64, out []uint64) int {
	got := 0
	for got < len(out) {
		idx := r.ring.Index(p + uint64(got))
		run := int(min(uint64(len(out)-got), r.ring.Length-idx))
		step, lenOff, dataOff := r.ring.SlotSize, r.ring.LenOff, r.ring.DataOff // locals: the stores to out could alias r
		s := unsafe.Add(r.ring.Slots, uintptr(idx)*step)
		o := out[got : got+run]
		n := 0
		if r.ring.Fixed {
			if r.ring.ItemSize != 8 || !r.ring.Sound() {
				// No item is 8 bytes long; or the file was zeroed or
				// overwritten, which no length shows here: the way
				// of one item at a time reports it.
				break
			}
			// Every item is 8 bytes, with nothing between them.
			d := unsafe.Slice((*[8]byte)(unsafe.Add(s, dataOff)), run)
			for i := range o {
				o[i] = binary.BigEndian.Uint64(d[i][:])
			}
			got += run
			continue
		}
		for ; n < len(o) && *(*uint32)(unsafe.Add(s, lenOff)) == 8; n++ {
			o[n] = binary.BigEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(s, dataOff)), 8))
			s = unsafe.Add(s, step)
		}
		got += n
		if n < run {
			break
		}
	}
	return got
}

// takeUints is readUints on the take protocol: a returned item alone, or
// one run of untaken items, consumed with one word. It stops there, so
// that a batch's items are consecutive (Reader.Pos).
func (r *queueReader) takeUints(vs []uint64) (int, error) {
	if len(vs) == 0 {
		return 0, nil
	}
	p, n, err := r.takeBatch(len(vs))
	if err != nil {
		return 0, err
	}
	r.first = p
	i := 0
	if r.ring.ItemSize >= 8 {
		i = r.walk(p, vs[:n])
	}
	var derr error
	for ; i < n; i++ {
		r.pos = p + uint64(i)
		var v uint64
		if v, _, derr = r.decode(r.ring.Slot(p+uint64(i)), nil, true); derr != nil {
			break
		}
		vs[i] = v
	}
	return r.endBatch(p, n, i, derr)
}

// takeBatch takes up to k consecutive items for a batch: returned items,
// each marked alone, as long as they follow each other, then a run of
// untaken ones if it comes right after them; or one run of untaken items.
// It returns the first position and how many it took; endBatch ends them.
func (r *queueReader) takeBatch(k int) (uint64, int, error) {
	p, _, ok := r.takeReturned(false)
	if !ok {
		r.batchHead = 0
		return r.takeNew(k, false)
	}
	h := 1
	for h < k && r.retake(p+uint64(h)) {
		h++
	}
	r.batchHead = h
	if h < k {
		if _, n, err := r.takeNewAt(k-h, false, p+uint64(h)); err == nil {
			return p, h + n, nil
		}
	}
	return p, h, nil
}

// readBytes reads items into bufs[i][:cap(bufs[i])], reslicing each to
// its item's length, as PopBytesInto does: on the sole path item by item,
// on the take protocol one returned item or one run. An item that does
// not fit stops it (and is reported if it is the first).
func (r *queueReader) readBytes(bufs [][]byte) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	if r.sole {
		start := r.pos
		for got, b := range bufs {
			_, k, err := r.readOne(b[:cap(b)], false)
			if err != nil {
				if got > 0 {
					r.first = start
				}
				return got, err
			}
			bufs[got] = b[:k]
		}
		r.first = start
		return len(bufs), nil
	}
	p, n, err := r.takeBatch(len(bufs))
	if err != nil {
		return 0, err
	}
	r.first = p
	i := 0
	var derr error
	for ; i < n; i++ {
		r.pos = p + uint64(i)
		b := bufs[i]
		var k int
		if _, k, derr = r.decode(r.ring.Slot(p+uint64(i)), b[:cap(b)], false); derr != nil {
			break
		}
		bufs[i] = b[:k]
	}
	return r.endBatch(p, n, i, derr)
}

// endBatch ends the n items from p that takeBatch took, of which i were
// read: consumed if all were, else those read consumed and the rest given
// back (uncounted), the error of the first that could not be read
// reported if it is the first. It returns how many items the read
// returns. A returned item that heads the batch is a run of its own.
func (r *queueReader) endBatch(p uint64, n, i int, derr error) (int, error) {
	moved, err := r.endRuns(p, n, i)
	r.moved = r.moved || moved
	switch {
	case err != nil:
		return i, err
	case i == 0:
		return 0, derr
	}
	return i, nil
}

// endRuns ends the runs of a batch (see endBatch): the returned items
// that head it, one by one, then its run of untaken items.
func (r *queueReader) endRuns(p uint64, n, i int) (bool, error) {
	moved := false
	h := min(r.batchHead, n)
	for j := range h {
		m, err := r.endRun(p+uint64(j), 1, min(max(i-j, 0), 1))
		moved = moved || m
		if err != nil {
			return moved, err
		}
	}
	if n > h {
		m, err := r.endRun(p+uint64(h), n-h, max(i-h, 0))
		return moved || m, err
	}
	return moved, nil
}

// endRun ends a run of n items from p of which i were read.
func (r *queueReader) endRun(p uint64, n, i int) (bool, error) {
	if i < n {
		return r.unrun(p, n, i)
	}
	return r.done(p, n)
}

// settle ends an attempt: on the sole path it frees the slots read, if
// any; on the take protocol they are consumed already. It reports whether
// the read cursor moved.
func (r *queueReader) settle(got int, err error) (bool, error) {
	if !r.sole {
		moved := r.moved
		r.moved = false
		if got > 0 {
			err = nil
		}
		r.checkSole()
		return moved, err
	}
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
// past the write cursor it last saw. (The sole path.)
func (r *queueReader) free() error {
	if r.pos < r.pub || r.pos > r.head || !atomic.CompareAndSwapUint64(r.ring.RCur, r.pub, r.pos) {
		return r.raced()
	}
	r.pub = r.pos
	r.rseen = r.pos
	return nil
}

// raced is queueWriter.raced for the read cursor.
func (r *queueReader) raced() error {
	pub := r.pub
	t := atomic.LoadUint64(r.ring.RCur)
	r.reload()
	return raceOrDamage(&r.ring, "read", pub, t, errReadRace)
}

// take takes one item under a lease: it is this handle's until ack or
// giveBack, and its slot stays taken. It returns the item's position and
// deliveries.
func (r *queueReader) take() (uint64, int, error) {
	if !r.own && !r.holders {
		return 0, 0, errNoHolders
	}
	if r.sole {
		return r.takeAtR()
	}
	p, d, ok := r.takeReturned(true)
	if !ok {
		var err error
		if p, _, err = r.takeNew(1, true); err != nil {
			r.checkSole()
			return 0, 0, err
		}
		d = 1
	}
	r.held++
	return p, d, nil
}

// takeAtR is take on the sole path: the item at R, which the sole path
// knows is there without loading the cursors again, is marked Leased by
// this handle with a plain store (nobody else takes, and nothing is taken
// or given back past R), and T moves past it, as takeNewAt does with the
// same hooks, so that crashes and give-backs find what they would. The
// sole path closes while the lease lasts; ack, at the front, moves R past
// the item with one compare-and-swap.
func (r *queueReader) takeAtR() (uint64, int, error) {
	if _, err := r.at(); err != nil {
		return 0, 0, err
	}
	p := r.pos
	atomic.StoreUint64(r.state(p), uint64(layout.StateOf(layout.Leased, p, r.ring.Laps, r.token, 1)))
	if takeStep != nil {
		takeStep(takeMarked)
	}
	casMax(r.ring.TCur, p+1)
	if takeStep != nil {
		takeStep(takeMoved)
	}
	// The sole path (and Pop's inline one) moved R without noting it.
	r.rseen, r.hseen = max(r.rseen, r.pub), max(r.hseen, r.head)
	r.sole = false
	r.held++
	return p, 1, nil
}

// leasedItem reads the item of lease p (deliveries d) into dst, or as a
// uint64; an item that cannot be read is given back, not counted as a
// delivery.
func (r *queueReader) leasedItem(p uint64, d int, dst []byte, asUint bool) (uint64, int, error) {
	r.pos = p
	v, n, err := r.decode(r.ring.Slot(p), dst, asUint)
	if err != nil {
		r.held--
		if gerr := r.giveBack(p, d, true); gerr != nil {
			return 0, 0, gerr
		}
		r.checkSole()
		return 0, 0, err
	}
	r.first = p
	return v, n, nil
}

// settleLease ends lease p (d deliveries): consumed (ack) or given back.
func (r *queueReader) settleLease(p uint64, d int, consume bool) (bool, error) {
	var moved bool
	var err error
	if consume {
		moved, err = r.ack(p, d)
	} else {
		err = r.giveBack(p, d, false)
	}
	if err == nil {
		r.held--
		r.checkSole()
	}
	return moved, err
}

func (r *queueReader) peek() ([]byte, error) {
	if r.sole {
		return r.peekAtR()
	}
	p, d, err := r.take()
	if err != nil {
		return nil, err
	}
	s := r.ring.Slot(p)
	l := r.ring.ItemLen(s)
	if l > uint32(r.ring.ItemSize) {
		r.held--
		r.giveBack(p, d, true)
		r.checkSole()
		return nil, corruptf("item %d has length %d, item size is %d", p, l, r.ring.ItemSize)
	}
	r.peekAt, r.peekD, r.first = p, d, p
	return r.ring.Item(s, int(l)), nil
}

func (r *queueReader) release() (bool, error) {
	if r.peekSole {
		// As a plain read on the sole path: R moves past the item. Its
		// Leased word stays behind R, where no walk looks.
		r.peekSole = false
		r.held--
		r.pos++
		if err := r.free(); err != nil {
			return false, err
		}
		return true, nil
	}
	return r.settleLease(r.peekAt, r.peekD, true)
}

// peekAtR is peek on the sole path, the Atomic reader's (the only reader)
// with nothing taken past R: the item at R is marked Leased by this
// handle with a plain store (nobody else takes) and stays at R. If the
// reader dies before Release, the reader that attaches next takes the
// item back, with one more delivery, as it would a lease; Release moves R
// past it with one compare-and-swap, as a plain read does.
func (r *queueReader) peekAtR() ([]byte, error) {
	s, err := r.at()
	if err != nil {
		return nil, err
	}
	p := r.pos
	l := r.ring.ItemLen(s)
	if l > uint32(r.ring.ItemSize) {
		return nil, corruptf("item %d has length %d, item size is %d", p, l, r.ring.ItemSize)
	}
	atomic.StoreUint64(r.state(p), uint64(layout.StateOf(layout.Leased, p, r.ring.Laps, r.token, 1)))
	r.held++
	r.peekSole = true
	r.peekAt, r.peekD, r.first = p, 1, p
	return r.ring.Item(s, int(l)), nil
}

// close gives back the leases this handle still holds, before it gives
// up its token: the next taker gets them first.
func (r *queueReader) close() {
	if r.held > 0 {
		leasesOf(&r.ring, r.token, false)
		r.held = 0
	}
}
