package scb_test

// Zero-copy: Claim and Commit or Abort on the writer's side, Peek and
// Release on the reader's, Queue mode only, and with Flock the lock held
// from the claim to its end.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func TestClaimCommit(t *testing.T) {
	for _, s := range strategies {
		for _, size := range []int{8, 16} { // 8 is where Push has its short path
			t.Run(fmt.Sprintf("%v/%d", s, size), func(t *testing.T) {
				testClaimCommit(t, s, size)
			})
		}
	}
}

func testClaimCommit(t *testing.T, s scb.Strategy, size int) {
	o := newOpts(t, s, scb.Queue)
	o.ItemSize = size
	o.Length = 2
	w := create(t, "zc", o)
	r := openReader(t, "zc", at(o))

	err := w.Commit(3)
	require.ErrorIs(t, err, scb.ErrNotClaimed)

	p, err := w.Claim()
	require.NoError(t, err)
	require.Len(t, p, size)
	copy(p, "in place")
	require.ErrorIs(t, w.Push(1), scb.ErrBusy, "one claim at a time")
	_, err = w.Claim()
	require.ErrorIs(t, err, scb.ErrBusy)
	assert.Zero(t, r.Len(), "nothing visible before Commit")
	require.ErrorIs(t, w.Commit(size+1), scb.ErrTooLarge)
	require.ErrorIs(t, w.Commit(-1), scb.ErrRange, "and the claim stays open")
	require.NoError(t, w.Commit(8))

	p, err = w.Claim()
	require.NoError(t, err)
	copy(p, "aborted")
	require.NoError(t, w.Abort())
	require.ErrorIs(t, w.Abort(), scb.ErrNotClaimed)

	require.NoError(t, w.Push(7), "the writer is usable again")
	_, err = w.Claim()
	assert.Same(t, scb.ErrFull, err)

	buf := make([]byte, size)
	n, err := r.PopBytes(buf)
	require.NoError(t, err)
	assert.Equal(t, "in place", string(buf[:n]))
	v, err := r.Pop()
	require.NoError(t, err)
	assert.Equal(t, uint64(7), v, "the aborted slot was never published")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.NoError(t, w.Push(8))
	require.NoError(t, w.Push(9))
	_, err = w.ClaimWait(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestPeekRelease(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.ItemSize = 16
		w := create(t, "zc", o)
		r := openReader(t, "zc", at(o))

		_, err := r.Peek()
		assert.Same(t, scb.ErrEmpty, err)
		require.ErrorIs(t, r.Release(), scb.ErrNotClaimed)

		require.NoError(t, w.PushBytes([]byte("first")))
		require.NoError(t, w.PushBytes([]byte("second")))
		p, err := r.Peek()
		require.NoError(t, err)
		assert.Equal(t, "first", string(p))
		_, err = r.Pop()
		require.ErrorIs(t, err, scb.ErrBusy)
		_, err = r.Peek()
		require.ErrorIs(t, err, scb.ErrBusy)
		assert.Equal(t, 2, r.Len(), "not consumed before Release")
		require.NoError(t, r.Release())

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err = r.PeekWait(ctx)
		require.NoError(t, err)
		assert.Equal(t, "second", string(p))
		require.NoError(t, r.Release())
		assert.Zero(t, r.Len())

		require.NoError(t, w.Close()) // hand the writer role to the goroutine
		done := make(chan struct{})
		go func() {
			defer close(done)
			ww, err := scb.OpenWriter("zc", at(o))
			if !assert.NoError(t, err) {
				return
			}
			defer ww.Close()
			time.Sleep(5 * time.Millisecond) // let PeekWait start waiting
			assert.NoError(t, ww.PushBytes([]byte("late")))
		}()
		p, err = r.PeekWait(ctx)
		require.NoError(t, err)
		assert.Equal(t, "late", string(p))
		require.NoError(t, r.Release())
		<-done
	})
}

func TestZeroCopyNeedsQueue(t *testing.T) {
	o := newOpts(t, 0, scb.Broadcast)
	w := create(t, "b", o)
	r := openReader(t, "b", at(o))
	_, err := w.Claim()
	require.ErrorIs(t, err, scb.ErrUnsupported)
	_, err = r.Peek()
	require.ErrorIs(t, err, scb.ErrUnsupported)
}

// TestFlockClaimHoldsTheLock checks that a Flock claim keeps other writers
// out until Commit: an item pushed meanwhile through another handle lands
// after the claimed one.
func TestFlockClaimHoldsTheLock(t *testing.T) {
	o := newOpts(t, scb.Flock, scb.Queue)
	w := create(t, "zc", o)
	other, err := scb.OpenWriter("zc", at(o))
	require.NoError(t, err)
	defer other.Close()
	r := openReader(t, "zc", at(o))

	p, err := w.Claim()
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		assert.NoError(t, other.Push(2))
	}()
	// Give the other writer time to get in first if the lock let it.
	time.Sleep(20 * time.Millisecond)
	putUint64(p, 1)
	require.NoError(t, w.Commit(8))
	wg.Wait()
	got, err := r.PopMany(2)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2}, got)
}

func putUint64(p []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		p[i] = byte(v)
		v >>= 8
	}
}
