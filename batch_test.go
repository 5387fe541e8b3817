package scb_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/wait"
)

func TestPushManyPopInto(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.Length = 5 // not a power of two
		w := create(t, "batch", o)
		r := openReader(t, "batch", at(o))

		dst := make([]uint64, 4)
		n, err := r.PopInto(dst)
		assert.Zero(t, n)
		assert.Same(t, scb.ErrEmpty, err)

		n, err = w.PushMany([]uint64{1, 2, 3})
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		n, err = w.PushMany(nil)
		require.NoError(t, err)
		assert.Zero(t, n)

		n, err = r.PopInto(dst[:2])
		require.NoError(t, err)
		assert.Equal(t, []uint64{1, 2}, dst[:n])
		n, err = r.PopInto(dst)
		require.NoError(t, err)
		assert.Equal(t, []uint64{3}, dst[:n])

		// Wrap round the ring several times.
		next, want := uint64(10), uint64(10)
		for range 7 {
			n, err := w.PushMany([]uint64{next, next + 1, next + 2})
			require.NoError(t, err)
			require.Equal(t, 3, n)
			next += 3
			n, err = r.PopInto(dst)
			require.NoError(t, err)
			for _, v := range dst[:n] {
				require.Equal(t, want, v)
				want++
			}
		}
	})
}

func TestPushManyStopsWhenFull(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Length = 4
		w := create(t, "q", o)
		r := openReader(t, "q", at(o))
		n, err := w.PushMany([]uint64{1, 2, 3, 4, 5, 6})
		assert.Equal(t, 4, n)
		assert.Same(t, scb.ErrFull, err)
		got, err := r.PopMany(10)
		require.NoError(t, err)
		assert.Equal(t, []uint64{1, 2, 3, 4}, got)
	})
}

func TestPushManyStopsAtValueOutOfRange(t *testing.T) {
	o := newOpts(t, 0, 0)
	o.ItemSize = 1
	w := create(t, "q", o)
	r := openReader(t, "q", at(o))
	n, err := w.PushMany([]uint64{1, 255, 256, 3})
	assert.Equal(t, 2, n)
	require.ErrorIs(t, err, scb.ErrRange)
	got, err := r.PopMany(10)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 255}, got, "the values before it were written")
}

func TestPopIntoBroadcastOverrunMidBatch(t *testing.T) {
	o := newOpts(t, 0, scb.Broadcast)
	o.Length = 4
	w := create(t, "b", o)
	r := openReader(t, "b", at(o))
	_, err := w.PushMany([]uint64{0, 1, 2, 3, 4, 5})
	require.NoError(t, err)
	dst := make([]uint64, 8)
	n, err := r.PopInto(dst)
	require.ErrorIs(t, err, scb.ErrOverrun, "the first item was overwritten: report at once")
	assert.Zero(t, n)
	n, err = r.PopInto(dst)
	require.NoError(t, err)
	assert.Equal(t, []uint64{2, 3, 4, 5}, dst[:n])
	assert.Equal(t, uint64(2), r.Lost())
}

func TestByteBatches(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.ItemSize = 6
		o.Length = 8
		w := create(t, "b", o)
		r := openReader(t, "b", at(o))

		items := [][]byte{[]byte("one"), []byte("two"), {}, []byte("three!")}
		n, err := w.PushBytesMany(items)
		require.NoError(t, err)
		require.Equal(t, 4, n)
		n, err = w.PushBytesMany([][]byte{[]byte("ok"), []byte("toolong")})
		assert.Equal(t, 1, n)
		require.ErrorIs(t, err, scb.ErrTooLarge)

		bufs := make([][]byte, 3)
		for i := range bufs {
			bufs[i] = make([]byte, 0, 6)
		}
		n, err = r.PopBytesInto(bufs)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		assert.Equal(t, "one", string(bufs[0]))
		assert.Equal(t, "two", string(bufs[1]))
		assert.Empty(t, bufs[2])

		small := [][]byte{make([]byte, 0, 2)}
		n, err = r.PopBytesInto(small)
		require.ErrorIs(t, err, io.ErrShortBuffer)
		assert.Zero(t, n)

		mixed := [][]byte{make([]byte, 0, 6), make([]byte, 0, 1)}
		n, err = r.PopBytesInto(mixed)
		require.NoError(t, err, "a later item that does not fit stops the batch quietly")
		require.Equal(t, 1, n)
		assert.Equal(t, "three!", string(mixed[0]))
		n, err = r.PopBytesInto([][]byte{make([]byte, 0, 6)})
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
}

