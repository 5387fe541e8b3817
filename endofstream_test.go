package scb_test

// End of stream: Writer.CloseWrite. Readers read what is left, then get
// io.EOF from every read, blocking ones at once; a writer that attaches
// later opens the stream again.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func init() {
	role("pop-until-eof", childPopUntilEOF)
}

// childPopUntilEOF reads integers with PopWait until io.EOF and checks they
// are 0, 1, 2, ...; it says how many it read.
func childPopUntilEOF(ctx context.Context, name string, o *scb.Options) error {
	r, err := ready(name, o, scb.OpenReader)
	if err != nil {
		return err
	}
	defer r.Close()
	var n uint64
	for {
		v, err := r.PopWait(ctx)
		if err == io.EOF {
			fmt.Println("eof", n)
			return nil
		}
		if err != nil {
			return fmt.Errorf("after %d items: %w", n, err)
		}
		if v != n {
			return fmt.Errorf("item %d is %d", n, v)
		}
		n++
	}
}

func TestCloseWriteThenEveryReadIsEOF(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.ItemSize = 16
		w := create(t, "eos", o)
		r := openReader(t, "eos", at(o))
		for i := range uint64(3) {
			require.NoError(t, w.Push(i))
		}
		info, err := scb.Stat("eos", at(o))
		require.NoError(t, err)
		assert.False(t, info.Ended)
		require.NoError(t, w.CloseWrite())
		info, err = scb.Stat("eos", at(o))
		require.NoError(t, err)
		assert.True(t, info.Ended)

		// What was written before is read first.
		for i := range uint64(3) {
			v, err := r.Pop()
			require.NoError(t, err)
			assert.Equal(t, i, v)
		}
		// Then every read says io.EOF, unwrapped, blocking ones at once.
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		buf := make([]byte, 16)
		reads := map[string]func() error{
			"Pop":              func() error { _, err := r.Pop(); return err },
			"PopWait":          func() error { _, err := r.PopWait(ctx); return err },
			"PopBytes":         func() error { _, err := r.PopBytes(buf); return err },
			"PopBytesWait":     func() error { _, err := r.PopBytesWait(ctx, buf); return err },
			"PopInto":          func() error { _, err := r.PopInto(make([]uint64, 4)); return err },
			"PopIntoWait":      func() error { _, err := r.PopIntoWait(ctx, make([]uint64, 4)); return err },
			"PopBytesInto":     func() error { _, err := r.PopBytesInto([][]byte{buf}); return err },
			"PopBytesIntoWait": func() error { _, err := r.PopBytesIntoWait(ctx, [][]byte{buf}); return err },
		}
		if m == scb.Queue {
			reads["Peek"] = func() error { _, err := r.Peek(); return err }
			reads["PeekWait"] = func() error { _, err := r.PeekWait(ctx); return err }
		}
		for name, read := range reads {
			start := time.Now()
			err := read()
			assert.Equal(t, io.EOF, err, name)
			assert.Less(t, time.Since(start), time.Second, name)
		}
		// The writer was closed by CloseWrite.
		assert.ErrorIs(t, w.Push(9), scb.ErrClosed)
		assert.ErrorIs(t, w.CloseWrite(), scb.ErrClosed)
	})
}

func TestCloseWriteWakesBlockedReaders(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		w := create(t, "eos", o)
		readers := 1
		if m == scb.Broadcast || s == scb.Flock {
			readers = 3
		}
		done := make(chan error, readers)
		for range readers {
			r := openReader(t, "eos", at(o))
			go func() {
				_, err := r.PopWait(context.Background())
				done <- err
			}()
		}
		// Let them fall asleep (or not: either way they must end).
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, w.CloseWrite())
		for range readers {
			select {
			case err := <-done:
				assert.Equal(t, io.EOF, err)
			case <-time.After(waitBound):
				t.Fatal("a blocked reader did not return after CloseWrite")
			}
		}
	})
}

func TestWriterAttachingAfterEndOpensTheStream(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		w := create(t, "eos", o)
		r := openReader(t, "eos", at(o))
		require.NoError(t, w.Push(1))
		require.NoError(t, w.CloseWrite())
		v, err := r.Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(1), v)
		_, err = r.Pop()
		require.Equal(t, io.EOF, err)

		w2, err := scb.OpenWriter("eos", at(o))
		require.NoError(t, err)
		defer w2.Close()
		info, err := scb.Stat("eos", at(o))
		require.NoError(t, err)
		assert.False(t, info.Ended)
		_, err = r.Pop()
		assert.ErrorIs(t, err, scb.ErrEmpty, "the stream is open again")
		require.NoError(t, w2.Push(2))
		v, err = r.Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(2), v)
	})
}

func TestCloseWriteDropsAClaim(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		w := create(t, "eos", o)
		r := openReader(t, "eos", at(o))
		require.NoError(t, w.Push(1))
		_, err := w.Claim()
		require.NoError(t, err)
		require.NoError(t, w.CloseWrite())
		v, err := r.Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(1), v)
		_, err = r.Pop()
		assert.Equal(t, io.EOF, err)
	})
}

func TestCrossProcessEndOfStream(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		n := sized(100_000, 10_000)
		o := newOpts(t, s, m)
		if m == scb.Broadcast {
			o.Length = n + 1 // the reader must not be overrun: it checks every item
		}
		w := create(t, "eos", o)
		c := startChild(t, "pop-until-eof", map[string]string{"DIR": o.Dir, "NAME": "eos"})
		c.Expect("ready")
		ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
		defer cancel()
		for i := range uint64(n) {
			require.NoError(t, w.PushWait(ctx, i))
		}
		require.NoError(t, w.CloseWrite())
		assert.Equal(t, strconv.Itoa(n), c.Expect("eof"))
		c.Wait()
	})
}

func TestEOFIsNotAnError(t *testing.T) {
	// io.EOF comes back unwrapped, as from any io.Reader, so that
	// err == io.EOF works; it still matches errors.Is.
	o := newOpts(t, scb.Atomic, scb.Queue)
	w := create(t, "eos", o)
	r := openReader(t, "eos", at(o))
	require.NoError(t, w.CloseWrite())
	_, err := r.Pop()
	assert.True(t, err == io.EOF)
	assert.True(t, errors.Is(err, io.EOF))
}

// TestFlockPushAfterEnd: with the Flock strategy, items that another
// attached writer pushes after one writer ended the stream are read before
// io.EOF, as CloseWrite says; readers once got ErrCorrupt ("end-of-stream
// word ... but 2 were written") instead.
func TestFlockPushAfterEnd(t *testing.T) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			o := newOpts(t, scb.Flock, m)
			w1 := create(t, "late", o)
			w2, err := scb.OpenWriter("late", at(o))
			require.NoError(t, err)
			defer w2.Close()
			r := openReader(t, "late", at(o))
			require.NoError(t, w1.Push(1))
			require.NoError(t, w1.CloseWrite())
			require.NoError(t, w2.Push(2))
			var got []uint64
			for v, err := range r.Values(context.Background()) {
				require.NoError(t, err)
				got = append(got, v)
			}
			assert.Equal(t, []uint64{1, 2}, got)
			_, err = r.Pop()
			require.ErrorIs(t, err, io.EOF)
			info, err := scb.Stat("late", at(o))
			require.NoError(t, err)
			assert.True(t, info.Ended)
		})
	}
}
