package scb_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func init() {
	role("writer-pick", childWriterPick)
}

// pickBuffers is how many buffers the WaitAny tests wait on.
const pickBuffers = 8

// pickOpts returns the options of buffer i of the WaitAny tests: the
// strategies alternate, and the modes every two (Flock only where Atomic
// is not offered).
func pickOpts(dir string, i int, atomicOK bool) *scb.Options {
	o := &scb.Options{Dir: dir, Length: 4, Strategy: scb.Flock, Mode: scb.Queue}
	if i%2 == 0 && atomicOK {
		o.Strategy = scb.Atomic
	}
	if i/2%2 == 1 {
		o.Mode = scb.Broadcast
	}
	return o
}

// pickSetup creates the buffers b0..b7 in dir, with their readers, and
// closes the creators' writers. spin is the readers' Options.Spin.
func pickSetup(t *testing.T, dir string, spin int) []*scb.Reader {
	t.Helper()
	atomicOK := true
	if w, err := scb.Create("probe", &scb.Options{Dir: dir}); errors.Is(err, scb.ErrUnsupported) {
		atomicOK = false
	} else {
		require.NoError(t, err)
		require.NoError(t, w.Close())
	}
	rs := make([]*scb.Reader, pickBuffers)
	for i := range rs {
		o := pickOpts(dir, i, atomicOK)
		name := "b" + strconv.Itoa(i)
		w, err := scb.Create(name, o)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		rs[i] = openReader(t, name, &scb.Options{Dir: dir, Spin: spin})
	}
	return rs
}

// pickSequence is the order in which a writer picks the buffers: each
// several times, shuffled.
func pickSequence(seed uint64) []int {
	seq := make([]int, 0, 4*pickBuffers)
	for range 4 {
		for i := range pickBuffers {
			seq = append(seq, i)
		}
	}
	rand.New(rand.NewPCG(seed, 1)).Shuffle(len(seq), func(i, j int) { seq[i], seq[j] = seq[j], seq[i] })
	return seq
}

// pickAll waits with WaitAny on rs for each buffer of seq in turn, which
// a writer fills one item at a time, and checks that each wake-up, within
// a minute, names the buffer written: its reader has the item, and no
// other has one. It acknowledges each item with ack(n), so that the
// writer moves on.
func pickAll(t *testing.T, rs []*scb.Reader, seq []int, ack func(n int)) {
	t.Helper()
	hs := make([]scb.Waitable, len(rs))
	for i, r := range rs {
		hs[i] = r
	}
	for n, want := range seq {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		i, err := scb.WaitAny(ctx, hs...)
		cancel()
		require.NoError(t, err, "wake-up %d", n)
		require.Equal(t, want, i, "wake-up %d came from the wrong buffer", n)
		v, err := rs[i].Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(n), v)
		for j, r := range rs {
			if j != i {
				_, err := r.Pop()
				require.ErrorIs(t, err, scb.ErrEmpty, "buffer %d has an item at wake-up %d", j, n)
			}
		}
		ack(n)
	}
}

// TestWaitAnyEightBuffers waits on 8 buffers of mixed strategies and
// modes, from one goroutine, while another writes to them in a shuffled
// order, one item at a time: every wake-up comes from the buffer written,
// whether the wait sleeps at once (Spin -1) or spins first, every one
// within a minute although no sleep ends by itself.
func TestWaitAnyEightBuffers(t *testing.T) {
	// Sleeps end only when woken: a lost wake-up is a hang (and the
	// context's failure), not a delay of a sleep's bound.
	defer scb.SetSleepLimits(time.Hour)()
	for _, spin := range []int{-1, 0} {
		t.Run("spin="+strconv.Itoa(spin), func(t *testing.T) {
			dir := t.TempDir()
			rs := pickSetup(t, dir, spin)
			ws := make([]*scb.Writer, len(rs))
			for i := range ws {
				w, err := scb.OpenWriter("b"+strconv.Itoa(i), &scb.Options{Dir: dir})
				require.NoError(t, err)
				t.Cleanup(func() { w.Close() })
				ws[i] = w
			}
			seq := pickSequence(uint64(spin) + 7)
			acked := make(chan struct{})
			errc := make(chan error, 1)
			go func() {
				for n, i := range seq {
					// Let the waiter fall asleep first, some of the time.
					if n%3 == 0 {
						time.Sleep(2 * time.Millisecond)
					}
					if err := ws[i].Push(uint64(n)); err != nil {
						errc <- err
						return
					}
					<-acked
				}
				errc <- nil
			}()
			pickAll(t, rs, seq, func(int) { acked <- struct{}{} })
			require.NoError(t, <-errc)
		})
	}
}

