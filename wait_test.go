package scb_test

// Waiting calls: they honour their context (a done context loses only to
// an item or room that already came), wake up when the other side acts,
// end when their handle is closed, and end with ErrRemoved once their
// buffer was removed or replaced and they can never proceed. The wake-up
// protocol (internal/wait): a sleeper registers, reads the sequence word,
// checks its condition and sleeps; a waker publishes, and if it finds
// registrations, claims them all and wakes once. Those tests make every
// sleep last until woken (a lost wake-up hangs, which the bounded waits
// turn into a failure) and check that registrations left by a killed
// sleeper cost one wake-up, not one per item.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/scbtest"
)

func TestWaitCallsHonourContext(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Length = 2
		w := create(t, "q", o)
		r := openReader(t, "q", at(o))

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := r.PopWait(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		require.NoError(t, w.Push(1))
		require.NoError(t, w.Push(2))
		ctx2, cancel2 := context.WithCancel(context.Background())
		go func() { time.Sleep(20 * time.Millisecond); cancel2() }()
		err = w.PushWait(ctx2, 3)
		require.ErrorIs(t, err, context.Canceled)
		_, err = r.PopBytesWait(ctx2, make([]byte, 8))
		require.NoError(t, err, "an item that is there is returned even with a done context")
	})
}

func TestWaitCallsWakeUp(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Length = 4
		o.ItemSize = 8
		w := create(t, "q", o)
		r := openReader(t, "q", at(o))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()

		const n = 5000
		errc := make(chan error, 1)
		go func() {
			for i := range n {
				if i%2 == 0 {
					if err := w.PushWait(ctx, uint64(i)); err != nil {
						errc <- err
						return
					}
				} else if err := w.PushBytesWait(ctx, []byte{0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)}); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		buf := make([]byte, 8)
		for i := range n {
			if i%3 == 0 {
				nb, err := r.PopBytesWait(ctx, buf)
				require.NoError(t, err)
				require.Equal(t, 8, nb)
				require.Equal(t, []byte{0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)}, buf)
			} else {
				v, err := r.PopWait(ctx)
				require.NoError(t, err)
				require.Equal(t, uint64(i), v)
			}
		}
		require.NoError(t, <-errc)
	})
}

func TestFlockCloseEndsWaits(t *testing.T) {
	o := newOpts(t, scb.Flock, scb.Queue)
	create(t, "q", o)
	r, err := scb.OpenReader("q", at(o))
	require.NoError(t, err)
	errc := make(chan error)
	go func() {
		_, err := r.PopWait(context.Background())
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond) // let it reach the sleep; the test passes either way
	require.NoError(t, r.Close())
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, scb.ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("PopWait did not return after Close")
	}
}

func isLinux() bool { return runtime.GOOS == "linux" }

// TestCanceledWaitThenClose closes a handle right after a blocking call
// ended by its context: the context's wake-up must not touch the mapping
// after the call has returned (it once did, and crashed with SIGSEGV).
func TestCanceledWaitThenClose(t *testing.T) {
	o := newOpts(t, 0, 0)
	create(t, "q", o)
	for i := range sized(1000, 250) {
		r, err := scb.OpenReader("q", at(o))
		require.NoError(t, err)
		// Deadlines spread over the time it takes to reach the sleep.
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%50)*5*time.Microsecond)
		_, err = r.PopWait(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NoError(t, r.Close())
		cancel()
	}
}

// TestWaitWithDoneContext: every Wait call given a context that is already
// done still succeeds when it can proceed without waiting, and otherwise
// returns the context's error at once (wrapped, matching it), in every
// strategy and mode. The typed forms and the iterators follow the same
// rule.
func TestWaitWithDoneContext(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		for _, c := range waitCalls(t) {
			if c.zeroCopy && m == scb.Broadcast {
				continue
			}
			for _, ready := range []bool{true, false} {
				state := map[bool]string{true: "/can proceed", false: "/must wait"}[ready]
				if c.writes && m == scb.Broadcast && !ready {
					continue // a Broadcast writer never waits
				}
				t.Run(c.name+state, func(t *testing.T) {
					o := newOpts(t, s, m)
					o.Length, o.ItemSize = 4, 4
					w := create(t, "d", o)
					r := openReader(t, "d", at(o))
					if c.writes && !ready || !c.writes && ready {
						for i := range uint64(4) { // full: no room, and items to read
							require.NoError(t, w.Push(i))
						}
					}
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					start := time.Now()
					err := c.run(ctx, w, r)
					if ready {
						require.NoError(t, err)
						if c.afterwork != nil {
							require.NoError(t, c.afterwork(w, r))
						}
						return
					}
					require.ErrorIs(t, err, context.Canceled)
					assert.Less(t, time.Since(start), time.Second, "returned promptly")
				})
			}
		}
	})
}