// TestBatchWaits streams batches between goroutines through separate
// handles, with the default spin and with sleeping at once (futex on Linux).
func TestBatchWaits(t *testing.T) {
	for _, s := range strategies {
		for _, spin := range []int{0, -1} {
			t.Run(s.String()+"/spin"+map[int]string{0: "default", -1: "none"}[spin], func(t *testing.T) {
				o := newOpts(t, s, scb.Queue)
				o.Length = 16
				o.Spin = spin
				w := create(t, "q", o)
				r := openReader(t, "q", at(o))
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()

				const total = 20000
				errc := make(chan error, 1)
				go func() {
					batch := make([]uint64, 0, 37)
					for i := range uint64(total) {
						batch = append(batch, i)
						if len(batch) == cap(batch) || i == total-1 {
							n, err := w.PushManyWait(ctx, batch)
							if err == nil && n != len(batch) {
								t.Errorf("PushManyWait wrote %d of %d", n, len(batch))
							}
							if err != nil {
								errc <- err
								return
							}
							batch = batch[:0]
						}
					}
					errc <- nil
				}()
				dst := make([]uint64, 23)
				for want := uint64(0); want < total; {
					n, err := r.PopIntoWait(ctx, dst)
					require.NoError(t, err)
					require.Positive(t, n)
					for _, v := range dst[:n] {
						require.Equal(t, want, v)
						want++
					}
				}
				require.NoError(t, <-errc)
			})
		}
	}
}

// TestArgumentErrorsBeforeFull checks that every strategy reports an item
// that can never fit as such, even when the buffer is also full, and that an
// empty batch succeeds on a full buffer.
func TestArgumentErrorsBeforeFull(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Length, o.ItemSize = 2, 1
		w := create(t, "q", o)
		require.NoError(t, w.Push(1))
		require.NoError(t, w.Push(2))
		require.ErrorIs(t, w.PushBytes([]byte{1, 2}), scb.ErrTooLarge)
		require.ErrorIs(t, w.Push(256), scb.ErrRange)
		_, err := w.PushMany([]uint64{256})
		require.ErrorIs(t, err, scb.ErrRange)
		_, err = w.PushBytesMany([][]byte{{1, 2}})
		require.ErrorIs(t, err, scb.ErrTooLarge)
		n, err := w.PushMany(nil)
		assert.Zero(t, n)
		require.NoError(t, err)
		require.Same(t, scb.ErrFull, w.Push(3))
	})
}

// TestNoAllocations checks that moving items allocates nothing, one at a
// time or in batches, blocking forms included when they need not wait.
func TestNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		t.Run("lengths", func(t *testing.T) { testNoAllocations(t, s, false) })
		t.Run("fixed", func(t *testing.T) { testNoAllocations(t, s, true) })
	})
}

func testNoAllocations(t *testing.T, s scb.Strategy, fixed bool) {
	o := newOpts(t, s, scb.Queue)
	o.Length, o.FixedSize = 256, fixed
	w := create(t, "a", o)
	r := openReader(t, "a", at(o))
	ctx := context.Background()
	vs, dst := make([]uint64, 64), make([]uint64, 64)
	p, buf := make([]byte, 8), make([]byte, 8)
	items, bufs := [][]byte{p, p}, [][]byte{make([]byte, 0, 8), make([]byte, 0, 8)}
	calls := map[string]func(){
		"Push/Pop":         func() { w.Push(1); r.Pop() },
		"PushWait/PopWait": func() { w.PushWait(ctx, 1); r.PopWait(ctx) },
		"PushBytes/PopBytes": func() {
			w.PushBytes(p)
			r.PopBytes(buf)
		},
		"PushMany/PopInto": func() { w.PushMany(vs); r.PopInto(dst) },
		"PushManyWait/PopIntoWait": func() {
			w.PushManyWait(ctx, vs)
			r.PopIntoWait(ctx, dst)
		},
		"PushBytesMany/PopBytesInto": func() { w.PushBytesMany(items); r.PopBytesInto(bufs) },
		"Claim/Peek": func() {
			w.Claim()
			w.Commit(8)
			r.Peek()
			r.Release()
		},
		"empty and full": func() { r.Pop(); r.PopInto(dst) },
		"Take/Ack": func() {
			w.Push(1)
			_, l, _ := r.Take()
			l.Ack()
		},
		"TakeWait/GiveBack/Ack": func() {
			w.PushWait(ctx, 1)
			_, l, _ := r.TakeWait(ctx)
			l.GiveBack()
			_, l, _ = r.TakeWait(ctx)
			l.Ack()
		},
		"TakeBytes/Ack": func() {
			w.PushBytes(p)
			_, l, _ := r.TakeBytes(buf)
			l.Ack()
		},
	}
	for name, f := range calls {
		f() // warm up
		assert.Zero(t, testing.AllocsPerRun(100, f), name)
	}
	require.Zero(t, r.Len(), "every call above left the buffer as it found it")

	// Calls that wait: the climb of each wait (the hook) brings what the
	// call waits for.
	var bring func()
	defer scb.SetClimbHook(func(wait.Ladder) wait.Stage { bring(); return wait.Spun })()
	full, drain := make([]uint64, o.Length), make([]uint64, o.Length)
	waits := map[string]struct{ bring, call func() }{
		"PopWait, waiting":     {func() { w.Push(1) }, func() { r.PopWait(ctx) }},
		"PopIntoWait, waiting": {func() { w.PushMany(vs) }, func() { r.PopIntoWait(ctx, dst) }},
		"TakeWait, waiting": {func() { w.Push(1) }, func() {
			_, l, _ := r.TakeWait(ctx)
			l.Ack()
		}},
		"PushWait, waiting": {func() { r.Pop() }, func() {
			w.PushMany(full)
			w.PushWait(ctx, 1)
			n, _ := r.PopInto(drain) // up to the end of the ring
			r.PopInto(drain[n:])
		}},
	}
	for name, c := range waits {
		bring = c.bring
		c.call() // warm up
		assert.Zero(t, testing.AllocsPerRun(100, c.call), name)
		require.Zero(t, r.Len(), name)
	}
}