// childWriterPick opens writers of the buffers b0..b7 and of "ack", and
// pushes item n into buffer SEQ[n], waiting for the parent to acknowledge
// each on ack before the next.
func childWriterPick(ctx context.Context, name string, o *scb.Options) error {
	ws := make([]*scb.Writer, pickBuffers)
	for i := range ws {
		w, err := scb.OpenWriter("b"+strconv.Itoa(i), o)
		if err != nil {
			return err
		}
		defer w.Close()
		ws[i] = w
	}
	ack, err := ready("ack", o, scb.OpenReader)
	if err != nil {
		return err
	}
	defer ack.Close()
	for n, f := range strings.Split(param("SEQ"), ",") {
		i, err := strconv.Atoi(f)
		if err != nil {
			return err
		}
		if n%3 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
		if err := ws[i].Push(uint64(n)); err != nil {
			return err
		}
		if v, err := ack.PopWait(ctx); err != nil || v != uint64(n) {
			return fmt.Errorf("ack %d: %d, %v", n, v, err)
		}
	}
	fmt.Println("ok")
	return nil
}

// TestWaitAnyCrossProcess is TestWaitAnyEightBuffers with the writer in
// another process: the wake-ups cross processes, as futex_waitv's (and
// Windows' events) must.
func TestWaitAnyCrossProcess(t *testing.T) {
	defer scb.SetSleepLimits(time.Hour)() // as in TestWaitAnyEightBuffers
	dir := t.TempDir()
	rs := pickSetup(t, dir, -1)
	ack := create(t, "ack", &scb.Options{Dir: dir, Strategy: scb.Flock, Length: 4})
	seq := pickSequence(11)
	fs := make([]string, len(seq))
	for i, v := range seq {
		fs[i] = strconv.Itoa(v)
	}
	c := startChild(t, "writer-pick", map[string]string{"DIR": dir, "NAME": "b0", "SEQ": strings.Join(fs, ",")})
	c.Expect("ready")
	pickAll(t, rs, seq, func(n int) { require.NoError(t, ack.Push(uint64(n))) })
	c.Expect("ok")
	c.Wait()
}

// TestWaitAnyWriters waits for room: a full Queue writer is not ready, a
// Broadcast writer always is, and a read of the full buffer's items makes
// its writer ready (once a quarter of the ring is free, or within the
// writers' bound on a sleep).
func TestWaitAnyWriters(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: s, Length: 4}
		w := create(t, "q", o)
		r := openReader(t, "q", at(o))
		for i := range 4 {
			require.NoError(t, w.Push(uint64(i)))
		}
		bo := &scb.Options{Dir: o.Dir, Strategy: scb.Flock, Mode: scb.Broadcast, Length: 4}
		bw := create(t, "b", bo)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		i, err := scb.WaitAny(ctx, w, bw)
		require.NoError(t, err)
		assert.Equal(t, 1, i, "the full Queue writer is not ready; the Broadcast writer is")

		i, err = scb.WaitAny(ctx, w)
		assert.Equal(t, -1, i)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		popped := make(chan error)
		go func() {
			time.Sleep(5 * time.Millisecond)
			_, err := r.Pop()
			popped <- err
		}()
		ctx, cancel = context.WithTimeout(context.Background(), childTimeout)
		defer cancel()
		i, err = scb.WaitAny(ctx, w)
		require.NoError(t, <-popped)
		require.NoError(t, err)
		assert.Equal(t, 0, i)
		require.NoError(t, w.Push(4))
	})
}

// TestWaitAnyEnds checks the ready states that are not an item: the end
// of the stream, a writer gone for its grace, a handle closed by another
// goroutine while the call sleeps, a context done.
func TestWaitAnyEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	t.Run("end of stream", func(t *testing.T) {
		forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
			o := newOpts(t, s, m)
			w := create(t, "x", o)
			r := openReader(t, "x", at(o))
			done := make(chan error)
			var ending atomic.Bool
			go func() {
				time.Sleep(5 * time.Millisecond)
				ending.Store(true)
				done <- w.CloseWrite()
			}()
			i, err := scb.WaitAny(ctx, r)
			assert.True(t, ending.Load(), "ready before the stream ended")
			require.NoError(t, <-done)
			require.NoError(t, err)
			assert.Equal(t, 0, i)
			_, err = r.Pop()
			assert.ErrorIs(t, err, io.EOF)
		})
	})
	t.Run("writer gone", func(t *testing.T) {
		needLockWords(t)
		forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
			o := newOpts(t, s, m)
			w := create(t, "x", o)
			require.NoError(t, w.Push(1))
			r, err := scb.OpenReader("x", &scb.Options{Dir: o.Dir, Grace: 50 * time.Millisecond})
			require.NoError(t, err)
			defer r.Close()
			_, err = r.Pop()
			require.NoError(t, err)
			require.NoError(t, w.Close())
			i, err := scb.WaitAny(ctx, r)
			assert.Equal(t, 0, i)
			require.ErrorIs(t, err, scb.ErrWriterGone)
		})
	})
	t.Run("closed while asleep", func(t *testing.T) {
		o := newOpts(t, scb.Flock, scb.Queue)
		create(t, "x", o)
		r, err := scb.OpenReader("x", at(o))
		require.NoError(t, err)
		go func() {
			time.Sleep(5 * time.Millisecond)
			r.Close()
		}()
		i, err := scb.WaitAny(ctx, r)
		assert.Equal(t, 0, i)
		require.ErrorIs(t, err, scb.ErrClosed)
		i, err = scb.WaitAny(ctx, r)
		assert.Equal(t, 0, i)
		require.ErrorIs(t, err, scb.ErrClosed)
	})
	t.Run("context", func(t *testing.T) {
		o := newOpts(t, scb.Flock, scb.Queue)
		w := create(t, "x", o)
		r := openReader(t, "x", at(o))
		cctx, ccancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(5 * time.Millisecond)
			ccancel()
		}()
		i, err := scb.WaitAny(cctx, r)
		assert.Equal(t, -1, i)
		require.ErrorIs(t, err, context.Canceled)
		assert.True(t, strings.HasPrefix(err.Error(), "scb: "), err.Error())
		// A handle ready by then still wins over the done context.
		require.NoError(t, w.Push(1))
		i, err = scb.WaitAny(cctx, r)
		assert.Equal(t, 0, i)
		require.NoError(t, err)
	})
}

