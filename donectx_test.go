package scb_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

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