// TestContextDoneAfterProgress: a context that ends just after the peer
// made progress, while a Wait call that found nothing to do is about to
// wait, loses to that progress. The call takes the item (or the room)
// rather than return the context's error with it left behind: a consumer
// whose producer pushes its last item and exits, which cancels the
// consumer's wait, gets that item. Not parallel: the hook is the
// process's.
func TestContextDoneAfterProgress(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		for _, c := range waitCalls(t) {
			if c.zeroCopy && m == scb.Broadcast || c.writes && m == scb.Broadcast {
				continue // a Broadcast writer never waits
			}
			t.Run(c.name, func(t *testing.T) {
				o := newOpts(t, s, m)
				o.Length, o.ItemSize = 4, 4
				w := create(t, "d", o)
				r := openReader(t, "d", at(o))
				if c.writes {
					for i := range uint64(4) { // full: no room
						require.NoError(t, w.Push(i))
					}
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				hooked := 0
				defer scb.SetAwaitHook(func() {
					if hooked++; hooked > 1 {
						return
					}
					// The peer's progress, then the end of the context.
					if c.writes {
						for range 2 { // room for the batches too
							_, err := r.Pop()
							require.NoError(t, err)
						}
					} else {
						require.NoError(t, w.Push(9))
					}
					cancel()
				})()
				require.NoError(t, c.run(ctx, w, r))
				if c.afterwork != nil {
					require.NoError(t, c.afterwork(w, r))
				}
				assert.Equal(t, 1, hooked, "the call waited once, and proceeded")
			})
		}
	})
}

// waitCall is one of the blocking calls, run on w or r.
type waitCall struct {
	name      string
	writes    bool // needs room (a writer's call) rather than items
	zeroCopy  bool // Queue only
	run       func(ctx context.Context, w *scb.Writer, r *scb.Reader) error
	afterwork func(w *scb.Writer, r *scb.Reader) error // ends a Claim or Peek
}

// waitCalls lists every blocking call of the API (the typed forms and the
// iterators too), each as one step: for the iterators, their first.
func waitCalls(t *testing.T) []waitCall {
	vs, dst := []uint64{1, 2}, make([]uint64, 2)
	items, bufs := [][]byte{{1}, {2}}, [][]byte{make([]byte, 8), make([]byte, 8)}
	buf := make([]byte, 8)
	return []waitCall{
		{name: "PushWait", writes: true, run: func(ctx context.Context, w *scb.Writer, _ *scb.Reader) error { return w.PushWait(ctx, 1) }},
		{name: "PushBytesWait", writes: true, run: func(ctx context.Context, w *scb.Writer, _ *scb.Reader) error {
			return w.PushBytesWait(ctx, []byte{1})
		}},
		{name: "PushManyWait", writes: true, run: func(ctx context.Context, w *scb.Writer, _ *scb.Reader) error {
			_, err := w.PushManyWait(ctx, vs)
			return err
		}},
		{name: "PushBytesManyWait", writes: true, run: func(ctx context.Context, w *scb.Writer, _ *scb.Reader) error {
			_, err := w.PushBytesManyWait(ctx, items)
			return err
		}},
		{name: "ClaimWait", writes: true, zeroCopy: true, run: func(ctx context.Context, w *scb.Writer, _ *scb.Reader) error {
			_, err := w.ClaimWait(ctx)
			return err
		}, afterwork: func(w *scb.Writer, _ *scb.Reader) error { return w.Commit(1) }},
		{name: "TypedWriter.PushWait", writes: true, run: func(ctx context.Context, w *scb.Writer, _ *scb.Reader) error {
			tw, err := scb.NewTypedWriter[uint32](w)
			require.NoError(t, err)
			return tw.PushWait(ctx, 1)
		}},
		{name: "PopWait", run: func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error {
			_, err := r.PopWait(ctx)
			return err
		}},
		{name: "PopBytesWait", run: func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error {
			_, err := r.PopBytesWait(ctx, buf)
			return err
		}},
		{name: "PopIntoWait", run: func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error {
			_, err := r.PopIntoWait(ctx, dst)
			return err
		}},
		{name: "PopBytesIntoWait", run: func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error {
			_, err := r.PopBytesIntoWait(ctx, bufs)
			return err
		}},
		{name: "PeekWait", zeroCopy: true, run: func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error {
			_, err := r.PeekWait(ctx)
			return err
		}, afterwork: func(_ *scb.Writer, r *scb.Reader) error { return r.Release() }},
		{name: "TypedReader.PopWait", run: func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error {
			tr, err := scb.NewTypedReader[[4]byte](r)
			require.NoError(t, err)
			_, err = tr.PopWait(ctx)
			return err
		}},
		{name: "Values", run: func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error {
			for _, err := range r.Values(ctx) {
				return err // the first step: an item, or the context's error
			}
			return nil
		}},
		{name: "Items", run: func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error {
			for _, err := range r.Items(ctx, buf) {
				return err
			}
			return nil
		}},
	}
}

// TestPushManyWaitDoneContextPartial: with room for part of the batch, a
// done context still lets PushManyWait write that part, and then ends it.
func TestPushManyWaitDoneContextPartial(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Length = 4
		w := create(t, "p", o)
		require.NoError(t, w.Push(0))
		require.NoError(t, w.Push(0))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		n, err := w.PushManyWait(ctx, []uint64{1, 2, 3})
		assert.Equal(t, 2, n)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 4, w.Len())
	})
}

func init() {
	role("pop-sleepy", childPopSleepy)
}

// childPopSleepy reads N integers with PopWait, sleeping at once on every
// wait (Spin -1) and never waking by a timeout, and checks their order.
func childPopSleepy(ctx context.Context, name string, o *scb.Options) error {
	defer scb.SetSleepLimits(time.Hour)()
	o.Spin = -1
	return childReaderSeq(ctx, name, o)
}

