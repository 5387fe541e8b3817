package scb_test

// The wake-up protocol (wait.go): a sleeper registers, reads the sequence
// word, checks its condition and sleeps; a waker publishes, and if it finds
// registrations, claims them all and wakes once. These tests make every
// sleep last until woken (a lost wake-up hangs, which the bounded waits
// turn into a failure) and check that registrations left by a killed
// sleeper cost one wake-up, not one per item.

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/child/childtest"
)

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

func skipWithoutFutexes(t *testing.T) {
	if !scb.Futexes {
		childtest.Skip(t, "blocking calls poll on this platform: there is no wake-up to lose", "pop-sleepy")
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
		c := childtest.Start(t, "pop-sleepy", map[string]string{"DIR": o.Dir, "NAME": "wakes", "N": strconv.Itoa(n)})
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

func TestKilledSleeperCostsOneWakeUp(t *testing.T) {
	skipWithoutFutexes(t)
	o := &scb.Options{Dir: t.TempDir()}
	w := create(t, "sleepy", o)
	c := childtest.Start(t, "pop-sleepy", map[string]string{"DIR": o.Dir, "NAME": "sleepy", "N": "1000"})
	c.Expect("ready")
	waiting := func() int {
		info, err := scb.Stat("sleepy", at(o))
		require.NoError(t, err)
		return info.ReadersWaiting
	}
	deadline := time.Now().Add(waitBound)
	for waiting() == 0 {
		require.True(t, time.Now().Before(deadline), "the reader never went to sleep")
		time.Sleep(time.Millisecond)
	}
	c.Kill()
	// The dead sleeper's registration is still there; the first push
	// claims it (one wake-up for nobody), and the pushes after it find
	// nobody to wake.
	require.Positive(t, waiting())
	require.NoError(t, w.Push(1))
	assert.Zero(t, waiting(), "a push left the dead sleeper registered: every later push would make a system call")
	require.NoError(t, w.Push(2))
	assert.Zero(t, waiting())
}
