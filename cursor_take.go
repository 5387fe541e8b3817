package scb

import (
	"cmp"
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/platform"
	"github.com/sharedcbuff/scb/internal/wait"
)

// Queue mode's take protocol: how readers take items without a lock, and
// how items taken by a reader that died come back.
//
// Three cursors. The write cursor W counts items written; the read cursor
// R counts items consumed, whose slots the writer may reuse; items from R
// up to the take cursor T (or R, if T is behind it) are taken. Each slot
// has a state word (internal/layout's lease.go) saying, for the item in
// it, whether it is taken and by whom. A reader takes the first untaken
// item, p = max(T, R), by marking its word (a compare-and-swap from the
// untaken word it loaded), and then moves T past it; one that finds p
// marked by another moves T past it for them and tries the next. So:
//
//   - a reader that dies at any step leaves a word that says who has the
//     item (its token), or the item untaken: never an item taken by nobody;
//   - a run of consecutive items (a batch, kind 0 with the count in the
//     word of its first slot) costs one mark and one store, like one item.
//     Only the first slot of a run is marked: a taker only ever marks the
//     slot at max(T, R), which is the first slot of every run taken after
//     it loaded T and R, so the words of the run's other slots, left from
//     an older pass, cannot mislead it;
//   - an item is consumed when its word says Done, and the read cursor is
//     moved past Done items, in order, by whoever made the first of them
//     Done (advance); a leased item holds the read cursor, and so the
//     writer, until it is acknowledged: back-pressure stays honest. An
//     item at the read cursor is consumed by moving the cursor past it
//     instead (done, for a run; ack, for a lease): its word stays behind
//     the cursor, where it means nothing;
//   - an item given back, or taken back from a holder that died (sweep),
//     says Returned, and takers look for those first, from R, whenever the
//     header's returns counter moved since they last looked.
//
// A holder's death is proved by its holder slot's byte lock, which the
// kernel drops when the holder dies (lockword.go): a reader that can take
// the byte lock of a token it finds in a word knows its holder is gone,
// and while it holds the byte no new handle can claim the slot and take
// with the same token. A handle that claims a slot first gives back what
// the slot's last holder left (leasesOf). The Atomic strategy's one reader
// uses token 1: when it attaches, whatever is taken was taken by a reader
// that is gone. Where there are no holder locks, Flock readers take under
// the file lock with token 0, and what a reader that died under the lock
// left is taken back by the next one to hold it.

// run kinds: a run of items taken together (plain reads) is kind 0.
const runKind = 0

// taker is a Queue reader's side of the take protocol (queueReader
// embeds it).
type taker struct {
	token   uint16         // this handle's mark
	fd      uintptr        // the buffer file, whose holder byte locks prove deaths
	holders bool           // holder locks exist: tokens other than this handle's can be asked
	rseen   uint64         // the largest read cursor seen: it only grows
	hseen   uint64         // the largest write cursor seen: it only grows
	returns atomic.Uint32  // the returns counter as of this handle's last look for returned items
	swept   int64          // when this handle last asked holders whether they live (wait.Monotonic)
	sweptR  uint64         // the read cursor at this handle's last attempt
	unswept int            // attempts since this handle last looked at the clock
	sleeps  *atomic.Uint32 // the handle's count of waits that slept (waiter.sleeps)
	sleptAt uint32         // that count at this handle's last sweep
}

// state returns the word of item n's slot.
func (c *queueReader) state(n uint64) *uint64 { return c.ring.State(n) }