func skipWithoutFutexes(t testing.TB) {
	if !scb.Futexes {
		scbtest.Skip(t, "blocking calls poll on this platform: there is no wake-up to lose", "pop-sleepy")
	}
}

func TestNoLostWakeUps(t *testing.T) {
	// Both sides sleep at once whenever they wait, on a ring of 4 slots,
	// so nearly every item is a sleep and a wake-up on one side or the
	// other; no sleep ends by its timeout. One lost wake-up is a hang.
	skipWithoutFutexes(t)
	defer scb.SetSleepLimits(time.Hour)()
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		n := sized(100_000, 20_000)
		o := &scb.Options{Dir: t.TempDir(), Strategy: s, Length: 4, Spin: -1}
		w := create(t, "wakes", o)
		c := startChild(t, "pop-sleepy", map[string]string{"DIR": o.Dir, "NAME": "wakes", "N": strconv.Itoa(n)})
		c.Expect("ready")
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		for i := range uint64(n) {
			require.NoError(t, w.PushWait(ctx, i), "item %d: a lost wake-up leaves the writer asleep", i)
		}
		assert.Equal(t, strconv.Itoa(n), c.Expect("ok"), "a lost wake-up leaves the reader asleep")
		c.Wait()
	})
}

// TestKilledSleeperCostsOneWakeUp: a reader killed asleep is no sleeper
// for Stat at once (its holder lock went with it), and its registration on
// the wake-up word costs the writer one wake-up, not one per push.
func TestKilledSleeperCostsOneWakeUp(t *testing.T) {
	skipWithoutFutexes(t)
	o := &scb.Options{Dir: t.TempDir()}
	w := create(t, "sleepy", o)
	c := startChild(t, "pop-sleepy", map[string]string{"DIR": o.Dir, "NAME": "sleepy", "N": "1000"})
	c.Expect("ready")
	path := filepath.Join(o.Dir, "sleepy.scb")
	asleep := func() int {
		info, err := scb.Stat("sleepy", at(o))
		require.NoError(t, err)
		return info.ReadersWaiting
	}
	registered := func() uint32 { return uint32(peekWord(t, path, layout.OffDataWaiters, 4)) }
	deadline := time.Now().Add(waitBound)
	// Stat counts the call asleep just before it registers on the
	// wake-up word: wait for both.
	for asleep() == 0 || registered() == 0 {
		require.True(t, time.Now().Before(deadline), "the reader never went to sleep")
		time.Sleep(time.Millisecond)
	}
	c.Kill()
	assert.Zero(t, asleep(), "a dead reader is no sleeper")
	// The dead sleeper's registration is still there; the first push
	// claims it (one wake-up for nobody), and the pushes after it find
	// nobody to wake.
	require.Positive(t, registered())
	require.NoError(t, w.Push(1))
	assert.Zero(t, registered(), "a push left the dead sleeper registered: every later push would make a system call")
	require.NoError(t, w.Push(2))
	assert.Zero(t, registered())
}

// removedBound is how soon a waiting call must report ErrRemoved: the
// documented quarter of a second, plus slack for a loaded machine.
const removedBound = time.Second

func init() {
	role("pop-until-removed", childPopUntilRemoved)
}

// childPopUntilRemoved reads integers with PopWait and says how many it got
// once a read fails, and with what.
func childPopUntilRemoved(ctx context.Context, name string, o *scb.Options) error {
	r, err := ready(name, o, scb.OpenReader)
	if err != nil {
		return err
	}
	defer r.Close()
	n := 0
	for {
		_, err := r.PopWait(ctx)
		if err != nil {
			if errors.Is(err, scb.ErrRemoved) {
				fmt.Println("removed", n)
				return nil
			}
			return err
		}
		n++
	}
}

func TestReaderWaitEndsWhenRemoved(t *testing.T) {
	skipOnWindows(t, "Windows refuses to remove a buffer that a handle has open (Remove returns ErrBusy)")
	for _, replace := range []bool{false, true} {
		t.Run(map[bool]string{false: "removed", true: "replaced"}[replace], func(t *testing.T) {
			forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
				o := newOpts(t, s, m)
				w := create(t, "gone", o)
				r := openReader(t, "gone", at(o))
				require.NoError(t, w.Push(7))
				require.NoError(t, scb.Remove("gone", at(o)))
				if replace {
					create(t, "gone", o)
				}
				// What was written before the removal is still read.
				ctx, cancel := context.WithTimeout(context.Background(), waitBound)
				defer cancel()
				v, err := r.PopWait(ctx)
				require.NoError(t, err)
				assert.Equal(t, uint64(7), v)
				// Then the wait ends.
				start := time.Now()
				_, err = r.PopWait(ctx)
				took := time.Since(start)
				require.ErrorIs(t, err, scb.ErrRemoved)
				assert.Less(t, took, removedBound)
				t.Logf("ErrRemoved after %v", took)
				// A non-blocking read still says empty.
				_, err = r.Pop()
				assert.ErrorIs(t, err, scb.ErrEmpty)
			})
		})
	}
}

