package scb_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/layout"
)

// Buffers of fixed-size items (Options.FixedSize): slots without lengths.

// TestFixedSizeRoundTrip writes items one by one and in batches, integers
// and bytes, over several laps of a ring whose length is not a power of
// two, and reads them back every way, in every strategy and mode, for
// 8-byte items (the inline and batch paths) and 20-byte ones.
func TestFixedSizeRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		for _, size := range []int{8, 20} {
			t.Run(fmt.Sprint(size), func(t *testing.T) {
				o := newOpts(t, s, m)
				o.Length, o.ItemSize, o.FixedSize = 5, size, true
				w := create(t, "fixed", o)
				r := openReader(t, "fixed", at(o))
				next := uint64(1)
				want := func() uint64 { next++; return next - 1 }
				item := func(v uint64) []byte { // what Push(v) stores
					b := make([]byte, size)
					binary.BigEndian.PutUint64(b[size-8:], v)
					return b
				}
				written := uint64(0)
				for lap := range 4 {
					// Five items a lap: one Push, a PushMany of two,
					// a PushBytes and a PushBytesMany of one.
					require.NoError(t, w.Push(written+1))
					n, err := w.PushMany([]uint64{written + 2, written + 3})
					require.NoError(t, err)
					require.Equal(t, 2, n)
					require.NoError(t, w.PushBytes(item(written+4)))
					n, err = w.PushBytesMany([][]byte{item(written + 5)})
					require.NoError(t, err)
					require.Equal(t, 1, n)
					written += 5

					// Read them five ways round, shifted each lap.
					for k := range 5 {
						switch (k + lap) % 5 {
						case 0:
							v, err := r.Pop()
							require.NoError(t, err)
							require.Equal(t, want(), v)
						case 1:
							vs := make([]uint64, 1)
							n, err := r.PopInto(vs)
							require.NoError(t, err)
							require.Equal(t, 1, n)
							require.Equal(t, want(), vs[0])
						case 2:
							b := make([]byte, size)
							n, err := r.PopBytes(b)
							require.NoError(t, err)
							require.Equal(t, item(want()), b[:n])
						case 3:
							bufs := [][]byte{make([]byte, 0, size)}
							n, err := r.PopBytesInto(bufs)
							require.NoError(t, err)
							require.Equal(t, 1, n)
							require.Equal(t, item(want()), bufs[0])
						case 4:
							vs, err := r.PopMany(1)
							require.NoError(t, err)
							require.Equal(t, []uint64{want()}, vs)
						}
					}
				}
				_, err := r.Pop()
				require.ErrorIs(t, err, scb.ErrEmpty)

				// A batch across the ring's end, then CloseWrite: the
				// iterator reads it all and ends.
				vs := []uint64{100, 101, 102, 103}
				n, err := w.PushMany(vs)
				require.NoError(t, err)
				require.Equal(t, 4, n)
				require.NoError(t, w.CloseWrite())
				var got []uint64
				for v, err := range r.Values(context.Background()) {
					require.NoError(t, err)
					got = append(got, v)
				}
				require.Equal(t, vs, got)
			})
		}
	})
}

// TestFixedSizeRefusesOtherSizes: a byte item shorter than ItemSize is
// ErrRange (longer stays ErrTooLarge), before a full buffer, and nothing
// is written; a short Commit keeps the claim open.
func TestFixedSizeRefusesOtherSizes(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.Length, o.FixedSize = 2, true
		w := create(t, "fixed", o)
		r := openReader(t, "fixed", at(o))

		err := w.PushBytes([]byte("short"))
		require.ErrorIs(t, err, scb.ErrRange)
		assert.ErrorContains(t, err, "5 bytes, this buffer's items are all 8 bytes (FixedSize)")
		require.ErrorIs(t, w.PushBytes(make([]byte, 9)), scb.ErrTooLarge)
		n, err := w.PushBytesMany([][]byte{[]byte("8 bytes!"), nil})
		require.ErrorIs(t, err, scb.ErrRange, "an empty item is not 8 bytes either")
		require.Equal(t, 1, n)
		require.NoError(t, w.Push(2))
		if m == scb.Queue {
			require.ErrorIs(t, w.PushBytes([]byte("x")), scb.ErrRange, "refused before the full buffer is")
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			require.ErrorIs(t, w.PushBytesWait(ctx, []byte("x")), scb.ErrRange, "refused, not waited for")
		}
		b, err := r.PopMany(3)
		require.NoError(t, err)
		require.Equal(t, []uint64{binary.BigEndian.Uint64([]byte("8 bytes!")), 2}, b, "only what fits was written")

		if m == scb.Queue {
			p, err := w.Claim()
			require.NoError(t, err)
			require.Len(t, p, 8)
			copy(p, "claimed!")
			require.ErrorIs(t, w.Commit(7), scb.ErrRange)
			require.NoError(t, w.Commit(8), "the claim stayed open")
			buf := make([]byte, 8)
			n, err := r.PopBytes(buf)
			require.NoError(t, err)
			require.Equal(t, "claimed!", string(buf[:n]))
		}
	})
}

