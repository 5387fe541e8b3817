package scb_test

// An Atomic handle must be used by one goroutine at a time. A program that
// breaks the rule gets errors matching ErrBusy in the goroutines that
// collide; the shared cursors never move wrongly, so other processes using
// the buffer carry on, and the buffer stays usable.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/scbtest"
)

func init() {
	role("pop-idle", childPopIdle)
	role("push-count", childPushCount)
}

// childPopIdle reads integers with PopWait until none arrives for IDLE
// milliseconds, and says how many it read. Any other error fails it.
func childPopIdle(ctx context.Context, name string, o *scb.Options) error {
	r, err := ready(name, o, scb.OpenReader)
	if err != nil {
		return err
	}
	defer r.Close()
	idle := time.Duration(paramInt("IDLE")) * time.Millisecond
	n := 0
	for {
		wctx, cancel := context.WithTimeout(ctx, idle)
		_, err := r.PopWait(wctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			fmt.Println("ok", n)
			return nil
		}
		if err != nil {
			return fmt.Errorf("after %d items: %w", n, err)
		}
		n++
	}
}

// childPushCount pushes integers with PushWait until the file STOP
// exists, then says how many.
func childPushCount(ctx context.Context, name string, o *scb.Options) error {
	w, err := ready(name, o, scb.OpenWriter)
	if err != nil {
		return err
	}
	defer w.Close()
	// Until the file STOP exists.
	stop := param("STOP")
	var i uint64
	for ; ; i++ {
		if i%1024 == 0 {
			if _, err := os.Stat(stop); err == nil {
				break
			}
		}
		if err := w.PushWait(ctx, i); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	fmt.Println("ok", i)
	return nil
}

// hammer runs f from two goroutines for at least d, and then until a call
// has failed with an error matching ErrBusy (collisions are a matter of
// timing), for at most waitBound. It returns how many calls failed so;
// any other error fails the test.
func hammer(t *testing.T, d time.Duration, f func() error) int64 {
	t.Helper()
	var busy atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	start := time.Now()
	more := func() bool {
		took := time.Since(start)
		return took < d || busy.Load() == 0 && took < waitBound
	}
	for range 2 {
		wg.Go(func() {
			for more() {
				for range 1000 {
					err := f()
					switch {
					case err == nil:
					case errors.Is(err, scb.ErrBusy):
						busy.Add(1)
					default:
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return busy.Load()
}

func skipUnderRace(t *testing.T, roles ...string) {
	if raceEnabled {
		scbtest.Skip(t, "the race detector reports this misuse itself, as a data race on the handle; .ci/run runs the test without it", roles...)
	}
}

func TestAtomicWriterUsedByTwoGoroutines(t *testing.T) {
	skipUnderRace(t, "pop-idle")
	needAtomic(t, "pop-idle")
	if runtime.GOMAXPROCS(0) == 1 {
		// The writer finds the misuse when another goroutine moved the
		// write cursor between its load and its compare-and-swap, a few
		// nanoseconds: with one thread running goroutines only a
		// preemption there would do it.
		scbtest.Skip(t, "the two goroutines never run at once here (GOMAXPROCS 1)", "pop-idle")
	}
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "push", true: "pushmany"}[batch], func(t *testing.T) {
			o := &scb.Options{Dir: t.TempDir(), Length: 4096}
			w := create(t, "misused", o)
			c := startChild(t, "pop-idle", map[string]string{"DIR": o.Dir, "NAME": "misused", "IDLE": "1000"})
			c.Expect("ready")
			ctx, cancel := context.WithTimeout(context.Background(), waitBound)
			defer cancel()
			vs := []uint64{1, 2, 3}
			busy := hammer(t, sized(2*time.Second, time.Second), func() error {
				if batch {
					_, err := w.PushManyWait(ctx, vs)
					return err
				}
				return w.PushWait(ctx, 1)
			})
			t.Logf("%d calls reported the misuse", busy)
			assert.Positive(t, busy, "two goroutines on one Atomic Writer went unnoticed")
			// The reader in the other process never met a damaged buffer.
			got, err := strconv.Atoi(c.Expect("ok"))
			require.NoError(t, err)
			assert.Positive(t, got)
			c.Wait()
			// The buffer is fine for everyone: the same writer, used
			// correctly, and a new reader.
			require.NoError(t, w.Push(42))
			r := openReader(t, "misused", at(o))
			v, err := r.Pop()
			require.NoError(t, err)
			assert.Equal(t, uint64(42), v)
			_, err = scb.Stat("misused", at(o))
			require.NoError(t, err)
		})
	}
}

func TestAtomicReaderUsedByTwoGoroutines(t *testing.T) {
	skipUnderRace(t, "push-count")
	needAtomic(t, "push-count")
	o := &scb.Options{Dir: t.TempDir(), Length: 64}
	w := create(t, "misused", o)
	r := openReader(t, "misused", at(o))
	require.NoError(t, w.Close()) // the writer is the child
	// The child pushes until the test is done hammering: a fixed count
	// could run out before two calls collide (it did, once in three runs
	// here), leaving the hammering on an empty buffer that never collides.
	stop := filepath.Join(t.TempDir(), "stop")
	c := startChild(t, "push-count", map[string]string{"DIR": o.Dir, "NAME": "misused", "STOP": stop})
	c.Expect("ready")
	busy := hammer(t, sized(2*time.Second, time.Second), func() error {
		_, err := r.Pop()
		if err == scb.ErrEmpty {
			return nil
		}
		return err
	})
	t.Logf("%d calls reported the misuse", busy)
	assert.Positive(t, busy, "two goroutines on one Atomic Reader went unnoticed")
	require.NoError(t, os.WriteFile(stop, nil, 0o600))
	// The writer in the other process never met a damaged buffer: it
	// finishes once the reader, used correctly, drains the rest.
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if _, err := r.PopWait(ctx); err != nil {
				return
			}
		}
	}()
	c.Expect("ok")
	c.Wait()
	cancel()
	<-done
	_, err := scb.Stat("misused", at(o))
	require.NoError(t, err)
}
