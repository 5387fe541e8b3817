package scb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sharedcbuff/scb/internal/wait"
)

// Waitable is a handle WaitAny can wait on: a *Reader or *TypedReader[T]
// (ready for reading), a *Writer or *TypedWriter[T] (ready for writing).
// Only this package implements it.
type Waitable interface {
	waitBase() waitee
}

// waitee is what WaitAny needs of a handle: the handle, how it tells
// that it is ready, and, for a Flock Queue reader, its sweep for items
// that readers which died had taken.
type waitee struct {
	h     *handle
	ready func() bool
	sweep func(context.Context)
}

// WaitAny waits, from one goroutine, until one of hs is ready, and returns
// its index: a reader when its next read would not wait for an item (one
// is there, the stream ended, or a Peek is outstanding), a writer when its
// next write would not wait for room (a Queue buffer has room; a Broadcast
// writer always does). As for the non-waiting calls themselves, with the
// Flock strategy that does not cover waiting for the file lock where
// files lock (see the package documentation). The handles may be of any buffers, strategies and modes.
// It returns the lowest index of those ready, and then nil.
//
// It returns the index of a handle together with an error, wrapped and
// matching its sentinel, when that handle failed: it was closed
// (ErrClosed), its buffer was removed (ErrRemoved), or every peer it waits
// on has been gone for its Options.Grace (ErrWriterGone for a reader,
// ErrReaderGone for a Queue writer), as its waiting calls would report.
// When ctx is done first it returns -1 and ctx's error, wrapped; a handle
// ready by then still wins. It returns -1 and an error matching
// ErrInvalidOptions for no handles, a nil one, or more than 128.
//
// Ready means "probably": another reader of a Queue buffer may take the
// item first, as with any wait on a shared queue, and the read then
// returns ErrEmpty (or, in a loop of waiting reads, waits again). So the
// loop around WaitAny reads with the non-waiting calls and goes back to
// WaitAny on ErrEmpty or ErrFull:
//
//	for {
//		i, err := scb.WaitAny(ctx, control, data)
//		...
//		switch i {
//		case 0: v, err := control.Pop() ...
//		case 1: n, err := data.PopInto(batch) ...
//		}
//	}
//
// It wakes as a single waiting call does: it polls the handles for a
// while, then sleeps on all their wake-up words at once. On Linux 5.16 and
// later (futex_waitv) and on Windows (WaitForMultipleObjects, up to 64
// handles) the first writer or reader to move wakes it; elsewhere (older
// kernels, macOS, the BSDs, more than 64 handles on Windows) it polls with
// a back-off of at most a millisecond. Handles that are never passed to it
// pay nothing: it uses the words and the registration their own waits use.
//
// It is a call that returns an index, not a channel: a channel needs a
// goroutine per handle (or per call) to sleep for it, and those would have
// to be woken, from another process, to give up; an index costs one sleep
// and no goroutine, as reflect.Select does for channels. A program that
// wants a channel runs WaitAny in a goroutine of its own.
//
// The handles' concurrency rules hold: a handle of the Atomic strategy
// must not be in use by another goroutine while WaitAny waits on it.
func WaitAny(ctx context.Context, hs ...Waitable) (int, error) {
	ctx = orBackground(ctx)
	if len(hs) == 0 || len(hs) > wait.MaxWords {
		return -1, fmt.Errorf("scb: wait: %d handles, want 1 to %d: %w", len(hs), wait.MaxWords, ErrInvalidOptions)
	}
	var (
		small  [8]anyWait
		ws     = small[:0]
		hbuf   [8]*handle
		unique = hbuf[:0] // each handle once: one sleep word, one count of sleepers
	)
	if len(hs) > len(small) {
		ws = make([]anyWait, 0, len(hs))
	}
	for i, x := range hs {
		var e waitee
		if x != nil {
			e = x.waitBase()
		}
		if e.h == nil {
			return -1, fmt.Errorf("scb: wait: handle %d is nil: %w", i, ErrInvalidOptions)
		}
		ws = append(ws, anyWait{waitee: e, ws: waitState{spin: e.h.spin}})
	}
	for i := range ws {
		if !slices.Contains(unique, ws[i].h) {
			unique = append(unique, ws[i].h)
		}
	}
	// Admission never waits (a handle being closed refuses at once), so
	// the order does not matter.
	for k, h := range unique {
		if err := h.admit(); err != nil {
			dismissAll(unique[:k])
			return slices.IndexFunc(ws, func(a anyWait) bool { return a.h == h }), h.wrap("wait", err)
		}
	}
	i, err := waitAny(ctx, ws, unique)
	dismissAll(unique)
	return i, err
}

// anyWait is one handle of a WaitAny call: how it tells it is ready, and
// its own waitState (its grace, its removal checks).
type anyWait struct {
	waitee
	ws waitState
}

func dismissAll(hs []*handle) {
	for _, h := range hs {
		h.dismiss()
	}
}

