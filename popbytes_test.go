package scb_test

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

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
