package scb_test

// What goes in comes out: integers, bytes, batches of Pop, the length of
// the ring, items too big or too small for the caller and byte reads sized
// by capacity; in Queue mode a full queue makes the writer wait, and a new
// reader or writer carries on where the last one stopped; in Broadcast
// mode every reader sees every item, the writer never waits, and a reader
// that falls behind is told how many items it lost.

import (
	"context"
	"fmt"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/layout"
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
		require.Equal(t, scb.ErrEmpty, err, "nothing ready: ErrEmpty, unwrapped, as Pop says")
		assert.Empty(t, got)
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

// TestByteReadsUseCapacity: every byte-item read sizes its destination by
// its capacity, so a buffer resliced to a shorter item (or made with
// length 0) keeps its room, and a buffer with len == cap behaves as
// before.
func TestByteReadsUseCapacity(t *testing.T) {
	ctx := context.Background()
	reads := []struct {
		name string
		pop  func(r *scb.Reader, dst []byte) (int, error)
	}{
		{"PopBytes", func(r *scb.Reader, dst []byte) (int, error) { return r.PopBytes(dst) }},
		{"PopBytesWait", func(r *scb.Reader, dst []byte) (int, error) { return r.PopBytesWait(ctx, dst) }},
		{"PopBytesInto", func(r *scb.Reader, dst []byte) (int, error) {
			bufs := [][]byte{dst}
			n, err := r.PopBytesInto(bufs)
			if n == 1 {
				return len(bufs[0]), nil
			}
			return 0, err
		}},
		{"PopBytesIntoWait", func(r *scb.Reader, dst []byte) (int, error) {
			bufs := [][]byte{dst}
			n, err := r.PopBytesIntoWait(ctx, bufs)
			if n == 1 {
				return len(bufs[0]), nil
			}
			return 0, err
		}},
	}
	dsts := []struct {
		name      string
		dst       []byte
		fitsLong  bool // holds the 10-byte item
		fitsShort bool // holds the 3-byte item
	}{
		{"len == cap", make([]byte, 16), true, true},
		{"len 0, cap 16", make([]byte, 0, 16), true, true},
		{"len 3, cap 16 (a previous item)", make([]byte, 3, 16), true, true},
		{"len == cap, too small", make([]byte, 4), false, true},
		{"nil", nil, false, false},
	}
	for _, rd := range reads {
		for _, d := range dsts {
			t.Run(rd.name+"/"+d.name, func(t *testing.T) {
				o := newOpts(t, scb.Atomic, scb.Queue)
				o.ItemSize = 16
				w := create(t, "c", o)
				r := openReader(t, "c", at(o))
				require.NoError(t, w.PushBytes([]byte("long item!")))
				require.NoError(t, w.PushBytes([]byte("abc")))
				dst := d.dst
				for _, item := range []struct {
					s    string
					fits bool
				}{{"long item!", d.fitsLong}, {"abc", d.fitsShort}} {
					n, err := rd.pop(r, dst)
					if !item.fits {
						require.ErrorIs(t, err, io.ErrShortBuffer)
						assert.Equal(t, 2, r.Len(), "the item stays unread")
						return
					}
					require.NoError(t, err)
					assert.Equal(t, item.s, string(dst[:n]))
					dst = dst[:n] // the usual reuse: the next read still has cap(dst)
				}
			})
		}
	}
}

// TestPopBytesFullSliceExpression: a caller who wants no write past
// len(dst) limits the capacity.
func TestPopBytesFullSliceExpression(t *testing.T) {
	o := newOpts(t, scb.Atomic, scb.Queue)
	o.ItemSize = 16
	w := create(t, "c", o)
	r := openReader(t, "c", at(o))
	require.NoError(t, w.PushBytes([]byte("long item!")))
	frame := []byte("hdr:....|trailer")
	_, err := r.PopBytes(frame[4:8:8])
	require.ErrorIs(t, err, io.ErrShortBuffer)
	assert.Equal(t, "hdr:....|trailer", string(frame), "nothing written")
}

// TestFileCodes checks that the codes a buffer file records for its
// strategy and mode (internal/layout) are the values of the API's
// constants, as Stat and the openers take them.
func TestFileCodes(t *testing.T) {
	assert.EqualValues(t, layout.StrategyAtomic, scb.Atomic)
	assert.EqualValues(t, layout.StrategyFlock, scb.Flock)
	assert.EqualValues(t, layout.ModeQueue, scb.Queue)
	assert.EqualValues(t, layout.ModeBroadcast, scb.Broadcast)
}