// cursors loads R, then T and W, and checks them: R never goes back,
// and W is 0 to Length items ahead of R (loaded first, R can only have
// grown since).
func (c *queueReader) cursors() (rr, t, h uint64, err error) {
	rr = atomic.LoadUint64(c.ring.RCur)
	t = atomic.LoadUint64(c.ring.TCur)
	h = atomic.LoadUint64(c.ring.WCur)
	switch {
	case rr < c.rseen:
		return 0, 0, 0, wentBack("read", c.rseen, rr)
	case rr > h || h-rr > c.ring.Length:
		if !c.ring.Sound() {
			return 0, 0, 0, errOverwritten
		}
		if rr2, h2, ok := apart(c.ring.RCur, c.ring.WCur, c.ring.Length); !ok {
			return 0, 0, 0, cursorError(rr2, h2, c.ring.Length)
		}
		return c.cursors() // the cursors moved between the loads
	}
	c.rseen, c.hseen = rr, max(c.hseen, h)
	return rr, t, h, nil
}

// apart loads a Queue's read and write cursors while both may move, and
// reports whether they are 0 to length apart, as they always are unless
// the buffer is damaged. One load of each is not enough: between them
// readers and writers can move both (a process preempted there, as under
// emulation), so that R loaded first and W after are more than length
// apart, or W loaded first and R after have R ahead of W. So W is loaded
// before and after R: R never passes the later W, and the earlier W is
// never more than length ahead of R, which only grows.
func apart(rcur, wcur *uint64, length uint64) (r, w uint64, ok bool) {
	w1 := atomic.LoadUint64(wcur)
	r = atomic.LoadUint64(rcur)
	w = atomic.LoadUint64(wcur)
	return r, w, r <= w && (w1 <= r || w1-r <= length)
}

// casMax moves *w up to v, unless it is there already.
func casMax(w *uint64, v uint64) {
	for {
		old := atomic.LoadUint64(w)
		if old >= v || atomic.CompareAndSwapUint64(w, old, v) {
			return
		}
	}
}

// span returns how many items the word s of item n's slot covers, as the
// cursors walk: a run's or a Done's count, else one.
func span(s layout.State) uint64 {
	if k := s.Kind(); k == runKind || k == layout.Done {
		return uint64(max(s.Deliveries(), 1))
	}
	return 1
}

// takeNew marks up to k untaken items from max(T, R) as taken by this
// handle, k = 1 for a lease (kind Leased) and up to 255 for a run of plain
// reads (kind 0, the count in the first word), and moves T past them. It
// returns the first item's position and how many it took; ErrEmpty when
// none is untaken, io.EOF if moreover the stream ended.
func (c *queueReader) takeNew(k int, lease bool) (p uint64, n int, err error) {
	return c.takeNewAt(k, lease, anywhere)
}

// anywhere is takeNewAt's "the run may start at any position".
const anywhere = ^uint64(0)

// takeNewAt is takeNew for a run that must start at position at (or
// anywhere): where the first untaken item is elsewhere it takes nothing
// and returns ErrEmpty.
func (c *queueReader) takeNewAt(k int, lease bool, at uint64) (p uint64, n int, err error) {
	laps := c.ring.Laps
	for {
		e := c.end() // first: see refresh
		rr, t, h, err := c.cursors()
		if err != nil {
			return 0, 0, err
		}
		p = max(t, rr)
		if at != anywhere && p != at {
			return 0, 0, ErrEmpty
		}
		if p >= h {
			c.head = h // what a wait waits to move (seen)
			if !c.ring.Sound() {
				// A file zeroed under the reader must not look empty.
				return 0, 0, errOverwritten
			}
			return 0, 0, endOrEmpty(&c.ring, e, h)
		}
		if !c.ring.Sound() {
			return 0, 0, errOverwritten
		}
		n = 1
		if !lease {
			n = int(min(uint64(k), h-p, 255))
		}
		w := layout.State(atomic.LoadUint64(c.state(p)))
		if !w.Of(p, laps) {
			// The word is another item's: an earlier one's (p is
			// untaken), unless this reader slept while the ring moved on
			// and the slot now holds a later item. The read cursor tells:
			// the slot is reused only once it passed p.
			if atomic.LoadUint64(c.ring.RCur) > p {
				continue
			}
			mark := layout.StateOf(layout.Leased, p, laps, c.token, 1)
			if !lease {
				mark = layout.StateOf(runKind, p, laps, c.token, n)
			}
			if atomic.CompareAndSwapUint64(c.state(p), uint64(w), uint64(mark)) {
				if takeStep != nil {
					takeStep(takeMarked)
				}
				casMax(c.ring.TCur, p+uint64(n))
				if takeStep != nil {
					takeStep(takeMoved)
				}
				return p, n, nil
			}
			w = layout.State(atomic.LoadUint64(c.state(p)))
			if !w.Of(p, laps) {
				continue // the slot moved on: start again from the cursors
			}
		}
		// Taken by another reader, which may not have moved T yet.
		casMax(c.ring.TCur, p+span(w))
	}
}

