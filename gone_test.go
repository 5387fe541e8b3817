package scb_test

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

// Writer gone and reader gone: a blocking call whose peers are all gone,
// closed or dead, without an end of stream, fails within the grace,
// unless a standby takes over in time.

func init() {
	role("push-hold", childPushHold)
	role("standby-writer", childStandbyWriter)
	role("pop-hold", childPopHold)
	role("standby-reader", childStandbyReader)
}

// childStandbyReader says "ready", waits for the reader role
// (OpenReaderWait), then pops N items and says "read" and their sum.
func childStandbyReader(ctx context.Context, name string, o *scb.Options) error {
	fmt.Println("ready")
	r, err := scb.OpenReaderWait(ctx, name, o)
	if err != nil {
		return err
	}
	defer r.Close()
	sum := uint64(0)
	for range paramInt("N") {
		v, err := r.PopWait(ctx)
		if err != nil {
			return err
		}
		sum += v
	}
	fmt.Println("read", sum)
	return nil
}

// childPushHold attaches a writer, pushes items FROM to FROM+N-1, says
// "ready", and holds the role until it is killed.
func childPushHold(ctx context.Context, name string, o *scb.Options) error {
	w, err := scb.OpenWriter(name, o)
	if err != nil {
		return err
	}
	defer w.Close()
	from := paramInt("FROM")
	for i := range paramInt("N") {
		if err := w.PushWait(ctx, from+i); err != nil {
			return err
		}
	}
	fmt.Println("ready")
	<-ctx.Done()
	return nil
}

// childStandbyWriter says "ready", waits for the writer role
// (OpenWriterWait), then pushes items FROM to FROM+N-1 and ends the stream.
func childStandbyWriter(ctx context.Context, name string, o *scb.Options) error {
	fmt.Println("ready")
	w, err := scb.OpenWriterWait(ctx, name, o)
	if err != nil {
		return err
	}
	defer w.Close()
	from := paramInt("FROM")
	for i := range paramInt("N") {
		if err := w.PushWait(ctx, from+i); err != nil {
			return err
		}
	}
	return w.CloseWrite()
}

// childPopHold attaches a reader, pops N items, says "ready", and holds
// the role until it is killed.
func childPopHold(ctx context.Context, name string, o *scb.Options) error {
	r, err := scb.OpenReader(name, o)
	if err != nil {
		return err
	}
	defer r.Close()
	for range paramInt("N") {
		if _, err := r.PopWait(ctx); err != nil {
			return err
		}
	}
	fmt.Println("ready")
	<-ctx.Done()
	return nil
}

// goneBound is how soon after the last peer's death a waiting call must
// fail with the default grace: the second, with no slack (the
// design gives about 0.7 s).
const goneBound = time.Second

// forEachKind runs f for each strategy and mode.
func forEachKind(t *testing.T, roles []string, f func(t *testing.T, o *scb.Options)) {
	t.Helper()
	needLockWords(t, roles...)
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		forEachMode(t, func(t *testing.T, m scb.Mode) { f(t, newOpts(t, s, m)) })
	})
}

// TestWriterGone: a writer SIGKILLed mid-stream (no end of stream) makes
// the reader's waiting read, and its Values loop, fail with ErrWriterGone
// within a second of the death; never io.EOF, never a wait for ever.
func TestWriterGone(t *testing.T) {
	forEachKind(t, []string{"push-hold"}, func(t *testing.T, o *scb.Options) {
		for _, via := range []string{"PopWait", "Values"} {
			t.Run(via, func(t *testing.T) {
				o := newOpts(t, o.Strategy, o.Mode)
				w := create(t, "cut", o)
				require.NoError(t, w.Close()) // set up only: writes nothing
				r := openReader(t, "cut", at(o))
				c := startChild(t, "push-hold", map[string]string{"DIR": o.Dir, "NAME": "cut", "FROM": "0", "N": "5"})
				c.Expect("ready")
				ctx, cancel := context.WithTimeout(context.Background(), waitBound)
				defer cancel()
				got := 0
				var err error
				killed := make(chan time.Time, 1)
				read := func() {
					if via == "PopWait" {
						for {
							if _, err = r.PopWait(ctx); err != nil {
								return
							}
							if got++; got == 5 {
								c.Kill()
								killed <- time.Now()
							}
						}
					}
					for _, err = range r.Values(ctx) {
						if err != nil {
							return
						}
						if got++; got == 5 {
							c.Kill()
							killed <- time.Now()
						}
					}
					err = io.EOF // the loop ended as at the end of the stream
				}
				read()
				after := time.Since(<-killed)
				assert.Equal(t, 5, got)
				require.ErrorIs(t, err, scb.ErrWriterGone)
				assert.NotErrorIs(t, err, io.EOF)
				assert.Less(t, after, goneBound, "ErrWriterGone came %v after the kill", after)
			})
		}
	})
}