func TestReaderWaitKeepsWaitingWhileBufferExists(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		create(t, "here", o)
		r := openReader(t, "here", at(o))
		ctx, cancel := context.WithTimeout(context.Background(), 3*removedBound/2)
		defer cancel()
		_, err := r.PopWait(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestWriterWaitEndsWhenRemovedWithoutReader(t *testing.T) {
	skipOnWindows(t, "Windows refuses to remove a buffer that a handle has open (Remove returns ErrBusy)")
	o := newOpts(t, scb.Atomic, scb.Queue)
	o.Length = 2
	w := create(t, "full", o)
	require.NoError(t, w.Push(1))
	require.NoError(t, w.Push(2))
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()

	// A reader is attached: it could still make room, so the writer waits.
	r := openReader(t, "full", at(o))
	require.NoError(t, scb.Remove("full", at(o)))
	short, cancelShort := context.WithTimeout(ctx, 3*removedBound/2)
	defer cancelShort()
	err := w.PushWait(short, 3)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// The reader makes room, and the writer uses it.
	_, err = r.Pop()
	require.NoError(t, err)
	require.NoError(t, w.PushWait(ctx, 3))

	// Without a reader nobody can ever make room.
	require.NoError(t, r.Close())
	start := time.Now()
	err = w.PushWait(ctx, 4)
	took := time.Since(start)
	require.ErrorIs(t, err, scb.ErrRemoved)
	assert.Less(t, took, removedBound)
}

func TestFlockWriterWaitsOnRemovedBuffer(t *testing.T) {
	skipOnWindows(t, "Windows refuses to remove a buffer that a handle has open (Remove returns ErrBusy)")
	// A Flock writer cannot know whether readers are attached: it waits
	// until its context is done.
	o := newOpts(t, scb.Flock, scb.Queue)
	o.Length = 2
	w := create(t, "full", o)
	require.NoError(t, w.Push(1))
	require.NoError(t, w.Push(2))
	require.NoError(t, scb.Remove("full", at(o)))
	ctx, cancel := context.WithTimeout(context.Background(), 3*removedBound/2)
	defer cancel()
	assert.ErrorIs(t, w.PushWait(ctx, 3), context.DeadlineExceeded)
}

func TestCrossProcessSubscriberSeesRemoval(t *testing.T) {
	skipOnWindows(t, "Windows refuses to remove a buffer that a handle has open (Remove returns ErrBusy)", "pop-until-removed")
	// The scenario: a subscriber in another process waits on a
	// buffer that its publisher removes and creates again.
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		w := create(t, "feed", o)
		c := startChild(t, "pop-until-removed", map[string]string{"DIR": o.Dir, "NAME": "feed"})
		c.Expect("ready")
		for i := range uint64(10) {
			require.NoError(t, w.Push(i))
		}
		require.NoError(t, w.Close())
		require.NoError(t, scb.Remove("feed", at(o)))
		nw := create(t, "feed", o)
		require.NoError(t, nw.Push(99)) // the new buffer's items are not the subscriber's
		got := c.Expect("removed")
		n, err := strconv.Atoi(got)
		require.NoError(t, err)
		assert.Equal(t, 10, n, "items read before the removal was reported")
		c.Wait()
	})
}

// TestStatSleepersAreLive: Stat counts the calls asleep now. A call that
// slept and gave up (its context ended, nobody woke it) is not counted
// once it returned, though its registration on the wake-up word stays
// until the other side next wakes; it once was, as "asleep 1 readers".
func TestStatSleepersAreLive(t *testing.T) {
	skipWithoutFutexes(t)
	for _, s := range []scb.Strategy{scb.Atomic, scb.Flock} {
		t.Run(s.String(), func(t *testing.T) {
			if s == scb.Atomic {
				needAtomic(t)
			}
			o := newOpts(t, s, scb.Queue)
			o.Length = 2
			w := create(t, "sleepy", o)
			r := openReader(t, "sleepy", at(o))
			stat := func() scb.Info {
				t.Helper()
				info, err := scb.Stat("sleepy", at(o))
				require.NoError(t, err)
				return info
			}
			for _, side := range []struct {
				name  string
				wait  func(ctx context.Context) error
				count func(scb.Info) int
			}{
				{"reader", func(ctx context.Context) error { _, err := r.PopWait(ctx); return err }, func(i scb.Info) int { return i.ReadersWaiting }},
				{"writer", func(ctx context.Context) error {
					for w.Push(0) == nil {
					}
					return w.PushWait(ctx, 1)
				}, func(i scb.Info) int { return i.WritersWaiting }},
			} {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- side.wait(ctx) }()
				deadline := time.Now().Add(waitBound)
				for side.count(stat()) != 1 {
					require.True(t, time.Now().Before(deadline), "the %s never went to sleep", side.name)
					time.Sleep(time.Millisecond)
				}
				cancel()
				require.ErrorIs(t, <-done, context.Canceled)
				assert.Zero(t, side.count(stat()), "the %s returned: nobody sleeps", side.name)
			}
		})
	}
}

