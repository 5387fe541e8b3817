package scb_test

// Waiting calls: they honour their context, wake up when the other side
// acts, and end when their handle is closed.

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
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