// waitAny is WaitAny once the handles are admitted: each handle's await,
// on all of them at once.
func waitAny(ctx context.Context, ws []anyWait, unique []*handle) (int, error) {
	first := func() int {
		for i := range ws {
			if ws[i].h.closing.Load() || ws[i].ready() {
				return i
			}
		}
		return -1
	}
	found := func(i int) (int, error) {
		if ws[i].h.closing.Load() {
			return i, ws[i].h.wrap("wait", ErrClosed)
		}
		return i, nil
	}
	if i := first(); i >= 0 {
		return found(i)
	}
	// The words to sleep on, each once (handles of one buffer share them),
	// and the ladder's spin: the longest any handle asks for.
	var (
		wbuf  [8]wait.Word
		words = wbuf[:0]
		vbuf  [8]uint32
		vals  = vbuf[:0]
		spin  = -1
		limit = cmp.Or(sleepLimit, wait.MaxSleep)
	)
	for _, h := range unique {
		if h.spin >= 0 {
			spin = max(spin, spinCount(h.spin))
		}
		if h.waits == roomWait {
			limit = min(limit, cmp.Or(roomLimit, roomDelay))
		}
		w, _ := h.word(h.waits)
		if !slices.ContainsFunc(words, func(x wait.Word) bool { return x.Seq == w.Seq }) {
			words = append(words, w)
			vals = append(vals, 0)
		}
	}
	ready := func() bool { return first() >= 0 || ctx.Err() != nil }
	// A long spin ends for the periodic checks too, and then spins again
	// (as await does).
	var long longSpin
	spun := func() bool { return long.due() && long.spent() || ready() }
	y := &unique[0].y
	climb := func() bool {
		return spin >= 0 && (wait.Ladder{Spins: spin, Yields: yieldTries}).Climb(y, spun) != wait.Missed
	}
	if climb() {
		if i := first(); i >= 0 {
			return found(i)
		}
	}
	var fired chan struct{}
	if ctx.Done() != nil {
		fired = make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			// A deadline ends the sleep by itself (d, below); a cancel
			// wakes it, and with it every sleeper of these words.
			if ctx.Err() != context.DeadlineExceeded {
				for _, w := range words {
					w.WakeAll()
				}
			}
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired // it touches the mappings, which Close may unmap once we return
			}
		}()
	}
	deadline, hasDeadline := ctx.Deadline()
	var s wait.State
	for {
		if i := first(); i >= 0 {
			return found(i)
		}
		if err := ctx.Err(); err != nil {
			return -1, fmt.Errorf("scb: wait: %w", err)
		}
		for i := range ws {
			if err := ws[i].check(ctx); err != nil {
				return i, ws[i].h.wrap("wait", err)
			}
		}
		if spin > spinCheck && climb() {
			continue // a long spin: poll again, and sleep only once it gives up
		}
		for _, h := range unique {
			h.hold.asleep(1)
		}
		d := limit
		if hasDeadline {
			d = max(min(d, time.Until(deadline)), time.Microsecond)
		}
		wait.SleepAny(words, vals, &s, ready, d)
		for _, h := range unique {
			h.hold.asleep(-1)
			h.sleeps.Add(1) // a Flock Queue reader's next read asks holders (queueReader.sweep)
		}
	}
}

// check does for one handle what a waiting call does between its sleeps
// (handle.run): once every removedEvery, it reports the buffer removed or
// the peers gone for the grace, and lets a Flock Queue reader take back
// what readers that died had taken, so that their items make it ready.
func (a *anyWait) check(ctx context.Context) error {
	if !a.ws.checkDue() {
		return nil
	}
	h := a.h
	if h.orphaned() {
		return ErrRemoved
	}
	if err := h.peersGone(&a.ws); err != nil {
		return err
	}
	if a.sweep != nil {
		a.sweep(ctx)
	}
	return nil
}

// waitBase returns the reader's handle, its readiness test, and the
// sweep of a Flock Queue reader.
func (r *Reader) waitBase() waitee {
	if r == nil {
		return waitee{}
	}
	e := waitee{h: &r.handle, ready: r.readable}
	if r.c.q != nil && !r.own && r.c.q.holders {
		e.sweep = r.sweepIdle
	}
	return e
}

// sweepIdle takes back, for a Flock Queue reader that waits in WaitAny,
// what readers that died had taken (as an attempt would: queueReader.sweep),
// so that their items make it ready. Only where holder locks prove deaths:
// elsewhere readers take under the file lock, and the next attempt takes
// back what one that died under it left. It waits for the handle's other
// goroutines at most until ctx is done.
func (r *Reader) sweepIdle(ctx context.Context) {
	if r.enter(ctx) != nil {
		return
	}
	r.c.q.sweep()
	r.exit()
}

// readable reports, without taking the side, whether a read would not
// block now: an item is there to take (new, given back or taken back),
// the stream ended, or a Peek is outstanding (the read fails at once).
func (r *Reader) readable() bool {
	if r.isLent() {
		return true
	}
	if r.c.q != nil {
		return r.c.q.readable()
	}
	return r.c.b.available() > 0 || r.c.b.end() != 0
}

// waitBase returns the writer's handle and its readiness test.
func (w *Writer) waitBase() waitee {
	if w == nil {
		return waitee{}
	}
	return waitee{h: &w.handle, ready: w.writable}
}

// writable reports whether a write would not block now: a Queue buffer
// has room (a Broadcast one always has), or a Claim is outstanding (the
// write fails at once).
func (w *Writer) writable() bool {
	if w.c.q == nil || w.isLent() {
		return true
	}
	full, _ := w.c.q.full()
	return !full
}

// waitBase returns the reader's.
func (t *TypedReader[T]) waitBase() waitee {
	if t == nil {
		return waitee{}
	}
	return t.r.waitBase()
}

// waitBase returns the writer's.
func (t *TypedWriter[T]) waitBase() waitee {
	if t == nil {
		return waitee{}
	}
	return t.w.waitBase()
}
