package scb_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

// TestLook: Look shows the next items with their positions, in every
// strategy and mode, consumes nothing, and works while a reader holds the
// Atomic reader role and while items are leased.
func TestLook(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.Length = 4
		w := create(t, "look", o)
		r := openReader(t, "look", at(o))
		items, err := scb.Look("look", 10, at(o))
		require.NoError(t, err)
		assert.Empty(t, items)
		assert.NotNil(t, items)
		for i := range uint64(6) {
			if err := w.Push(10 + i); err != nil {
				require.ErrorIs(t, err, scb.ErrFull)
			}
		}
		// Queue: 10..13 (the ring is full); Broadcast: 12..15 (the
		// oldest held).
		first := uint64(0)
		if m == scb.Broadcast {
			first = 2
		}
		want := func(from uint64, k int) []scb.Item {
			var it []scb.Item
			for p := from; p < from+uint64(k); p++ {
				d := make([]byte, 8)
				binary.BigEndian.PutUint64(d, 10+p)
				it = append(it, scb.Item{Pos: p, Data: d})
			}
			return it
		}
		items, err = scb.Look("look", 3, at(o))
		require.NoError(t, err)
		assert.Equal(t, want(first, 3), items)
		items, err = scb.Look("look", 10, at(o))
		require.NoError(t, err)
		assert.Equal(t, want(first, 4), items, "up to what there is")

		// Nothing was consumed: the reader reads what Look showed.
		if m == scb.Queue {
			_, lease, err := r.Take() // leased, not consumed: still shown
			require.NoError(t, err)
			items, err = scb.Look("look", 1, at(o))
			require.NoError(t, err)
			assert.Equal(t, want(0, 1), items)
			require.NoError(t, lease.Ack())
			items, err = scb.Look("look", 10, at(o))
			require.NoError(t, err)
			assert.Equal(t, want(1, 3), items, "acknowledged: gone")
		}
		v, err := r.PopWait(context.Background())
		if m == scb.Broadcast {
			require.ErrorIs(t, err, scb.ErrOverrun) // 10 and 11 were overwritten
			v, err = r.PopWait(context.Background())
		}
		require.NoError(t, err)
		assert.Equal(t, 10+first+map[scb.Mode]uint64{scb.Queue: 1, scb.Broadcast: 0}[m], v, "the reader reads what Look showed")
		items, err = scb.Look("look", 0, at(o))
		require.NoError(t, err)
		assert.Empty(t, items)
	})
}

// TestLookRefusesWhatStatRefuses: a bad name, a missing buffer.
func TestLookRefusesWhatStatRefuses(t *testing.T) {
	o := &scb.Options{Dir: t.TempDir()}
	_, err := scb.Look("../x", 1, o)
	require.ErrorIs(t, err, scb.ErrInvalidName)
	_, err = scb.Look("nope", 1, o)
	require.ErrorIs(t, err, scb.ErrNotExist)
	var e *scb.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "look", e.Op)
}

// TestLookWhileBusy: with a writer and a reader at full speed, every item
// Look returns is the one written at its position (each item is its own
// position), never a slot being overwritten or reused.
func TestLookWhileBusy(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.Length = 2
		o.ItemSize = 4096
		w := create(t, "busy", o)
		r := openReader(t, "busy", at(o))
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(sized(300, 100))*time.Millisecond)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			item := make([]byte, 4096)
			for p := uint64(0); ctx.Err() == nil; p++ {
				for i := 0; i < len(item); i += 8 {
					binary.BigEndian.PutUint64(item[i:], p)
				}
				if err := w.PushBytesWait(ctx, item); err != nil {
					return
				}
			}
		}()
		read := make(chan struct{})
		go func() {
			defer close(read)
			buf := make([]byte, 4096)
			for ctx.Err() == nil {
				r.PopBytes(buf)
			}
		}()
		looks := 0
		for ctx.Err() == nil {
			items, err := scb.Look("busy", 8, at(o))
			require.NoError(t, err)
			for _, it := range items {
				require.Len(t, it.Data, 4096)
				for i := 0; i < len(it.Data); i += 8 {
					require.Equal(t, it.Pos, binary.BigEndian.Uint64(it.Data[i:]), "item %d, bytes %d", it.Pos, i)
				}
			}
			looks++
		}
		<-done
		<-read // before r closes
		assert.Positive(t, looks)
	})
}
