package scb_test

// A blocking call on a buffer that was removed, or replaced by a new buffer
// of the same name, ends with ErrRemoved once it can never proceed, instead
// of waiting on an unreachable file for ever.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/child/childtest"
)

// removedBound is how soon a waiting call must report ErrRemoved: the
// documented quarter of a second, plus slack for a loaded machine.
const removedBound = time.Second

func init() {
	role("pop-until-removed", childPopUntilRemoved)
}

// childPopUntilRemoved reads integers with PopWait and says how many it got
// once a read fails, and with what.
func childPopUntilRemoved(ctx context.Context, name string, o *scb.Options) error {
	r, err := scb.OpenReader(name, o)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Println("ready")
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
		c := childtest.Start(t, "pop-until-removed", map[string]string{"DIR": o.Dir, "NAME": "feed"})
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