// TestAdaptSpin: waits that end asleep shrink the spin of the next ones,
// up to a cap; a sleep that a busy peer ends quickly restores the full
// spin, so that a waiter whose spin once shrank below its peer's pace does
// not sleep (and make its peer call the kernel) on every wait from then on.
func TestAdaptSpin(t *testing.T) {
	for _, c := range []struct {
		slept int32
		d     time.Duration
		busy  bool // the cores are oversubscribed
		want  int32
	}{
		{0, time.Millisecond, false, 1},
		{3, time.Millisecond, false, 4},
		{8, time.Second, false, 8},           // capped
		{8, 10 * time.Microsecond, false, 0}, // woken at once: the peer is busy
		{4, 199 * time.Microsecond, false, 0},
		{4, 200 * time.Microsecond, false, 5}, // not quick
		{0, 0, false, 0},                      // did not sleep at all
		{4, 10 * time.Microsecond, true, 5},   // oversubscribed: spin less all the same
	} {
		assert.Equal(t, c.want, scb.Adapt(c.slept, c.d, c.busy), "%d waits asleep, then a sleep of %v, busy %v", c.slept, c.d, c.busy)
	}
}

// TestLongSpinEnds: a blocking call of a handle that spins for ever
// (Options.Spin) still ends for its context, Close (Flock: an Atomic
// handle's Close is not for another goroutine) and the end of the
// stream, within a spin check, not when the spin would end; a writer
// waiting for room, for its context.
func TestLongSpinEnds(t *testing.T) {
	type call func(ctx context.Context, w *scb.Writer, r *scb.Reader) error
	pop := func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error { _, err := r.PopWait(ctx); return err }
	push := func(ctx context.Context, w *scb.Writer, _ *scb.Reader) error { return w.PushWait(ctx, 9) }
	for _, s := range strategies {
		for _, tc := range []struct {
			name string
			call call
			end  func(w *scb.Writer, r *scb.Reader, cancel context.CancelFunc)
			want error
		}{
			{"reader/context", pop, func(_ *scb.Writer, _ *scb.Reader, cancel context.CancelFunc) { cancel() }, context.Canceled},
			{"reader/close", pop, func(_ *scb.Writer, r *scb.Reader, _ context.CancelFunc) { r.Close() }, scb.ErrClosed},
			{"reader/end of stream", pop, func(w *scb.Writer, _ *scb.Reader, _ context.CancelFunc) { w.CloseWrite() }, io.EOF},
			{"writer/context", push, func(_ *scb.Writer, _ *scb.Reader, cancel context.CancelFunc) { cancel() }, context.Canceled},
		} {
			t.Run(s.String()+"/"+tc.name, func(t *testing.T) {
				if s == scb.Atomic {
					if tc.want == scb.ErrClosed {
						t.Skip("an Atomic handle is one goroutine's: Close does not end its waits")
					}
					needAtomic(t)
				}
				o := newOpts(t, s, scb.Queue)
				o.Length = 2
				// Both handles spin for ever; the writer fills the ring
				// first, so that its PushWait waits for room.
				o.Spin = math.MaxInt
				w := create(t, "spin", o)
				r, err := scb.OpenReader("spin", &scb.Options{Dir: o.Dir, Spin: math.MaxInt})
				require.NoError(t, err)
				if strings.HasPrefix(tc.name, "writer") {
					require.NoError(t, w.Push(1))
					require.NoError(t, w.Push(2))
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				waiting := make(chan struct{})
				var once sync.Once
				defer scb.SetAwaitHook(func() { once.Do(func() { close(waiting) }) })()
				done := make(chan error, 1)
				go func() { done <- tc.call(ctx, w, r) }()
				select {
				case <-waiting: // the call found nothing to do and begins its spin
				case <-time.After(100 * time.Millisecond): // spinning before it (PopWait's inline polls), or slow
				}
				time.Sleep(5 * time.Millisecond)
				tc.end(w, r, cancel)
				select {
				case err := <-done:
					require.ErrorIs(t, err, tc.want)
					r.Close()
				case <-timeAfter(waitBound):
					// The reader stays mapped: the call still spins on it.
					t.Fatalf("the call still spins %v after the %s", waitBound, tc.name)
				}
			})
		}
	}
}

// wakeWords reads the wake-up word of readers waiting for items in the
// buffer file at path: the registrations (1 for a sleeper that every item
// must wake, 1<<16 for a batch reader's nap) and how many times it was
// woken.
func wakeWords(t testing.TB, path string) (registrations, wakes uint32) {
	t.Helper()
	return uint32(peekWord(t, path, layout.OffDataWaiters, 4)), uint32(peekWord(t, path, layout.OffDataSeq, 4))
}

// awaitRegistrations polls the wake-up word of readers waiting for items
// in the buffer file at path until its registrations satisfy ok, and
// returns them with the wake count read at the same time; it fails the
// test, saying what never happened, after waitBound.
func awaitRegistrations(t testing.TB, path, what string, ok func(regs uint32) bool) (registrations, wakes uint32) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for {
		regs, wakes := wakeWords(t, path)
		if ok(regs) {
			return regs, wakes
		}
		require.True(t, time.Now().Before(deadline), "%s (registrations %#x)", what, regs)
		time.Sleep(time.Millisecond)
	}
}

// skipWithoutBatchWake skips where Options.BatchWake does nothing: where
// waits poll, and on Windows, whose timed waits are too coarse to nap.
func skipWithoutBatchWake(t testing.TB) {
	skipWithoutFutexes(t)
	if runtime.GOOS == "windows" {
		scbtest.Skip(t, "BatchWake does nothing on Windows: its timed waits end on a 15.6 ms tick", "pop-batches")
	}
}

// A batch reader of TestBatchReaderWokenByShare: it reads up to 64
// integers in one blocking call of some kind.
type batchRead func(ctx context.Context, r *scb.Reader) ([]uint64, error)

