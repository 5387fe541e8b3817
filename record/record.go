package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/sharedcbuff/scb"
)

// batch is how many items Record reads, and Replay writes, per call, and
// batchBytes how many bytes of items, unless one item is larger.
const (
	batch      = 1024
	batchBytes = 1 << 20
)

// idleFlush is how long Record waits for more items, once the buffer is
// empty, before it writes what it has.
const idleFlush = 50 * time.Millisecond

// early is how long before its time a paced Replay may write an item: it
// writes the items due this soon with the one it waited for, in one batch,
// instead of waiting again for each (and waking the buffer's readers for
// each).
const early = 20 * time.Microsecond

// Record reads items from r and adds them to w, each with its position and
// the time it was read, until the stream ends (io.EOF: Record returns nil)
// or ctx is done (Record returns ctx's error; what was read is in w). It
// flushes w once the buffer has been empty for a moment (50 ms after it
// first found it empty since the last flush), so a recording stays
// current while the writer pauses or trickles. An item's time is when r
// read it: a reader opened with Options.Spin set to math.MaxInt polls
// instead of sleeping while the buffer is empty, which keeps a core busy
// and the times within microseconds of the writes (a sleeping reader
// wakes up to a millisecond or more after an item arrives on some
// machines). Items a Broadcast writer overwrote before r read them
// are counted in w (Writer.AddLost), never silently skipped. It does not
// close w.
func Record(ctx context.Context, r *scb.Reader, w *Writer) error {
	size := r.ItemSize()
	// At most batch items, and at most batchBytes of them unless one item
	// is larger.
	k := min(batch, max(1, batchBytes/size))
	store := make([]byte, k*size)
	bufs := make([][]byte, k)
	for i := range bufs {
		bufs[i] = store[i*size : i*size : (i+1)*size]
	}
	// idle ends idleFlush after the buffer was first found empty since
	// the last flush: one timer for every wait until then, not one per
	// wait (a reader that polls finds the buffer empty between any two
	// items of a trickle).
	var idle struct {
		ctx    context.Context
		cancel context.CancelFunc
	}
	defer func() {
		if idle.ctx != nil {
			idle.cancel()
		}
	}()
	// flushIdle ends the moment and writes what there is.
	flushIdle := func() error {
		idle.cancel()
		idle.ctx = nil
		return w.Flush()
	}
	for {
		n, err := r.PopBytesInto(bufs)
		if errors.Is(err, scb.ErrEmpty) {
			// Idle: wait a moment for more, then write what there is,
			// so that a recording is current while the writer pauses
			// without a block per item when it trickles.
			if idle.ctx != nil && idle.ctx.Err() != nil {
				// The moment passed while items kept coming: write
				// what there is now, and start another.
				if err := flushIdle(); err != nil {
					return err
				}
			}
			if idle.ctx == nil {
				idle.ctx, idle.cancel = context.WithTimeout(ctx, idleFlush)
			}
			n, err = r.PopBytesIntoWait(idle.ctx, bufs)
			if n == 0 && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				if err := flushIdle(); err != nil {
					return err
				}
				n, err = r.PopBytesIntoWait(ctx, bufs)
			}
			if n == 0 && ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
				err = ctx.Err() // ctx's, not the moment's
			}
		}
		now := time.Now()
		if n > 0 {
			pos := r.Pos()
			for i, b := range bufs[:n] {
				if err := w.Add(pos+uint64(i), now, b); err != nil {
					return err
				}
			}
		}
		var oe *scb.OverrunError
		switch {
		case err == nil:
		case errors.As(err, &oe):
			if err := w.AddLost(oe.Lost, now); err != nil {
				return err
			}
		case errors.Is(err, io.EOF):
			return w.Flush()
		default:
			if ferr := w.Flush(); ferr != nil {
				return ferr
			}
			return err
		}
	}
}

// Pace says how fast Replay writes. The zero Pace writes as fast as the
// buffer takes the items.
type Pace struct {
	// Recorded keeps the recorded gaps between items: each item is
	// written when as much time has passed since the first as had passed
	// when it was recorded.
	Recorded bool
	// Rate, if positive (and Recorded is false), writes that many items a
	// second, evenly spaced.
	Rate float64
}