// raceEnabled is set by race_test.go in builds with the race detector.
var raceEnabled bool

// TestPopIntoMatchesPop checks that PopInto returns what Pop would, item by
// item, when items of other lengths (pushed as bytes) sit among 8-byte ones,
// at every position, also across the end of the ring, for item sizes
// below, at and above 8 bytes.
func TestPopIntoMatchesPop(t *testing.T) {
	for _, size := range []int{4, 8, 16} {
		for _, length := range []int{4, 5} {
			for at := range 6 {
				t.Run(fmt.Sprintf("size=%d/length=%d/at=%d", size, length, at), func(t *testing.T) {
					testPopIntoMatchesPop(t, size, length, at)
				})
			}
		}
	}
}

func testPopIntoMatchesPop(t *testing.T, size, length, at int) {
	dir := t.TempDir()
	push := func(name string) *scb.Reader {
		w := create(t, name, &scb.Options{Dir: dir, Length: length, ItemSize: size})
		r := openReader(t, name, &scb.Options{Dir: dir})
		require.NoError(t, w.Push(100)) // and pop it: the next items cross the ring's end
		_, err := r.Pop()
		require.NoError(t, err)
		for i := range uint64(length) {
			switch {
			case int(i) == at%length:
				require.NoError(t, w.PushBytes([]byte{0, 7}))
			case int(i) == (at+2)%length && size > 8:
				// An item of 8 bytes where Push writes size bytes.
				require.NoError(t, w.PushBytes([]byte{0, 0, 0, 0, 0, 0, 1, 42}))
			default:
				require.NoError(t, w.Push(i))
			}
		}
		return r
	}
	one, many := push("one"), push("many")
	var want, got []uint64
	var wantErr, gotErr error
	for {
		v, err := one.Pop()
		if err != nil {
			wantErr = err
			break
		}
		want = append(want, v)
	}
	dst := make([]uint64, length+1)
	for {
		n, err := many.PopInto(dst)
		got = append(got, dst[:n]...)
		if err != nil {
			gotErr = err
			break
		}
	}
	assert.Equal(t, want, got)
	assert.Equal(t, wantErr, gotErr)
}

// TestPopManyWait: it waits while nothing is ready, then returns what is
// ready, up to n; a done context ends the wait, the end of stream is
// io.EOF; PopMany says ErrEmpty where it would wait.
func TestPopManyWait(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		w := create(t, "many", o)
		r := openReader(t, "many", at(o))
		got, err := r.PopMany(3)
		require.Equal(t, scb.ErrEmpty, err)
		assert.Empty(t, got)
		pushed := make(chan struct{})
		go func() {
			defer close(pushed)
			time.Sleep(20 * time.Millisecond)
			w.PushMany([]uint64{1, 2, 3, 4})
		}()
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		got, err = r.PopManyWait(ctx, 3)
		require.NoError(t, err)
		require.NotEmpty(t, got)
		for len(got) < 3 { // the four may have come in two batches
			more, err := r.PopManyWait(ctx, 3-len(got))
			require.NoError(t, err)
			got = append(got, more...)
		}
		assert.Equal(t, []uint64{1, 2, 3}, got)
		got, err = r.PopManyWait(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, []uint64{4}, got)
		<-pushed // the writer is this goroutine's again (an Atomic handle is one goroutine's at a time)

		short, cancelShort := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancelShort()
		_, err = r.PopManyWait(short, 10)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NoError(t, w.CloseWrite())
		_, err = r.PopManyWait(ctx, 10)
		require.ErrorIs(t, err, io.EOF)
	})
}