var batchReads = []struct {
	name string
	read batchRead
}{
	{"PopIntoWait", func(ctx context.Context, r *scb.Reader) ([]uint64, error) {
		dst := make([]uint64, 64)
		n, err := r.PopIntoWait(ctx, dst)
		return dst[:n], err
	}},
	{"PopManyWait", func(ctx context.Context, r *scb.Reader) ([]uint64, error) {
		return r.PopManyWait(ctx, 64)
	}},
	{"PopBytesIntoWait", func(ctx context.Context, r *scb.Reader) ([]uint64, error) {
		bufs := make([][]byte, 64)
		for i := range bufs {
			bufs[i] = make([]byte, 8)
		}
		n, err := r.PopBytesIntoWait(ctx, bufs)
		vs := make([]uint64, n)
		for i := range vs {
			vs[i] = binary.BigEndian.Uint64(bufs[i])
		}
		return vs, err
	}},
	{"TypedReader.PopIntoWait", func(ctx context.Context, r *scb.Reader) ([]uint64, error) {
		tr, err := scb.NewTypedReader[uint64](r)
		if err != nil {
			return nil, err
		}
		dst := make([]uint64, 64)
		n, err := tr.PopIntoWait(ctx, dst)
		for i := range dst[:n] {
			dst[i] = bits.ReverseBytes64(dst[i]) // typed items are little-endian, PushMany's big-endian
		}
		return dst[:n], err
	}},
}

// TestBatchReaderWokenByShare: a Queue reader opened with BatchWake,
// asleep in a batch read, is woken by a writer of batches only once a
// quarter of the ring is ready (here 16 of 64), not by every batch; a
// writer of one item, a reader that asks for one item, a reader without
// BatchWake, a Broadcast reader and a second sleep of the same call are
// woken by the first item. The naps that bound a batch read's first sleep
// last an hour here, except where the case is about the nap: a lost or
// deferred wake-up would hang.
func TestBatchReaderWokenByShare(t *testing.T) {
	skipWithoutBatchWake(t)
	const length = 64
	type read struct {
		vs  []uint64
		err error
	}
	pushMany := func(t *testing.T, w *scb.Writer, from, n int) {
		vs := make([]uint64, n)
		for i := range vs {
			vs[i] = uint64(from + i)
		}
		k, err := w.PushMany(vs)
		require.NoError(t, err)
		require.Equal(t, n, k)
	}
	cases := []struct {
		name      string
		nap       time.Duration // the batch read's first sleep, at most
		one       bool          // the reader reads one item (PopWait), not a batch
		plain     bool          // the reader is opened without BatchWake
		broadcast bool
		write     func(t *testing.T, w *scb.Writer, path string, got <-chan read)
		want      int    // items the reader gets
		wakes     uint32 // wake-ups of the word meanwhile
	}{
		{name: "batches below the share sleep on", nap: time.Hour, write: func(t *testing.T, w *scb.Writer, path string, got <-chan read) {
			for i := range 7 {
				pushMany(t, w, 2*i, 2)
			}
			select {
			case r := <-got:
				t.Fatalf("14 items in batches of 2 woke a batch reader: it got %v, %v", r.vs, r.err)
			case <-time.After(100 * time.Millisecond):
			}
			regs, _ := wakeWords(t, path)
			assert.Equal(t, uint32(1<<16), regs, "the reader sleeps registered for a share")
			pushMany(t, w, 14, 2) // 16 ready: a quarter of 64
		}, want: 16, wakes: 1},
		{name: "one item wakes a batch reader", nap: time.Hour, write: func(t *testing.T, w *scb.Writer, path string, got <-chan read) {
			require.NoError(t, w.Push(0))
		}, want: 1, wakes: 1},
		{name: "a batch of one wakes a batch reader", nap: time.Hour, write: func(t *testing.T, w *scb.Writer, path string, got <-chan read) {
			pushMany(t, w, 0, 1)
		}, want: 1, wakes: 1},
		{name: "a batch wakes a reader of one item", nap: time.Hour, one: true, write: func(t *testing.T, w *scb.Writer, path string, got <-chan read) {
			pushMany(t, w, 0, 3)
		}, want: 1, wakes: 1},
		{name: "a batch wakes a reader without BatchWake", nap: time.Hour, plain: true, write: func(t *testing.T, w *scb.Writer, path string, got <-chan read) {
			pushMany(t, w, 0, 3)
		}, want: 3, wakes: 1},
		{name: "a batch wakes a Broadcast reader", nap: time.Hour, broadcast: true, write: func(t *testing.T, w *scb.Writer, path string, got <-chan read) {
			pushMany(t, w, 0, 3)
		}, want: 3, wakes: 1},
		{name: "the nap ends without a wake-up", nap: 500 * time.Millisecond, write: func(t *testing.T, w *scb.Writer, path string, got <-chan read) {
			pushMany(t, w, 0, 3)
		}, want: 3, wakes: 0},
		{name: "a second sleep wakes at the first batch", nap: 20 * time.Millisecond, write: func(t *testing.T, w *scb.Writer, path string, got <-chan read) {
			// The nap ends with nothing to read, and the call sleeps
			// again, registered for every item.
			awaitRegistrations(t, path, "the reader never slept a second time", func(regs uint32) bool { return regs&0xffff != 0 })
			pushMany(t, w, 0, 3)
		}, want: 3, wakes: 1},
	}
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		for _, c := range cases {
			reads := batchReads[:1]
			if c.name == "batches below the share sleep on" {
				reads = batchReads // each kind of batch read naps
			}
			for _, rd := range reads {
				t.Run(c.name+"/"+rd.name, func(t *testing.T) {
					defer scb.SetSleepLimits(time.Hour)()
					defer scb.SetShareNap(c.nap)()
					o := &scb.Options{Dir: t.TempDir(), Strategy: s, Length: length, Spin: -1}
					if c.broadcast {
						o.Mode = scb.Broadcast
					}
					w := create(t, "share", o)
					ro := at(o)
					ro.Spin, ro.BatchWake = -1, !c.plain
					r := openReader(t, "share", ro)
					ctx, cancel := context.WithTimeout(context.Background(), waitBound)
					defer cancel()
					got := make(chan read, 1)
					go func() {
						if c.one {
							v, err := r.PopWait(ctx)
							got <- read{[]uint64{v}, err}
							return
						}
						vs, err := rd.read(ctx, r)
						got <- read{vs, err}
					}()
					waitAsleep(t, "share", at(o))
					path := filepath.Join(o.Dir, "share.scb")
					regs, before := awaitRegistrations(t, path, "the reader never registered", func(regs uint32) bool { return regs != 0 })
					if c.nap != time.Hour && c.wakes == 0 && regs != 1<<16 {
						t.Skipf("the nap ended before the batch came (registrations %#x): the machine is too slow for this case", regs)
					}
					c.write(t, w, path, got)
					r1 := <-got
					_, after := wakeWords(t, path)
					require.NoError(t, r1.err)
					want := make([]uint64, c.want)
					for i := range want {
						want[i] = uint64(i)
					}
					assert.Equal(t, want, r1.vs)
					assert.Equal(t, c.wakes, after-before, "wake-ups")
				})
			}
		}
	})
}

