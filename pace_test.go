package scb_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/wait"
)

// The pace spin (wait.go): once scb.PaceArm waits in a row ended within
// the plain spin, a blocking call's waits poll on for up to scb.KeepPace
// before they sleep; an armed wait that sleeps anyway disarms it, and the
// next arming takes twice as many quick waits; one that the spin catches
// halves both counts (the arming one down to PaceArm).

// paceCall is a blocking call that waits once: the buffer is empty (a
// read) or full (a write) until its wait's climb (the hook) makes it ready.
type paceCall struct {
	name  string
	ready func(w *scb.Writer, r *scb.Reader) // what ends the wait: a push, or a pop
	call  func(ctx context.Context, w *scb.Writer, r *scb.Reader) error
	full  bool // the buffer starts full
}

var paceCalls = []paceCall{
	{"PopWait", pushOne, func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error { _, err := r.PopWait(ctx); return err }, false},
	{"PopIntoWait", pushOne, func(ctx context.Context, _ *scb.Writer, r *scb.Reader) error {
		var dst [4]uint64
		_, err := r.PopIntoWait(ctx, dst[:])
		return err
	}, false},
	{"PushWait", popOne, func(ctx context.Context, w *scb.Writer, _ *scb.Reader) error { return w.PushWait(ctx, 7) }, true},
}

// buffer returns the writer and reader of a new 4-slot Queue of strategy
// s, full if the call is a write.
func (c paceCall) buffer(t *testing.T, s scb.Strategy) (*scb.Writer, *scb.Reader) {
	o := newOpts(t, s, scb.Queue)
	o.Length = 4
	w := create(t, "pace", o)
	r := openReader(t, "pace", at(o))
	if c.full {
		for range o.Length {
			require.NoError(t, w.Push(1))
		}
	}
	return w, r
}

func pushOne(w *scb.Writer, _ *scb.Reader) {
	if err := w.Push(1); err != nil {
		panic(err)
	}
}

func popOne(_ *scb.Writer, r *scb.Reader) {
	if _, err := r.Pop(); err != nil {
		panic(err)
	}
}

// TestPaceSpinArms drives the pace spin's state through a handle's real
// waits, each of which ends in the stage the test chooses (SetClimbHook),
// and checks the ladder each wait was given.
func TestPaceSpinArms(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		for _, c := range paceCalls {
			t.Run(c.name, func(t *testing.T) {
				w, r := c.buffer(t, s)
				var (
					stage wait.Stage
					seen  []time.Duration // the timed stage of each wait's ladder
				)
				defer scb.SetClimbHook(func(l wait.Ladder) wait.Stage {
					seen = append(seen, l.For)
					c.ready(w, r)
					return stage
				})()
				// waits makes n calls whose waits end in st, and returns
				// the timed stage each was given.
				waits := func(n int, st wait.Stage) []time.Duration {
					t.Helper()
					seen, stage = nil, st
					for range n {
						require.NoError(t, c.call(t.Context(), w, r))
					}
					require.Len(t, seen, n, "one wait per call")
					return seen
				}
				none := func(n int) []time.Duration { return make([]time.Duration, n) }
				pace := time.Duration(scb.KeepPace)
				if !scb.Paceable {
					// A coarse clock or one core: the spin never arms.
					pace = 0
				}

				armed := []time.Duration{pace}
				assert.Equal(t, none(scb.PaceArm), waits(scb.PaceArm, wait.Spun), "not armed until PaceArm quick waits")
				assert.Equal(t, armed, waits(1, wait.Spun), "armed")
				// A wait the spin caught halves the quick waits counted
				// (PaceArm+1 → PaceArm/2).
				assert.Equal(t, armed, waits(1, wait.Timed))
				assert.Equal(t, none(scb.PaceArm/2), waits(scb.PaceArm/2, wait.Spun), "disarmed by the halving")
				// An armed wait that sleeps anyway disarms it, and arming
				// takes twice as many quick waits.
				assert.Equal(t, armed, waits(1, wait.Missed), "armed again")
				assert.Equal(t, none(2*scb.PaceArm), waits(2*scb.PaceArm, wait.Spun), "disarmed")
				// A yield is the spin missing too: now 4*PaceArm.
				assert.Equal(t, armed, waits(1, wait.Yielded), "armed after 2*PaceArm")
				// A wait that needs more than the plain spin, armed or
				// not, starts the count again.
				assert.Equal(t, none(4*scb.PaceArm-1), waits(4*scb.PaceArm-1, wait.Spun), "not yet")
				waits(1, wait.Yielded)
				assert.Equal(t, none(4*scb.PaceArm), waits(4*scb.PaceArm, wait.Spun), "the count started again")
				// A catch halves the arming count too: 2*PaceArm, so the
				// next miss makes it 4*PaceArm, not 8*PaceArm.
				assert.Equal(t, armed, waits(1, wait.Timed), "armed after 4*PaceArm")
				assert.Equal(t, armed, waits(1, wait.Spun), "2*PaceArm counted, 2*PaceArm to arm")
				assert.Equal(t, armed, waits(1, wait.Missed))
				assert.Equal(t, none(4*scb.PaceArm), waits(4*scb.PaceArm, wait.Spun))
				assert.Equal(t, armed, waits(1, wait.Spun), "armed after 4*PaceArm again")
			})
		}
	})
}