// TestWaitAnyBadInput refuses what it cannot wait on, with an error, and
// never panics.
func TestWaitAnyBadInput(t *testing.T) {
	o := newOpts(t, scb.Flock, scb.Queue)
	w := create(t, "x", o)
	var nilReader *scb.Reader
	var nilTyped *scb.TypedReader[uint32]
	many := make([]scb.Waitable, 129)
	for i := range many {
		many[i] = w
	}
	for _, tc := range []struct {
		name string
		hs   []scb.Waitable
	}{
		{"none", nil},
		{"nil", []scb.Waitable{w, nil}},
		{"nil reader", []scb.Waitable{nilReader}},
		{"nil typed", []scb.Waitable{w, nilTyped}},
		{"129", many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, err := scb.WaitAny(context.Background(), tc.hs...)
			assert.Equal(t, -1, i)
			require.ErrorIs(t, err, scb.ErrInvalidOptions)
		})
	}
	// The same handle twice is waited on once.
	i, err := scb.WaitAny(nil, w, w) //lint:ignore SA1012 a nil context is documented to mean Background
	require.NoError(t, err)
	assert.Equal(t, 0, i)
}

// TestWaitAnyTyped waits on typed handles as on their untyped ones.
func TestWaitAnyTyped(t *testing.T) {
	type reading struct {
		ID uint32
		V  float64
	}
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock}
	tw, err := scb.CreateTyped[reading]("t", o)
	require.NoError(t, err)
	defer tw.Close()
	r := openReader(t, "t", at(o))
	tr, err := scb.NewTypedReader[reading](r)
	require.NoError(t, err)
	require.NoError(t, tw.Push(reading{ID: 7, V: 1.5}))
	i, err := scb.WaitAny(context.Background(), tw, tr)
	require.NoError(t, err)
	assert.Equal(t, 0, i, "the writer has room")
	i, err = scb.WaitAny(context.Background(), tr)
	require.NoError(t, err)
	assert.Equal(t, 0, i)
	v, err := tr.Pop()
	require.NoError(t, err)
	assert.Equal(t, reading{ID: 7, V: 1.5}, v)
}

// BenchmarkWaitAnyRoundTrip measures a round trip through two buffers,
// one item each way, with the echoing side waiting by PopWait on its one
// buffer ("popwait") or by WaitAny on its buffer among 8 ("waitany-8"),
// the others idle. With spin=-1 every wait sleeps, so the round trip is
// two wake-ups: the ratio of the two waiters is what WaitAny's sleep on
// several words costs over one.
func BenchmarkWaitAnyRoundTrip(b *testing.B) {
	for _, spin := range []int{0, -1} {
		for _, how := range []string{"popwait", "waitany-8"} {
			b.Run(fmt.Sprintf("spin=%d/%s", spin, how), func(b *testing.B) {
				benchRoundTrip(b, spin, how == "waitany-8")
			})
		}
	}
}

func benchRoundTrip(b *testing.B, spin int, any bool) {
	dir := b.TempDir()
	o := &scb.Options{Dir: dir, Strategy: scb.Flock, Length: 64}
	ping, pong := create(b, "ping", o), create(b, "pong", o)
	ro := &scb.Options{Dir: dir, Spin: spin}
	pingR, pongR := openReader(b, "ping", ro), openReader(b, "pong", ro)
	hs := []scb.Waitable{}
	for i := range pickBuffers - 1 {
		name := "idle" + strconv.Itoa(i)
		create(b, name, o)
		hs = append(hs, openReader(b, name, ro))
	}
	hs = append(hs, pingR)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		for range b.N {
			if any {
				if i, err := scb.WaitAny(ctx, hs...); err != nil || i != len(hs)-1 {
					errc <- fmt.Errorf("WaitAny: %d, %v", i, err)
					return
				}
			}
			v, err := pingR.PopWait(ctx)
			if err == nil {
				err = pong.PushWait(ctx, v)
			}
			if err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	b.ResetTimer()
	for i := range b.N {
		if err := ping.PushWait(ctx, uint64(i)); err != nil {
			b.Fatal(err)
		}
		if _, err := pongR.PopWait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}