// popFront is a plain read of one 8-byte item at the read cursor, for
// Pop's inline path (Reader.popShared): takeNewAt's steps for a run of one
// at R (the same mark, hooks and move of T), the item read, and done's at
// the front (R moved past it with one compare-and-swap, then advance),
// without the calls between them. It reports false, having done nothing,
// wherever readOne's way must decide: items given back since this reader
// last looked, the cursors not at the front (T past R) or to be checked,
// nothing written past R, the item at R taken already, not 8 bytes long,
// or the header not this buffer's. It returns the item and whether the
// read cursor moved; an error (damage advance found) with the item
// consumed, as readOne does.
func (c *queueReader) popFront() (v uint64, moved bool, ok bool, err error) {
	if atomic.LoadUint32(c.ring.Returns) != c.returns.Load() {
		return 0, false, false, nil // takeReturned's to look
	}
	rr := atomic.LoadUint64(c.ring.RCur)
	if rr < c.rseen || atomic.LoadUint64(c.ring.TCur) > rr {
		return 0, false, false, nil
	}
	if rr >= c.hseen || c.hseen-rr > c.ring.Length {
		// Past the write cursor as last seen, or a lap ahead of R (a
		// damaged cursor advance took): load it (it only grows), and
		// leave anything out of place to cursors' checks.
		h := atomic.LoadUint64(c.ring.WCur)
		if rr >= h || h-rr > c.ring.Length {
			return 0, false, false, nil
		}
		c.hseen = h
	}
	laps := c.ring.Laps
	st := c.state(rr)
	w := layout.State(atomic.LoadUint64(st))
	sl := c.ring.Slot(rr)
	if w.Of(rr, laps) || c.ring.ItemLen(sl) != 8 || atomic.LoadUint64(c.ring.RCur) != rr || !c.ring.Sound() {
		// Taken (or given back), not an 8-byte item, or R moved on
		// (the slot may hold a later item now): takeNewAt's way.
		return 0, false, false, nil
	}
	if !atomic.CompareAndSwapUint64(st, uint64(w), uint64(layout.StateOf(runKind, rr, laps, c.token, 1))) {
		return 0, false, false, nil
	}
	if takeStep != nil {
		takeStep(takeMarked)
	}
	casMax(c.ring.TCur, rr+1)
	if takeStep != nil {
		takeStep(takeMoved)
	}
	v = binary.BigEndian.Uint64(c.ring.Item(sl, 8))
	c.pos, c.first = rr, rr
	if atomic.CompareAndSwapUint64(c.ring.RCur, rr, rr+1) {
		c.rseen = rr + 1
		moved = true
		_, err = c.advance() // items after it that others made Done
	} else {
		moved, err = c.done(rr, 1) // (not reached while the mark holds R)
	}
	if popFrontHook != nil {
		popFrontHook()
	}
	if err != nil {
		return 0, moved, true, err // as readOne: the item is consumed, the error reported
	}
	return v, moved, true, nil
}