// TestPaceSpinArmsOnlyByDefault: a handle with an explicit Options.Spin
// keeps to it. (A negative Spin does not climb at all.)
func TestPaceSpinArmsOnlyByDefault(t *testing.T) {
	for _, spin := range []int{1, 5000} {
		t.Run(fmt.Sprint(spin), func(t *testing.T) {
			o := newOpts(t, scb.Flock, scb.Queue)
			w := create(t, "pace", o)
			ro := at(o)
			ro.Spin = spin
			r := openReader(t, "pace", ro)
			armed := 0
			defer scb.SetClimbHook(func(l wait.Ladder) wait.Stage {
				if l.For != 0 {
					armed++
				}
				pushOne(w, r)
				return wait.Spun
			})()
			for range 4 * scb.PaceArm {
				_, err := r.PopWait(t.Context())
				require.NoError(t, err)
			}
			assert.Zero(t, armed)
		})
	}
}

// TestPaceSpinCountsInlinePolls: on the Atomic path PopWait and PushWait
// poll inline before they reach the wait machinery, and those polls end
// most waits of a peer that keeps pace; each counts as a quick wait, and
// restores the whole spin. The hook brings the item (or the room) after
// the call's first try, so its inline polls end its wait; a call served by
// its first try did not wait, and counts nothing.
func TestPaceSpinCountsInlinePolls(t *testing.T) {
	needAtomic(t)
	defer scb.SetOneCore(false)() // on one core there are no inline polls
	for _, c := range paceCalls {
		if c.name == "PopIntoWait" {
			continue // no inline path
		}
		t.Run(c.name, func(t *testing.T) {
			w, r := c.buffer(t, scb.Atomic)
			kept := func() int32 {
				if c.full {
					return scb.WriterPaceKept(w)
				}
				return scb.ReaderPaceKept(r)
			}
			restore := scb.SetInlineHook(func() { c.ready(w, r) })
			for i := range 10 {
				require.NoError(t, c.call(t.Context(), w, r))
				require.EqualValues(t, i+1, kept(), "a wait the inline polls ended")
			}
			restore()
			c.ready(w, r)
			require.NoError(t, c.call(t.Context(), w, r))
			assert.EqualValues(t, 10, kept(), "a call that did not wait")
		})
	}
}

// TestInlineCatchRestoresSpin: a wait that ended asleep shortens the next
// waits' spin; one that the inline polls ended restores it.
func TestInlineCatchRestoresSpin(t *testing.T) {
	needAtomic(t)
	defer scb.SetOneCore(false)() // on one core there are no inline polls
	o := newOpts(t, scb.Atomic, scb.Queue)
	w := create(t, "pace", o)
	r := openReader(t, "pace", at(o))
	pushed := make(chan struct{})
	restore := scb.SetClimbHook(func(wait.Ladder) wait.Stage {
		go func() {
			defer close(pushed)
			time.Sleep(5 * time.Millisecond)
			pushOne(w, r)
		}()
		return wait.Missed
	})
	_, err := r.PopWait(t.Context())
	require.NoError(t, err)
	restore()
	<-pushed // the writer is the test's again
	require.NotZero(t, scb.ReaderSlept(r), "a wait that slept 5 ms")
	defer scb.SetInlineHook(func() { pushOne(w, r) })()
	_, err = r.PopWait(t.Context())
	require.NoError(t, err)
	assert.Zero(t, scb.ReaderSlept(r), "the inline polls ended the wait")
}

// TestPaceSpinOneGoroutineAtATime: of the goroutines of one shared handle
// waiting at once, one runs the pace spin; the others sleep after the
// plain spin.
func TestPaceSpinOneGoroutineAtATime(t *testing.T) {
	if !scb.Paceable {
		t.Skip("the pace spin does not run here: a coarse clock, or one core")
	}
	o := newOpts(t, scb.Flock, scb.Queue)
	w := create(t, "pace", o)
	r := openReader(t, "pace", at(o))
	var (
		inA     = make(chan struct{})
		release = make(chan struct{})
		seenB   = make(chan time.Duration, 1)
		state   atomic.Int32 // 0: arming, 1: A is in its climb, 2: B climbed
	)
	defer scb.SetClimbHook(func(l wait.Ladder) wait.Stage {
		switch {
		case state.CompareAndSwap(0, 0) && l.For == 0:
			// arming
		case state.CompareAndSwap(0, 1):
			close(inA)
			<-release
		default:
			seenB <- l.For
		}
		pushOne(w, r)
		return wait.Spun
	})()
	for range scb.PaceArm {
		_, err := r.PopWait(t.Context())
		require.NoError(t, err)
	}
	errA := make(chan error, 1)
	go func() { _, err := r.PopWait(t.Context()); errA <- err }()
	<-inA
	errB := make(chan error, 1)
	go func() { _, err := r.PopWait(t.Context()); errB <- err }()
	select {
	case d := <-seenB:
		assert.Zero(t, d, "a second goroutine's wait while the first spins")
	case <-time.After(waitBound):
		require.Fail(t, "the second goroutine never waited")
	}
	require.NoError(t, <-errB)
	close(release)
	require.NoError(t, <-errA)
}