// TestStandbyWriterTakesOver: a writer killed mid-stream, with a standby
// writer waiting in OpenWriterWait that takes over and ends the stream:
// the reader, waiting all along, reads every item of both and the end of
// stream, with no error.
func TestStandbyWriterTakesOver(t *testing.T) {
	forEachKind(t, []string{"push-hold", "standby-writer"}, func(t *testing.T, o *scb.Options) {
		w := create(t, "relay", o)
		require.NoError(t, w.Close())
		r := openReader(t, "relay", at(o))
		first := startChild(t, "push-hold", map[string]string{"DIR": o.Dir, "NAME": "relay", "FROM": "0", "N": "5"})
		first.Expect("ready")
		standby := startChild(t, "standby-writer", map[string]string{"DIR": o.Dir, "NAME": "relay", "FROM": "5", "N": "5"})
		standby.Expect("ready")
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		var got []uint64
		for v, err := range r.Values(ctx) {
			require.NoError(t, err, "after %v", got)
			got = append(got, v)
			if len(got) == 5 {
				first.Kill()
			}
		}
		assert.Equal(t, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, got)
		standby.Wait()
	})
}

// TestReaderWaitsForFirstWriter: a reader that attached before any writer
// wrote (Create's writer only set the buffer up) waits past the grace, and
// gets the first writer's items.
func TestReaderWaitsForFirstWriter(t *testing.T) {
	needLockWords(t)
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Grace = 20 * time.Millisecond
		w := create(t, "early", o)
		require.NoError(t, w.Close())
		r := openReader(t, "early", at(o))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := r.PopWait(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded, "no writer yet: wait, not ErrWriterGone")
		w2, err := scb.OpenWriter("early", at(o))
		require.NoError(t, err)
		defer w2.Close() // Windows cannot remove a file still mapped
		require.NoError(t, w2.Push(7))
		v, err := r.PopWait(context.Background())
		require.NoError(t, err)
		assert.EqualValues(t, 7, v)
	})
}

// TestWriterGoneRules: a writer that closes without ending the stream is
// gone too, after the grace, and a reader may wait again for the next;
// a negative grace waits for ever; an ended stream is io.EOF, not gone.
func TestWriterGoneRules(t *testing.T) {
	needLockWords(t)
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		w := create(t, "rules", o)
		require.NoError(t, w.Push(1))
		require.NoError(t, w.Close())
		ro := *at(o)
		ro.Grace = 50 * time.Millisecond
		r, err := scb.OpenReader("rules", &ro)
		require.NoError(t, err)
		defer r.Close()
		_, err = r.PopWait(context.Background())
		require.NoError(t, err)
		start := time.Now()
		_, err = r.PopWait(context.Background())
		require.ErrorIs(t, err, scb.ErrWriterGone)
		assert.GreaterOrEqual(t, time.Since(start), ro.Grace)
		var e *scb.Error
		require.True(t, errors.As(err, &e), "%v", err)
		assert.Equal(t, "rules", e.Name)

		// The next writer continues the stream; its end is io.EOF.
		w, err = scb.OpenWriter("rules", at(o))
		require.NoError(t, err)
		require.NoError(t, w.Push(2))
		require.NoError(t, w.CloseWrite())
		require.NoError(t, w.Close())
		v, err := r.PopWait(context.Background())
		require.NoError(t, err)
		assert.EqualValues(t, 2, v)
		_, err = r.PopWait(context.Background())
		require.ErrorIs(t, err, io.EOF)

		// A negative grace: the reader waits until its context ends.
		fo := *at(o)
		fo.Grace = -1
		w, err = scb.OpenWriter("rules", at(o)) // opens the stream again
		require.NoError(t, err)
		require.NoError(t, w.Push(3))
		require.NoError(t, w.Close())
		forever, err := scb.OpenReader("rules", &fo)
		if s == scb.Atomic {
			require.ErrorIs(t, err, scb.ErrBusy) // one reader: hand the role over
			require.NoError(t, r.Close())
			forever, err = scb.OpenReader("rules", &fo)
		}
		require.NoError(t, err)
		defer forever.Close()
		_, err = forever.PopWait(context.Background())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond) // past the default grace and a check
		defer cancel()
		_, err = forever.PopWait(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// TestGraceWaitsForAStandby: a reader whose grace is longer than the gap
// before the next writer attaches reads on without an error; one whose
// grace is shorter gets ErrWriterGone first.
func TestGraceWaitsForAStandby(t *testing.T) {
	needLockWords(t)
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		for _, tc := range []struct {
			grace time.Duration
			gone  bool
		}{{2 * time.Second, false}, {150 * time.Millisecond, true}} {
			t.Run(tc.grace.String(), func(t *testing.T) {
				o := newOpts(t, s, scb.Queue)
				w := create(t, "gap", o)
				require.NoError(t, w.Push(1))
				require.NoError(t, w.Close())
				ro := *at(o)
				ro.Grace = tc.grace
				r, err := scb.OpenReader("gap", &ro)
				require.NoError(t, err)
				defer r.Close()
				_, err = r.Pop()
				require.NoError(t, err)
				type result struct {
					v   uint64
					err error
				}
				got := make(chan result, 1)
				start := time.Now()
				go func() {
					v, err := r.PopWait(context.Background())
					got <- result{v, err}
				}()
				select {
				case res := <-got:
					require.True(t, tc.gone, "returned %v, %v before the standby came", res.v, res.err)
					require.ErrorIs(t, res.err, scb.ErrWriterGone)
					assert.GreaterOrEqual(t, time.Since(start), tc.grace)
					return
				case <-time.After(900 * time.Millisecond): // past the default grace, within 2 s
				}
				require.False(t, tc.gone, "no ErrWriterGone within 900 ms, grace %v", tc.grace)
				w, err = scb.OpenWriter("gap", at(o))
				require.NoError(t, err)
				defer w.Close()
				require.NoError(t, w.Push(2))
				res := <-got
				require.NoError(t, res.err)
				assert.EqualValues(t, 2, res.v)
			})
		}
	})
}