// takeReturned takes the first Returned item from R, as a lease (kind
// Leased) or a run of one, counting the delivery. It reports false when
// there is none, and then does not look again until the returns counter
// moves.
func (c *queueReader) takeReturned(lease bool) (p uint64, deliveries int, ok bool) {
	returns := atomic.LoadUint32(c.ring.Returns)
	if returns == c.returns.Load() {
		// Nothing given back since this reader last looked, unless a
		// reader died between marking an item Returned and counting it:
		// then the item ends at the read cursor, which it holds, and
		// sweep (or, for the Atomic reader, attaching) finds it there.
		return 0, 0, false
	}
	rr := atomic.LoadUint64(c.ring.RCur)
	end := takenEnd(&c.ring, rr)
	for p = rr; ; {
		w, ok := layout.State(0), false
		if p, w, ok = c.nextReturned(p, end); !ok {
			break
		}
		// A lease, also for a plain read, so that the item keeps its
		// deliveries if the read gives it back.
		d := w.Deliveries() + 1
		mark := layout.StateOf(layout.Leased, p, c.ring.Laps, c.token, d)
		if atomic.CompareAndSwapUint64(c.state(p), uint64(w), uint64(mark)) {
			return p, d, true
		}
		// Look at it again.
	}
	c.returns.Store(returns)
	return 0, 0, false
}

// nextReturned returns the first item from p on, before end, that is
// marked Returned, and its state word; false if there is none.
func (c *queueReader) nextReturned(p, end uint64) (uint64, layout.State, bool) {
	for p < end {
		w := layout.State(atomic.LoadUint64(c.state(p)))
		if !w.Of(p, c.ring.Laps) {
			p++ // (only inside a run, which the walk skips: the cursors moved)
			continue
		}
		if w.Kind() == layout.Returned {
			return p, w, true
		}
		p += span(w)
	}
	return 0, 0, false
}

// retake takes item p for a plain read if it is Returned, as a run of
// one, and reports whether it did.
func (c *queueReader) retake(p uint64) bool {
	laps := c.ring.Laps
	w := layout.State(atomic.LoadUint64(c.state(p)))
	if !w.Of(p, laps) || w.Kind() != layout.Returned {
		return false
	}
	return atomic.CompareAndSwapUint64(c.state(p), uint64(w), uint64(layout.StateOf(layout.Leased, p, laps, c.token, w.Deliveries()+1)))
}

// done marks the n items from p, taken by this handle, consumed (one word:
// Done with the count), and moves the read cursor past Done items. It
// reports whether the read cursor moved. At the front (the read cursor
// at p) it moves the read cursor past them at once instead, leaving their
// word: nobody else moves the read cursor past items not Done, and words
// behind the read cursor are never read as this lap's.
func (c *queueReader) done(p uint64, n int) (bool, error) {
	if atomic.LoadUint64(c.ring.RCur) == p && p+uint64(n) <= c.hseen &&
		atomic.CompareAndSwapUint64(c.ring.RCur, p, p+uint64(n)) {
		c.rseen = p + uint64(n)
		_, err := c.advance() // items after them that others made Done
		return true, err
	}
	atomic.StoreUint64(c.state(p), uint64(layout.StateOf(layout.Done, p, c.ring.Laps, 0, n)))
	return c.advance()
}

// ack marks item p, leased by this handle with d deliveries, consumed.
// It fails with ErrNotClaimed if the word does not say so (acknowledged
// or given back already).
//
// At the front (p is at the read cursor) it moves the read cursor past
// the item, as done does for a run, instead of marking it Done and then
// moving the cursor: one compare-and-swap fewer. The Leased word stays
// behind the cursor, where no walk looks; a live lease is never behind
// it, so an item behind it is acknowledged already (or was given back
// and consumed by another reader).
func (c *queueReader) ack(p uint64, d int) (bool, error) {
	laps := c.ring.Laps
	leased := layout.StateOf(layout.Leased, p, laps, c.token, d)
	rr := atomic.LoadUint64(c.ring.RCur)
	if p < rr {
		return false, ErrNotClaimed
	}
	if rr == p && p < c.hseen && atomic.LoadUint64(c.state(p)) == uint64(leased) &&
		atomic.CompareAndSwapUint64(c.ring.RCur, p, p+1) {
		c.rseen = p + 1
		if takeStep != nil {
			takeStep(takeAcked)
		}
		_, err := c.advance() // items after it that others made Done
		return true, err
	}
	if !atomic.CompareAndSwapUint64(c.state(p), uint64(leased), uint64(layout.StateOf(layout.Done, p, laps, 0, 1))) {
		return false, ErrNotClaimed
	}
	if takeStep != nil {
		takeStep(takeAcked)
	}
	return c.advance()
}