// TestFixedSizeTyped: a typed handle must be exactly ItemSize bytes on a
// buffer of fixed-size items.
func TestFixedSizeTyped(t *testing.T) {
	type pair struct{ A, B uint32 }
	o := newOpts(t, scb.Flock, scb.Queue)
	o.FixedSize = true
	w := create(t, "typed", o)
	r := openReader(t, "typed", at(o))

	_, err := scb.NewTypedWriter[uint32](w)
	require.ErrorIs(t, err, scb.ErrInvalidOptions)
	require.ErrorIs(t, err, scb.ErrRange)
	assert.ErrorContains(t, err, "uint32 is 4 bytes, the buffer's items are 8 bytes (ItemSize)")
	_, err = scb.NewTypedReader[uint16](r)
	require.ErrorIs(t, err, scb.ErrInvalidOptions)

	tw, err := scb.NewTypedWriter[pair](w)
	require.NoError(t, err)
	tr, err := scb.NewTypedReader[pair](r)
	require.NoError(t, err)
	require.NoError(t, tw.Push(pair{1, 2}))
	v, err := tr.Pop()
	require.NoError(t, err)
	require.Equal(t, pair{1, 2}, v)
}

// TestFixedSizeFile: the file is smaller by the lengths, Stat says which
// layout a buffer has, and an opener that asks for fixed-size items
// refuses a buffer without them.
func TestFixedSizeFile(t *testing.T) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			o := newOpts(t, scb.Flock, m)
			o.Length = 64
			create(t, "var", o)
			o.FixedSize = true
			create(t, "fixed", o)

			vi, err := scb.Stat("var", at(o))
			require.NoError(t, err)
			fi, err := scb.Stat("fixed", at(o))
			require.NoError(t, err)
			assert.False(t, vi.FixedSize)
			assert.True(t, fi.FixedSize)
			slot := int64(8) // Queue: the item alone, was 16
			if m == scb.Broadcast {
				slot = 16 // the sequence word and the item, was 24
			}
			assert.Equal(t, slot*64, fi.Size-vi.Size+slotSizeVar(m)*64, "slots of %d bytes", slot)
			st, err := os.Stat(fi.Path)
			require.NoError(t, err)
			assert.Equal(t, st.Size(), fi.Size)

			_, err = scb.OpenReader("var", &scb.Options{Dir: o.Dir, FixedSize: true})
			require.ErrorIs(t, err, scb.ErrMismatch)
			assert.ErrorContains(t, err, "FixedSize, buffer has items of variable size")
			r, err := scb.OpenReader("fixed", &scb.Options{Dir: o.Dir, FixedSize: true})
			require.NoError(t, err)
			require.NoError(t, r.Close())
		})
	}
}

// slotSizeVar is the slot of an 8-byte item with its length.
func slotSizeVar(m scb.Mode) int64 {
	return int64(layout.SlotSize(8, m == scb.Broadcast, false))
}

// TestFixedSizeBroadcastOverrun: a Broadcast reader of fixed-size items
// that falls behind is told how many it lost, and reads on from the
// oldest item held, as with lengths.
func TestFixedSizeBroadcastOverrun(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Broadcast)
		o.Length, o.FixedSize = 4, true
		w := create(t, "b", o)
		r := openReader(t, "b", at(o))
		for v := range uint64(10) {
			require.NoError(t, w.Push(v))
		}
		_, err := r.Pop()
		var oe *scb.OverrunError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, uint64(6), oe.Lost)
		vs := make([]uint64, 8)
		n, err := r.PopInto(vs)
		require.NoError(t, err)
		assert.Equal(t, []uint64{6, 7, 8, 9}, vs[:n])
	})
}