func init() {
	role("pop-batches", childPopBatches)
}

// childPopBatches reads integers with PopIntoWait, 64 at a time, until
// the end of the stream, and says how many it read, all in order. With
// BATCHWAKE=1 it opens its reader with BatchWake; with SLEEPY=1 it sleeps
// at once whenever the buffer is empty, and its sleeps last until woken,
// the batch nap included. With STAMPS=1 the items are the times they were
// written (UnixNano), and it says the median and 99th percentile of how
// late it read them instead of checking their order.
func childPopBatches(ctx context.Context, name string, o *scb.Options) error {
	o.BatchWake = param("BATCHWAKE") == "1"
	if param("SLEEPY") == "1" {
		defer scb.SetSleepLimits(time.Hour)()
		o.Spin = -1
	}
	stamps := param("STAMPS") == "1"
	r, err := ready(name, o, scb.OpenReader)
	if err != nil {
		return err
	}
	defer r.Close()
	dst := make([]uint64, 64)
	var n uint64
	var late []time.Duration
	for {
		k, err := r.PopIntoWait(ctx, dst)
		if errors.Is(err, io.EOF) {
			if stamps {
				slices.Sort(late)
				fmt.Println("ok", n, int64(late[len(late)/2]), int64(late[len(late)*99/100]))
				return nil
			}
			fmt.Println("ok", n)
			return nil
		}
		if err != nil {
			return fmt.Errorf("item %d: %w", n, err)
		}
		now := time.Now().UnixNano()
		for _, v := range dst[:k] {
			switch {
			case stamps:
				late = append(late, time.Duration(now-int64(v)))
			case v != n:
				return fmt.Errorf("item %d is %d", n, v)
			}
			n++
		}
	}
}

// pushPaced writes n integers (from 0, or the time, with stamps) in
// batches of size, pausing for pause after each (a busy wait: sleeps are
// too coarse), and then ends the stream.
func pushPaced(t testing.TB, w *scb.Writer, n, size int, pause time.Duration, stamps bool) {
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	batch := make([]uint64, size)
	for i := 0; i < n; i += size {
		k := min(size, n-i)
		for j := range k {
			batch[j] = uint64(i + j)
			if stamps {
				batch[j] = uint64(time.Now().UnixNano())
			}
		}
		_, err := w.PushManyWait(ctx, batch[:k])
		require.NoError(t, err)
		for end := time.Now().Add(pause); time.Now().Before(end); {
		}
	}
	require.NoError(t, w.CloseWrite())
}

// TestBatchWakeUpsAcrossProcesses: a writer of batches of 4, pausing 20 µs
// after each, wakes a BatchWake reader of batches in another process,
// asleep whenever the ring is empty, only once a quarter of the ring (16
// of 64) is ready: about one wake-up per 16 items at most, where waking at
// every batch makes up to one per 4. The reader's sleeps last until
// woken: a wake-up deferred and never made hangs.
func TestBatchWakeUpsAcrossProcesses(t *testing.T) {
	skipWithoutBatchWake(t)
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		const n = 4096
		o := &scb.Options{Dir: t.TempDir(), Strategy: s, Length: 64}
		w := create(t, "batches", o)
		c := startChild(t, "pop-batches", map[string]string{"DIR": o.Dir, "NAME": "batches", "SLEEPY": "1", "BATCHWAKE": "1"})
		c.Expect("ready")
		path := filepath.Join(o.Dir, "batches.scb")
		_, before := wakeWords(t, path)
		pushPaced(t, w, n, 4, 20*time.Microsecond, false) // CloseWrite wakes the reader for the last items and the end
		assert.Equal(t, strconv.Itoa(n), c.Expect("ok"))
		c.Wait()
		_, after := wakeWords(t, path)
		wakes := after - before
		t.Logf("%d wake-ups for %d items in batches of 4", wakes, n)
		// Each wake-up needs 16 items the reader has not seen, plus one
		// for CloseWrite and a few for sleeps that end early (a signal).
		assert.LessOrEqual(t, wakes, uint32(n/16+16), "a reader of batches was woken before a quarter of the ring was ready")
	})
}