// giveBack marks item p, leased by this handle with d deliveries,
// Returned: the next taker gets it first. With d one less, the item counts
// as not delivered (a read that could not return it).
func (c *queueReader) giveBack(p uint64, d int, uncount bool) error {
	laps := c.ring.Laps
	leased := layout.StateOf(layout.Leased, p, laps, c.token, d)
	if p < atomic.LoadUint64(c.ring.RCur) {
		return ErrNotClaimed // acknowledged at the front (ack)
	}
	if uncount {
		d--
	}
	if !atomic.CompareAndSwapUint64(c.state(p), uint64(leased), uint64(layout.StateOf(layout.Returned, p, laps, 0, d))) {
		return ErrNotClaimed
	}
	if takeStep != nil {
		takeStep(takeReturned)
	}
	atomic.AddUint32(c.ring.Returns, 1)
	return nil
}

// unrun gives back the items of a run of n from p, taken by this handle,
// from item i on, and marks those before it consumed, one word each: the
// run read items up to i and could not return item i.
func (c *queueReader) unrun(p uint64, n, i int) (bool, error) {
	// The other slots first: while the first slot says run, no walk
	// looks inside it.
	for j := n - 1; j >= 1; j-- {
		c.settleItem(p+uint64(j), j < i)
	}
	c.settleItem(p, i > 0)
	if n-i > 0 {
		atomic.AddUint32(c.ring.Returns, uint32(n-i))
	}
	return c.advance()
}

// settleItem marks item q of a run this handle holds consumed (Done) or
// given back (Returned, not counting the delivery: a returned item taken
// again for a plain read, marked Leased, keeps the deliveries it had).
func (c *queueReader) settleItem(q uint64, consumed bool) {
	laps := c.ring.Laps
	s := layout.StateOf(layout.Done, q, laps, 0, 1)
	if !consumed {
		d := 0
		if w := layout.State(atomic.LoadUint64(c.state(q))); w.Of(q, laps) && w.Kind() == layout.Leased {
			d = w.Deliveries() - 1
		}
		s = layout.StateOf(layout.Returned, q, laps, 0, d)
	}
	atomic.StoreUint64(c.state(q), uint64(s))
}

// advance moves the read cursor past the Done items at it, and reports
// whether it moved. Whoever makes the item at R Done moves it; one that
// makes a later item Done and finds R not there leaves it to the holder
// of the earlier ones: its store and the mover's load of the word are
// sequentially consistent, as are the mover's compare-and-swap and its
// load of R, so one of the two sees the other.
func (c *queueReader) advance() (bool, error) {
	laps := c.ring.Laps
	moved := false
	for {
		rr := atomic.LoadUint64(c.ring.RCur)
		if rr < c.rseen {
			return moved, wentBack("read", c.rseen, rr)
		}
		c.rseen = rr
		w := layout.State(atomic.LoadUint64(c.state(rr)))
		if !w.Of(rr, laps) || w.Kind() != layout.Done {
			return moved, nil
		}
		next := rr + span(w)
		if next > c.hseen {
			// Past the write cursor as last seen (it only grows: one
			// load of the writer's line per item is enough).
			if c.hseen = max(c.hseen, atomic.LoadUint64(c.ring.WCur)); next > c.hseen {
				return moved, corruptf("item %d is consumed with %d after it, past the write cursor", rr, span(w)-1)
			}
		}
		if atomic.CompareAndSwapUint64(c.ring.RCur, rr, next) {
			moved = true
			c.rseen = next
		}
	}
}

