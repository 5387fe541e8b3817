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
// flushes w whenever the buffer is empty, so a recording is current while
// the writer pauses. Items a Broadcast writer overwrote before r read them
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
	for {
		n, err := r.PopBytesInto(bufs)
		if errors.Is(err, scb.ErrEmpty) {
			// Idle: wait a moment for more, then write what there is,
			// so that a recording is current while the writer pauses
			// without a block per item when it trickles.
			wctx, cancel := context.WithTimeout(ctx, idleFlush)
			n, err = r.PopBytesIntoWait(wctx, bufs)
			cancel()
			if n == 0 && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				if err := w.Flush(); err != nil {
					return err
				}
				n, err = r.PopBytesIntoWait(ctx, bufs)
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
// With a pace, Replay sleeps until a millisecond before an item is due
// and waits the rest actively, then writes it with every item due in the
// next 20 µs: on an idle machine each item goes out between 20 µs early
// and a few microseconds late.
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
				if err := waitUntil(ctx, due); err != nil {
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

// waitUntil sleeps until a millisecond before t, then yields until t.
func waitUntil(ctx context.Context, t time.Time) error {
	if d := time.Until(t) - time.Millisecond; d > 0 {
		tm := time.NewTimer(d)
		select {
		case <-tm.C:
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		}
	}
	for time.Now().Before(t) {
		if err := ctx.Err(); err != nil {
			return err
		}
		runtime.Gosched()
	}
	return nil
}