// TestReaderGone: a Queue writer blocked on a full ring whose reader was
// SIGKILLed fails with ErrReaderGone within a second; with a standby
// reader that takes over, it goes on.
func TestReaderGone(t *testing.T) {
	needLockWords(t, "pop-hold")
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Length = 4
		w := create(t, "full", o)
		c := startChild(t, "pop-hold", map[string]string{"DIR": o.Dir, "NAME": "full", "N": "2"})
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		for i := range uint64(6) {
			require.NoError(t, w.PushWait(ctx, i))
		}
		c.Expect("ready")
		done := make(chan error, 1)
		go func() { done <- w.PushWait(ctx, 6) }()
		time.Sleep(50 * time.Millisecond)
		c.Kill()
		killed := time.Now()
		err := <-done
		require.ErrorIs(t, err, scb.ErrReaderGone)
		assert.Less(t, time.Since(killed), goneBound)

		// A reader that attaches makes room again: the next push waits
		// for it, and goes through.
		go func() { done <- w.PushWait(ctx, 6) }()
		r := openReader(t, "full", at(o))
		v, err := r.PopWait(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 2, v)
		require.NoError(t, <-done)
		assert.Equal(t, strconv.Itoa(4), strconv.Itoa(len(drain(t, r))))
	})
}

// TestStandbyReaderTakesOver: a Queue writer blocked on a full ring whose
// reader is SIGKILLed goes on with no error when a standby reader, waiting
// in OpenReaderWait (for the Atomic strategy's one reader role), takes
// over within the grace.
func TestStandbyReaderTakesOver(t *testing.T) {
	needLockWords(t, "pop-hold", "standby-reader")
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Length = 4
		w := create(t, "relay", o)
		first := startChild(t, "pop-hold", map[string]string{"DIR": o.Dir, "NAME": "relay", "N": "2"})
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		for i := range uint64(6) { // 2 for the first reader, then the ring is full
			require.NoError(t, w.PushWait(ctx, i))
		}
		first.Expect("ready")
		standby := startChild(t, "standby-reader", map[string]string{"DIR": o.Dir, "NAME": "relay", "N": "8"})
		standby.Expect("ready")
		done := make(chan error, 1)
		go func() {
			for i := uint64(6); i < 10; i++ {
				if err := w.PushWait(ctx, i); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		time.Sleep(50 * time.Millisecond) // the writer waits for room
		first.Kill()
		require.NoError(t, <-done, "the standby took over within the grace")
		assert.Equal(t, strconv.Itoa(2+3+4+5+6+7+8+9), standby.Expect("read"))
		standby.Wait()
	})
}

// drain pops what is there.
func drain(t *testing.T, r *scb.Reader) []uint64 {
	t.Helper()
	var vs []uint64
	for {
		v, err := r.Pop()
		if err == scb.ErrEmpty {
			return vs
		}
		require.NoError(t, err)
		vs = append(vs, v)
	}
}
