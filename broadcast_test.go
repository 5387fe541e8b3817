package scb_test

// Broadcast mode: every reader sees every item, the writer never waits,
// and a reader that falls behind is told how many items it lost.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func TestBroadcastEveryReaderSeesEveryItem(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Broadcast)
		o.Length = 8
		w := create(t, "news", o)
		readers := []*scb.Reader{openReader(t, "news", at(o)), openReader(t, "news", at(o))}
		for i := range 5 {
			require.NoError(t, w.Push(uint64(i)))
		}
		late := openReader(t, "news", &scb.Options{Dir: o.Dir, SkipBacklog: true})
		require.NoError(t, w.Push(5))
		for _, r := range readers {
			got, err := r.PopMany(10)
			require.NoError(t, err)
			assert.Equal(t, []uint64{0, 1, 2, 3, 4, 5}, got)
		}
		got, err := late.PopMany(10)
		require.NoError(t, err)
		assert.Equal(t, []uint64{5}, got, "SkipBacklog starts at the next item")
	})
}

func TestBroadcastWriterNeverWaits(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Broadcast)
		o.Length = 4
		w := create(t, "news", o)
		r := openReader(t, "news", at(o))
		for i := range 10 {
			require.NoError(t, w.Push(uint64(i)), "item %d", i)
		}
		assert.Equal(t, 4, w.Len())
		assert.Equal(t, 4, r.Len())

		_, err := r.Pop()
		var over *scb.OverrunError
		require.ErrorAs(t, err, &over)
		require.ErrorIs(t, err, scb.ErrOverrun)
		assert.Equal(t, uint64(6), over.Lost)
		assert.Equal(t, uint64(6), r.Lost())

		got, err := r.PopMany(10)
		require.NoError(t, err)
		assert.Equal(t, []uint64{6, 7, 8, 9}, got, "then the oldest valid items, in order")

		// A reader opened now starts at the oldest item still held.
		r2 := openReader(t, "news", at(o))
		got, err = r2.PopMany(10)
		require.NoError(t, err)
		assert.Equal(t, []uint64{6, 7, 8, 9}, got)
		assert.Zero(t, r2.Lost())
	})
}

func TestBroadcastOverrunAfterSomeItems(t *testing.T) {
	o := newOpts(t, 0, scb.Broadcast)
	o.Length = 4
	w := create(t, "news", o)
	r := openReader(t, "news", at(o))
	for i := range 3 {
		require.NoError(t, w.Push(uint64(i)))
	}
	v, err := r.Pop()
	require.NoError(t, err)
	require.Equal(t, uint64(0), v)
	for i := 3; i < 9; i++ {
		require.NoError(t, w.Push(uint64(i)))
	}
	// Items 1..4 are gone; 5..8 are held.
	_, err = r.PopMany(10)
	var over *scb.OverrunError
	require.ErrorAs(t, err, &over)
	assert.Equal(t, uint64(4), over.Lost)
	got, err := r.PopMany(10)
	require.NoError(t, err)
	assert.Equal(t, []uint64{5, 6, 7, 8}, got)
}