// Replay writes the items of rd into w at the pace p, until the recording
// ends (it returns nil, or ErrTruncated for a recording that was cut
// short, after writing every item before the cut), ctx is done, or w
// refuses an item. It waits for room in w, so the pace is kept only as
// far as w's readers keep up. It returns how many items it wrote.
//
// With a pace, Replay sleeps until 2 ms before an item is due (more on a
// machine whose timers fire later than that, up to 10 ms) and polls the
// clock for the rest, then writes it with every item due in the next
// 20 µs: on an idle machine with a core to spare each item goes out
// between 20 µs early and a few microseconds late, apart from the rare
// times the operating system runs something else on the core (a
// millisecond or more). Replay keeps a core busy while it polls.
func Replay(ctx context.Context, rd *Reader, w *scb.Writer, p Pace) (int, error) {
	if p.Rate < 0 || p.Rate != p.Rate {
		return 0, fmt.Errorf("record: replay rate %v is not positive", p.Rate)
	}
	paced := p.Recorded || p.Rate > 0
	var (
		items   = make([][]byte, 0, batch)
		store   []byte
		written int
		start   time.Time
		now     time.Time // as last read
		first   time.Duration
		sl      = slack{d: startSlack, yield: runtime.GOMAXPROCS(0) == 1}
	)
	flush := func() error {
		for pushed := 0; pushed < len(items); {
			n, err := w.PushBytesManyWait(ctx, items[pushed:])
			written += n
			pushed += n
			if err != nil {
				return err
			}
		}
		items, store = items[:0], store[:0]
		return nil
	}
	// add keeps a copy of the item for the next flush (Next's Data is
	// valid only until the next call), flushing first if the copies would
	// pass batchBytes.
	add := func(it Item) error {
		if len(items) > 0 && len(store)+len(it.Data) > batchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(store)+len(it.Data) > cap(store) {
			// Items queued keep the old store until they are flushed.
			store = make([]byte, 0, max(len(it.Data), min(batch*len(it.Data), batchBytes)))
		}
		store = append(store, it.Data...)
		items = append(items, store[len(store)-len(it.Data):len(store):len(store)])
		return nil
	}
	for i := 0; ; i++ {
		it, err := rd.Next()
		if err != nil {
			if ferr := flush(); ferr != nil {
				return written, ferr
			}
			if errors.Is(err, io.EOF) {
				return written, nil
			}
			return written, err
		}
		if paced {
			if i == 0 {
				start, first = time.Now(), it.At
				now = start
			}
			due := start.Add(it.At - first)
			if !p.Recorded {
				due = start.Add(time.Duration(float64(i) / p.Rate * float64(time.Second)))
			}
			if due.After(now.Add(early)) {
				now = time.Now()
			}
			if due.After(now.Add(early)) {
				// Not due yet: write what is due, then wait for it.
				if err := flush(); err != nil {
					return written, err
				}
				if err := sl.waitUntil(ctx, due); err != nil {
					return written, err
				}
				now = time.Now()
			}
		}
		if err := add(it); err != nil {
			return written, err
		}
		if len(items) == batch {
			if err := flush(); err != nil {
				return written, err
			}
		}
	}
}

// waitUntil sleeps until shortly before t, then polls the clock until t;
// it returns ctx's error at once when ctx is done, whether or not t has
// passed.
// It sleeps on a timer until slack before t, and doubles slack when the
// timer fires less than half of it before t (timers fire up to a
// millisecond or more late on some machines), up to maxSlack; it halves
// it again, down to startSlack, after shrinkAfter timers in a row that
// fired in good time. It polls without yielding to other
// goroutines, unless the process runs goroutines on one thread at a time
// (GOMAXPROCS 1): measured between two processes on a 2-core virtual
// machine, a yield every 1024 polls put four times as many items more
// than a millisecond late (a yield lets the scheduler move the goroutine
// to another thread, which may wait a millisecond for its core).
func (s *slack) waitUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		// Done: at once, also when t has passed already (the polls
		// below would not look).
		return err
	}
	if d := time.Until(t) - s.d; d > 0 {
		if s.tm == nil {
			s.tm = time.NewTimer(d)
		} else {
			s.tm.Reset(d)
		}
		select {
		case <-s.tm.C:
			s.adjust(time.Until(t))
		case <-ctx.Done():
			s.tm.Stop()
			return ctx.Err()
		}
	}
	done := ctx.Done()
	for i := 0; time.Now().Before(t); i++ {
		if i%pollCheck == 0 {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
			if s.yield {
				runtime.Gosched() // the one P's other goroutines
			}
		}
	}
	return nil
}

// adjust adapts the slack to a timer that woke waitUntil left before the
// item's time.
func (s *slack) adjust(left time.Duration) {
	switch {
	case left < s.d/2:
		// Woken less than half the slack before t: next time, wake
		// earlier.
		s.d, s.early = min(2*s.d, maxSlack), 0
	case left > 3*s.d/4 && s.d > startSlack:
		// Woken in good time: after enough of those, poll for less (one
		// late timer, a stall, must not cost the rest of the replay a
		// busy core).
		if s.early++; s.early == shrinkAfter {
			s.d, s.early = max(s.d/2, startSlack), 0
		}
	}
}

// slack is how long before an item is due a paced Replay stops sleeping
// and polls the clock, and the timer it sleeps on.
type slack struct {
	d     time.Duration
	tm    *time.Timer
	early int  // timers in a row that fired in good time (more than 3/4 of d before)
	yield bool // GOMAXPROCS is 1: yield to other goroutines while polling
}

// The slack a Replay starts with, and the most it grows to; and how many
// times it polls the clock between two looks at its context.
const (
	pollCheck   = 1024
	startSlack  = 2 * time.Millisecond
	maxSlack    = 10 * time.Millisecond
	shrinkAfter = 16 // timers in good time before the slack halves
)
