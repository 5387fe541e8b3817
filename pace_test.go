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
// resets that to PaceArm.

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
				o := newOpts(t, s, scb.Queue)
				o.Length = 4
				w := create(t, "pace", o)
				r := openReader(t, "pace", at(o))
				if c.full {
					for range o.Length {
						require.NoError(t, w.Push(1))
					}
				}
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

				assert.Equal(t, none(scb.PaceArm), waits(scb.PaceArm, wait.Spun), "not armed until PaceArm quick waits")
				assert.Equal(t, []time.Duration{pace}, waits(1, wait.Timed), "armed")
				assert.Equal(t, []time.Duration{pace}, waits(1, wait.Missed), "still armed after a wait the spin caught")
				// That wait slept anyway: disarmed, and arming takes twice
				// as many quick waits.
				assert.Equal(t, none(2*scb.PaceArm), waits(2*scb.PaceArm, wait.Spun), "disarmed")
				assert.Equal(t, []time.Duration{pace}, waits(1, wait.Yielded), "armed again after 2*PaceArm")
				// A yield is the spin missing too: now 4*PaceArm. A wait
				// that needs more than the plain spin, armed or not,
				// starts the count again.
				waits(4*scb.PaceArm-1, wait.Spun)
				waits(1, wait.Yielded)
				assert.Equal(t, none(4*scb.PaceArm), waits(4*scb.PaceArm, wait.Spun), "the count started again")
				assert.Equal(t, []time.Duration{pace}, waits(1, wait.Timed), "armed again after 4*PaceArm")
				// The spin caught one: back to PaceArm, so the next miss
				// doubles that, not 4*PaceArm.
				assert.Equal(t, []time.Duration{pace}, waits(1, wait.Missed), "still armed")
				assert.Equal(t, none(2*scb.PaceArm), waits(2*scb.PaceArm, wait.Spun))
				assert.Equal(t, []time.Duration{pace}, waits(1, wait.Spun), "armed after 2*PaceArm again")
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
// most waits of a peer that keeps pace; they count towards arming the
// pace spin. A peer goroutine answers each call a microsecond after it
// began: after the call's first try, within its inline polls.
func TestPaceSpinCountsInlinePolls(t *testing.T) {
	needAtomic(t)
	for _, c := range paceCalls {
		if c.name == "PopIntoWait" {
			continue // no inline path
		}
		t.Run(c.name, func(t *testing.T) {
			o := newOpts(t, scb.Atomic, scb.Queue)
			o.Length = 4
			w := create(t, "pace", o)
			r := openReader(t, "pace", at(o))
			if c.full {
				for range o.Length {
					require.NoError(t, w.Push(1))
				}
			}
			kept := func() int32 {
				if c.full {
					return scb.WriterPaceKept(w)
				}
				return scb.ReaderPaceKept(r)
			}
			var calls atomic.Int64 // calls begun
			var stop atomic.Bool
			done := make(chan struct{})
			go func() {
				defer close(done)
				for n := int64(0); ; n++ {
					for calls.Load() <= n {
						if stop.Load() {
							return
						}
					}
					for t0 := time.Now(); time.Since(t0) < time.Microsecond; {
						// the call polls meanwhile
					}
					c.ready(w, r)
				}
			}()
			most := int32(0)
			for n := 0; n < 20_000 && most < 16; n++ {
				calls.Add(1)
				ctx, cancel := context.WithTimeout(t.Context(), waitBound)
				err := c.call(ctx, w, r)
				cancel()
				require.NoError(t, err)
				most = max(most, kept())
			}
			stop.Store(true)
			<-done
			assert.GreaterOrEqual(t, most, int32(16), "waits in a row that the inline polls ended")
		})
	}
}