// sweepEvery is how often a Flock reader asks the holders of the items it
// finds taken between R and T whether they live (two system calls each):
// at most this often, before an attempt to read. sweepAttempts is how many
// attempts it makes, while the read cursor moves, between two looks at the
// clock.
const (
	sweepEvery    = time.Millisecond
	sweepAttempts = 64
)

// sweep takes back what holders that are gone hold, for a Flock reader:
// under the file lock (no holder locks) every item taken is a dead
// reader's; otherwise it asks the holders, while items are taken, at most
// every sweepEvery. It looks at the clock when the read cursor has not
// moved since its last attempt (an item at the front is held, or nothing
// came), else every sweepAttempts attempts: the clock costs tens of
// nanoseconds on some machines. So a reader that takes gets the items of
// a holder that died before newer ones, unless it asked less than
// sweepEvery ago, or they are not at the front and it made fewer than
// sweepAttempts attempts since it last looked. The first attempt after a
// sleep (in a blocking call or WaitAny) asks whatever the clock says when
// another holder has the item at the front.
func (c *queueReader) sweep() {
	if !c.holders {
		c.reclaim(true)
		return
	}
	rr := atomic.LoadUint64(c.ring.RCur) // the attempt loads it next anyway
	s := c.sleeps.Load()
	woke := s != c.sleptAt
	c.sleptAt = s
	if woke && c.frontHeld(rr) {
		// The first attempt after a sleep asks, whatever the clock says,
		// if another holder has the item at the front: it may have died
		// while this reader slept, and its item must come before the
		// one that woke the reader. The wake-up cost more than asking.
		c.sweptR, c.unswept, c.swept = rr, 0, wait.Monotonic()
	} else {
		if rr != c.sweptR && c.unswept < sweepAttempts {
			c.sweptR = rr
			c.unswept++
			return
		}
		c.sweptR, c.unswept = rr, 0
		now := wait.Monotonic()
		if now-c.swept < int64(cmp.Or(sweepLimit, sweepEvery)) {
			return
		}
		c.swept = now
	}
	frontier(&c.ring) // a reader that died between marking and moving T
	rr = atomic.LoadUint64(c.ring.RCur)
	if atomic.LoadUint64(c.ring.TCur) <= rr {
		return // nothing taken
	}
	if w := layout.State(atomic.LoadUint64(c.state(rr))); w.Of(rr, c.ring.Laps) && w.Kind() == layout.Returned {
		// Given back, or taken back, by a reader that died before
		// counting it (takeReturned looks only when the count moves):
		// look once.
		c.returns.Store(atomic.LoadUint32(c.ring.Returns) - 1)
	}
	c.reclaim(false)
}

// frontHeld reports whether the item at the read cursor rr is taken by a
// holder other than this handle.
func (c *queueReader) frontHeld(rr uint64) bool {
	w := layout.State(atomic.LoadUint64(c.state(rr)))
	tok, held := c.heldBy(w)
	return held && w.Of(rr, c.ring.Laps) && tok != c.token
}

// heldBy reports whether the word w is of an item taken by a holder (a
// run or a lease), and returns its token.
func (c *queueReader) heldBy(w layout.State) (uint16, bool) {
	if k := w.Kind(); k != runKind && k != layout.Leased {
		return 0, false
	}
	return w.Token(), true
}

// reclaim gives back what holders that are gone still hold between R and
// T: it marks their items Returned (their deliveries kept), so that
// takers get them first. If all is set, every holder but this handle is
// gone (the Atomic reader attaching, or a Flock reader holding the file
// lock where tokens are not proved); otherwise each token is asked once,
// through its holder slot's byte lock, which it holds while it marks. It
// returns how many items it gave back.
func (c *queueReader) reclaim(all bool) int {
	if !all && !c.holders {
		return 0
	}
	frontier(&c.ring)
	var asked [16]uint16 // tokens found alive this time (a few holders at most, in practice)
	nAsked := 0
	total := 0
	for {
		tok, ok := c.deadHolder(all, asked[:nAsked])
		if !ok {
			return total
		}
		if all {
			total += leasesOf(&c.ring, tok, true)
			continue
		}
		free, err := platform.LockHolder(c.fd, uint32(tok-1))
		if err != nil {
			return total
		}
		if !free {
			if nAsked < len(asked) {
				asked[nAsked] = tok
				nAsked++
				continue
			}
			return total // too many live holders to remember: look again next time
		}
		total += leasesOf(&c.ring, tok, false)
		platform.UnlockHolder(c.fd, uint32(tok-1))
	}
}

