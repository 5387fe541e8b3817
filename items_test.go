package scb_test

// Items: what goes in comes out: integers, bytes, batches of Pop, the
// length of the ring, and items too big or too small for the caller.

import (
	"fmt"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func TestPushThenPop(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		w := create(t, "jobs", o)
		r := openReader(t, "jobs", at(o))
		require.NoError(t, w.Push(42))
		v, err := r.Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(42), v)
		_, err = r.Pop()
		assert.Same(t, scb.ErrEmpty, err, "ErrEmpty comes back unwrapped")
	})
}

func TestPopManyReturnsUpToNInOrder(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.Length = 16
		w := create(t, "jobs", o)
		r := openReader(t, "jobs", at(o))

		got, err := r.PopMany(5)
		require.NoError(t, err)
		assert.Empty(t, got, "nothing ready: empty slice")
		assert.NotNil(t, got)

		for i := range 10 {
			require.NoError(t, w.Push(uint64(100+i)))
		}
		got, err = r.PopMany(4)
		require.NoError(t, err)
		assert.Equal(t, []uint64{100, 101, 102, 103}, got)
		got, err = r.PopMany(100)
		require.NoError(t, err)
		assert.Equal(t, []uint64{104, 105, 106, 107, 108, 109}, got)
		got, err = r.PopMany(0)
		require.NoError(t, err)
		assert.Empty(t, got)
	})
}

// TestLenAfterWrap checks Len when the write position has wrapped round
// the ring and sits behind the read position.
func TestLenAfterWrap(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Length = 5
		w := create(t, "jobs", o)
		r := openReader(t, "jobs", at(o))

		steps := []struct {
			push, pop int
			want      int
		}{
			{push: 4, want: 4},
			{pop: 3, want: 1},          // read position 3, write position 4
			{push: 3, want: 4},         // write position 7 = slot 2, behind read slot 3
			{pop: 1, want: 3},          // read slot 4
			{push: 1, want: 4},         // write slot 3
			{push: 1, want: 5},         // full
			{pop: 5, want: 0},          // read position 9 = slot 4
			{push: 2, pop: 1, want: 1}, // write slot 1, read slot 0
		}
		next, expect := uint64(0), uint64(0)
		for i, st := range steps {
			for range st.push {
				require.NoError(t, w.Push(next))
				next++
			}
			for range st.pop {
				v, err := r.Pop()
				require.NoError(t, err)
				require.Equal(t, expect, v)
				expect++
			}
			assert.Equal(t, st.want, r.Len(), "step %d: reader Len", i)
			assert.Equal(t, st.want, w.Len(), "step %d: writer Len", i)
		}
		require.Same(t, scb.ErrFull, fillUp(w, o.Length-1))
	})
}

// fillUp pushes until the buffer refuses, and returns the refusal.
func fillUp(w *scb.Writer, max int) error {
	for i := 0; i <= max; i++ {
		if err := w.Push(uint64(i)); err != nil {
			return err
		}
	}
	return nil
}

func TestIntegerRoundTrip(t *testing.T) {
	for _, size := range []int{1, 2, 3, 4, 7, 8, 9, 16} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			o := newOpts(t, 0, 0)
			o.ItemSize = size
			o.Length = 8
			w := create(t, "ints", o)
			r := openReader(t, "ints", at(o))

			max := uint64(math.MaxUint64)
			if size < 8 {
				max = 1<<(8*size) - 1
			}
			for _, v := range []uint64{0, 1, max / 3, max - 1, max} {
				require.NoError(t, w.Push(v))
				got, err := r.Pop()
				require.NoError(t, err)
				assert.Equal(t, v, got)
			}
			if size < 8 {
				err := w.Push(max + 1)
				require.ErrorIs(t, err, scb.ErrRange)
				assert.Equal(t, 0, w.Len(), "nothing written")
			}
		})
	}
}

func TestPushBigEndian(t *testing.T) {
	o := newOpts(t, 0, 0)
	o.ItemSize = 3
	w := create(t, "be", o)
	r := openReader(t, "be", at(o))
	require.NoError(t, w.Push(0x010203))
	buf := make([]byte, 8)
	n, err := r.PopBytes(buf)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, buf[:n])
}

func TestByteItems(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.ItemSize = 10
		o.Length = 8
		w := create(t, "bytes", o)
		r := openReader(t, "bytes", at(o))

		items := [][]byte{[]byte("hello"), {}, []byte("0123456789"), {0}}
		for _, it := range items {
			require.NoError(t, w.PushBytes(it))
		}
		err := w.PushBytes([]byte("01234567890"))
		require.ErrorIs(t, err, scb.ErrTooLarge)

		buf := make([]byte, 10)
		for _, want := range items {
			n, err := r.PopBytes(buf)
			require.NoError(t, err)
			assert.Equal(t, want, buf[:n])
		}
	})
}

func TestShortBufferLeavesItemUnread(t *testing.T) {
	forEachMode(t, func(t *testing.T, m scb.Mode) {
		o := newOpts(t, 0, m)
		o.ItemSize = 16
		w := create(t, "short", o)
		r := openReader(t, "short", at(o))
		require.NoError(t, w.PushBytes([]byte("twelve bytes")))

		n, err := r.PopBytes(make([]byte, 4))
		require.ErrorIs(t, err, io.ErrShortBuffer)
		assert.Zero(t, n)
		assert.Equal(t, 1, r.Len())

		buf := make([]byte, 12)
		n, err = r.PopBytes(buf)
		require.NoError(t, err)
		assert.Equal(t, "twelve bytes", string(buf[:n]))
	})
}

func TestPopOfNonIntegerItem(t *testing.T) {
	o := newOpts(t, 0, 0)
	o.ItemSize = 12
	w := create(t, "mixed", o)
	r := openReader(t, "mixed", at(o))
	require.NoError(t, w.PushBytes([]byte("not a number")))
	_, err := r.Pop()
	require.ErrorIs(t, err, scb.ErrRange)
	got, err := r.PopMany(3)
	require.ErrorIs(t, err, scb.ErrRange, "PopMany reports the item it cannot return first")
	assert.Empty(t, got)
	buf := make([]byte, 12)
	n, err := r.PopBytes(buf)
	require.NoError(t, err, "the item stayed unread")
	assert.Equal(t, "not a number", string(buf[:n]))

	require.NoError(t, w.PushBytes([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2}))
	v, err := r.Pop()
	require.NoError(t, err)
	assert.Equal(t, uint64(0x0102), v, "leading zero bytes beyond 8 are allowed")
}