// TestPaceSpinNotWhileBusy: while the cores are oversubscribed the pace
// spin stays off, armed or not: the peer may need this core to move.
func TestPaceSpinNotWhileBusy(t *testing.T) {
	o := newOpts(t, scb.Flock, scb.Queue)
	w := create(t, "pace", o)
	r := openReader(t, "pace", at(o))
	var seen []time.Duration
	defer scb.SetClimbHook(func(l wait.Ladder) wait.Stage {
		seen = append(seen, l.For)
		pushOne(w, r)
		return wait.Spun
	})()
	scb.SetBusy(r, time.Hour)
	for range 2 * scb.PaceArm {
		_, err := r.PopWait(t.Context())
		require.NoError(t, err)
	}
	assert.Equal(t, make([]time.Duration, 2*scb.PaceArm), seen)
	scb.SetBusy(r, 0)
	seen = nil
	_, err := r.PopWait(t.Context())
	require.NoError(t, err)
	if scb.Paceable {
		assert.Equal(t, []time.Duration{scb.KeepPace}, seen, "armed all along")
	}
}

// TestNoSpinOnOneCore: where the process may run on one core only, the
// peer cannot move while a wait polls, so a blocking call's wait with the
// default spin polls not at all before it yields; an explicit
// Options.Spin is kept. A Flock locker on a lock word likewise yields at
// once.
func TestNoSpinOnOneCore(t *testing.T) {
	cases := []struct {
		oneCore bool
		spin    int // Options.Spin
		want    int // the polls of the wait's ladder
	}{
		{false, 0, scb.DefaultSpin},
		{true, 0, 0},
		{false, 50, 50},
		{true, 50, 50},
	}
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		for _, call := range paceCalls {
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s/one-core=%v/spin=%d", call.name, c.oneCore, c.spin), func(t *testing.T) {
					defer scb.SetOneCore(c.oneCore)()
					o := newOpts(t, s, scb.Queue)
					o.Length, o.Spin = 4, c.spin
					w := create(t, "pace", o)
					ro := at(o)
					ro.Spin = c.spin
					r := openReader(t, "pace", ro)
					if call.full {
						for range o.Length {
							require.NoError(t, w.Push(1))
						}
					}
					var spins []int
					defer scb.SetClimbHook(func(l wait.Ladder) wait.Stage {
						spins = append(spins, l.Spins)
						call.ready(w, r)
						return wait.Spun
					})()
					require.NoError(t, call.call(t.Context(), w, r))
					assert.Equal(t, []int{c.want}, spins, "the one wait's polls")
				})
			}
		}
	})
	t.Run("inline polls", func(t *testing.T) {
		// The Atomic PopWait and PushWait poll inline before they wait
		// (TestPaceSpinCountsInlinePolls): the hook brings the item (or
		// the room) before those polls, which count a wait they end as
		// kept pace. On one core there are none: the call's attempt
		// finds the item, and nothing is counted.
		needAtomic(t)
		for _, c := range paceCalls {
			if c.name == "PopIntoWait" {
				continue // no inline path
			}
			for _, one := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/one-core=%v", c.name, one), func(t *testing.T) {
					defer scb.SetOneCore(one)()
					w, r := c.buffer(t, scb.Atomic)
					defer scb.SetInlineHook(func() { c.ready(w, r) })()
					require.NoError(t, c.call(t.Context(), w, r))
					kept := scb.ReaderPaceKept(r)
					if c.full {
						kept = scb.WriterPaceKept(w)
					}
					assert.EqualValues(t, map[bool]int{false: 1, true: 0}[one], kept, "waits the inline polls ended")
				})
			}
		}
	})
	t.Run("lock word", func(t *testing.T) {
		for _, one := range []bool{false, true} {
			restore := scb.SetOneCore(one)
			l := scb.WordLadder()
			restore()
			assert.Equal(t, 8, l.Yields, "one core: %v", one)
			if one {
				assert.Zero(t, l.Spins, "a locker on one core")
			} else {
				assert.Equal(t, 256, l.Spins)
			}
		}
	})
}