// deadHolder returns the token of a holder, other than this handle and
// those in skip, that holds an item between R and T.
func (c *queueReader) deadHolder(all bool, skip []uint16) (uint16, bool) {
	laps := c.ring.Laps
	rr := atomic.LoadUint64(c.ring.RCur)
	end := takenEnd(&c.ring, rr)
next:
	for p := rr; p < end; {
		w := layout.State(atomic.LoadUint64(c.state(p)))
		if !w.Of(p, laps) {
			p++
			continue
		}
		p += span(w)
		tok, held := c.heldBy(w)
		if !held || tok == c.token && !all {
			continue
		}
		for _, s := range skip {
			if s == tok {
				continue next
			}
		}
		return tok, true
	}
	return 0, false
}

// takenEnd returns where the items taken past the read cursor rr end: the
// take cursor, but never past the write cursor or Length items past rr,
// whatever a damaged header says, so that the walks over them stay
// within the ring.
func takenEnd(ring *layout.Ring, rr uint64) uint64 {
	return min(max(atomic.LoadUint64(ring.TCur), rr), atomic.LoadUint64(ring.WCur), rr+ring.Length)
}

// frontier moves T past the marks at max(T, R): items a reader marked and
// has not moved T past yet, because it is about to, or died first. Walks
// that look for what readers hold call it first, so that [R, T) covers
// every mark.
func frontier(ring *layout.Ring) {
	for {
		rr := atomic.LoadUint64(ring.RCur)
		p := max(atomic.LoadUint64(ring.TCur), rr)
		if p >= atomic.LoadUint64(ring.WCur) {
			return
		}
		w := layout.State(atomic.LoadUint64(ring.State(p)))
		if !w.Of(p, ring.Laps) || atomic.LoadUint64(ring.RCur) > p {
			return
		}
		casMax(ring.TCur, p+span(w))
	}
}

// leasesOf marks Returned every item between R and T that token holds (a
// lease, or a run, whose items it marks one by one, the first last), and
// bumps the returns counter for them; it returns how many. The caller
// knows token's holder is gone: it holds its byte lock, or is the handle
// that just claimed the token's slot (whose last holder is gone), or
// (any) every holder but itself is gone, whatever the token.
func leasesOf(ring *layout.Ring, token uint16, any bool) int {
	frontier(ring)
	laps := ring.Laps
	rr := atomic.LoadUint64(ring.RCur)
	end := takenEnd(ring, rr)
	n := 0
	for p := rr; p < end; {
		sp := ring.State(p)
		w := layout.State(atomic.LoadUint64(sp))
		if !w.Of(p, laps) {
			p++
			continue
		}
		k, cover := w.Kind(), span(w)
		if k != runKind && k != layout.Leased || w.Token() != token && !any {
			p += cover
			continue
		}
		d := w.Deliveries()
		if k == runKind {
			for j := cover - 1; j >= 1; j-- {
				atomic.StoreUint64(ring.State(p+j), uint64(layout.StateOf(layout.Returned, p+j, laps, 0, 1)))
			}
			d = 1
		}
		if atomic.CompareAndSwapUint64(sp, uint64(w), uint64(layout.StateOf(layout.Returned, p, laps, 0, d))) {
			n += int(cover)
		}
		p += cover
	}
	if n > 0 {
		atomic.AddUint32(ring.Returns, uint32(n))
	}
	return n
}