// TestBatchReaderNapsWhileTheWriterIsQuick: a BatchWake reader whose nap
// ends with nothing to read (its writer pauses longer than a nap) does not
// nap in its next call, which sleeps registered for every item, however
// soon the rest of the first call is woken; once the first sleep of a
// batch call is woken within a nap's length, it naps again.
func TestBatchReaderNapsWhileTheWriterIsQuick(t *testing.T) {
	skipWithoutBatchWake(t)
	const nap = 200 * time.Millisecond
	defer scb.SetSleepLimits(time.Hour)()
	defer scb.SetShareNap(nap)()
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: s, Length: 64, Spin: -1}
		w := create(t, "naps", o)
		ro := at(o)
		ro.Spin, ro.BatchWake = -1, true
		r := openReader(t, "naps", ro)
		path := filepath.Join(o.Dir, "naps.scb")
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		got := make(chan int, 1)
		read := func() {
			go func() {
				n, err := r.PopIntoWait(ctx, make([]uint64, 64))
				assert.NoError(t, err)
				got <- n
			}()
		}
		registered := func(what string, ok func(regs uint32) bool) uint32 {
			regs, _ := awaitRegistrations(t, path, what, ok)
			return regs
		}
		push := func(vs ...uint64) {
			_, err := w.PushMany(vs)
			require.NoError(t, err)
		}

		read()
		registered("the nap never ended", func(regs uint32) bool { return regs&0xffff != 0 })
		push(0, 1, 2) // wakes the call's second sleep, within a nap's length
		assert.Equal(t, 3, <-got)

		read()
		regs := registered("the second call never slept", func(regs uint32) bool { return regs != 0 })
		assert.Zero(t, regs>>16, "a reader whose nap found nothing napped again")
		push(3, 4, 5) // within a nap's length
		assert.Equal(t, 3, <-got)

		read()
		regs = registered("the third call never slept", func(regs uint32) bool { return regs != 0 })
		assert.NotZero(t, regs>>16, "a reader woken quickly did not nap again")
		require.NoError(t, w.Push(6))
		assert.Equal(t, 1, <-got)
	})
}

// BenchmarkBatchWakeUps: a writer of small batches (8 items) that pauses
// 20 µs after each, and a reader of batches of 64 in another process,
// which sleeps whenever it catches up, opened with and without BatchWake.
// It reports the reader's wake-ups per 1,000 items (bumps of the wake-up
// word), the reader process's CPU time per item, the items moved per
// second, and how late the reader took them (median and 99th percentile,
// each item being the time it was written). Run it with
//
//	go test -run '^$' -bench BatchWakeUps -benchtime 200000x -count 5 .
func BenchmarkBatchWakeUps(b *testing.B) {
	skipWithoutBatchWake(b)
	for _, s := range []scb.Strategy{scb.Atomic, scb.Flock} {
		for _, batchWake := range []string{"0", "1"} {
			name := strings.ToLower(s.String()) + map[string]string{"0": "/default", "1": "/batchwake"}[batchWake]
			b.Run(name, func(b *testing.B) {
				o := &scb.Options{Dir: b.TempDir(), Strategy: s, Length: 1024, FixedSize: true}
				w, err := scb.Create("wakes", o)
				require.NoError(b, err)
				defer w.Close()
				c := startChild(b, "pop-batches", map[string]string{"DIR": o.Dir, "NAME": "wakes", "BATCHWAKE": batchWake, "STAMPS": "1"})
				c.Expect("ready")
				path := filepath.Join(o.Dir, "wakes.scb")
				_, before := wakeWords(b, path)
				b.ResetTimer()
				start := time.Now()
				pushPaced(b, w, b.N, 8, 20*time.Microsecond, true)
				out := strings.Fields(c.Expect("ok"))
				c.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				require.Len(b, out, 3)
				require.Equal(b, strconv.Itoa(b.N), out[0])
				p50, err := strconv.ParseInt(out[1], 10, 64)
				require.NoError(b, err)
				p99, err := strconv.ParseInt(out[2], 10, 64)
				require.NoError(b, err)
				_, after := wakeWords(b, path)
				st := c.Cmd.ProcessState
				b.ReportMetric(float64(after-before)*1000/float64(b.N), "wakes/1k-items")
				b.ReportMetric(float64((st.UserTime()+st.SystemTime()).Nanoseconds())/float64(b.N), "reader-cpu-ns/item")
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "items/s")
				b.ReportMetric(float64(p50)/1e3, "late-p50-µs")
				b.ReportMetric(float64(p99)/1e3, "late-p99-µs")
			})
		}
	}
}
