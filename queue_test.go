package scb_test

// Queue mode: a full queue makes the writer wait, and a new reader or
// writer carries on where the last one stopped.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func TestQueueFullThenRoom(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Length = 3
		w := create(t, "q", o)
		r := openReader(t, "q", at(o))
		for i := range 3 {
			require.NoError(t, w.Push(uint64(i)))
		}
		require.Same(t, scb.ErrFull, w.Push(3), "ErrFull comes back unwrapped")
		require.ErrorIs(t, w.PushBytes([]byte{1}), scb.ErrFull)
		v, err := r.Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(0), v)
		require.NoError(t, w.Push(3))
		got, err := r.PopMany(10)
		require.NoError(t, err)
		assert.Equal(t, []uint64{1, 2, 3}, got, "nothing was overwritten")
	})
}

func TestQueueReaderContinuesWhereLastStopped(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		w := create(t, "q", o)
		for i := range 10 {
			require.NoError(t, w.Push(uint64(i)))
		}
		r, err := scb.OpenReader("q", at(o))
		require.NoError(t, err)
		got, err := r.PopMany(4)
		require.NoError(t, err)
		assert.Equal(t, []uint64{0, 1, 2, 3}, got)
		require.NoError(t, r.Close())

		r2 := openReader(t, "q", at(o))
		v, err := r2.Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(4), v)
	})
}

func TestWriterReopenContinues(t *testing.T) {
	o := newOpts(t, 0, 0)
	w, err := scb.Create("q", o)
	skipUnsupported(t, err)
	require.NoError(t, err)
	require.NoError(t, w.Push(1))
	require.NoError(t, w.Close())
	w2, err := scb.OpenWriter("q", at(o))
	require.NoError(t, err)
	defer w2.Close()
	require.NoError(t, w2.Push(2))
	r := openReader(t, "q", at(o))
	got, err := r.PopMany(5)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2}, got)
}
