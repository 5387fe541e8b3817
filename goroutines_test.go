package scb_test

// Goroutines of one process sharing Flock handles, and closing them while
// the others use them (run with -race).

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

// TestFlockConcurrentHandles runs writers and readers in goroutines of one
// process, sharing Flock handles and opening their own: every item arrives
// exactly once.
func TestFlockConcurrentHandles(t *testing.T) {
	o := newOpts(t, scb.Flock, scb.Queue)
	o.Length = 8
	w := create(t, "mpmc", o)
	r := openReader(t, "mpmc", at(o))
	const writers, readers, per = 4, 4, 2000
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	for id := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ww := w
			if id%2 == 1 { // half share the Writer, half open their own
				var err error
				ww, err = scb.OpenWriter("mpmc", at(o))
				if !assert.NoError(t, err) {
					return
				}
				defer ww.Close()
			}
			for i := range per {
				if !assert.NoError(t, ww.PushWait(ctx, uint64(id)<<32|uint64(i))) {
					return
				}
			}
		}()
	}
	got := make(chan uint64, writers*per)
	var rg sync.WaitGroup
	for id := range readers {
		rg.Add(1)
		go func() {
			defer rg.Done()
			rr := r
			if id%2 == 1 {
				var err error
				rr, err = scb.OpenReader("mpmc", at(o))
				if !assert.NoError(t, err) {
					return
				}
				defer rr.Close()
			}
			last := map[uint64]int64{}
			for {
				v, err := rr.PopWait(ctx)
				if err != nil {
					assert.ErrorIs(t, err, context.Canceled)
					return
				}
				// Each reader sees each writer's items in increasing order.
				wid, seq := v>>32, int64(v&math.MaxUint32)
				if prev, ok := last[wid]; ok && seq <= prev {
					t.Errorf("writer %d: item %d after %d", wid, seq, prev)
				}
				last[wid] = seq
				got <- v
			}
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for range writers * per {
		select {
		case v := <-got:
			require.False(t, seen[v], "item %#x twice", v)
			seen[v] = true
		case <-ctx.Done():
			t.Fatalf("only %d of %d items arrived", len(seen), writers*per)
		}
	}
	cancel()
	rg.Wait()
	assert.Len(t, seen, writers*per)
}

// TestFlockCloseDuringOperations closes Flock handles while other
// goroutines use them: every call either works or returns ErrClosed, and
// nothing touches the mapping after Close (run with -race).
func TestFlockCloseDuringOperations(t *testing.T) {
	o := newOpts(t, scb.Flock, scb.Queue)
	o.Length = 4
	create(t, "q", o)
	for range 20 {
		w, err := scb.OpenWriter("q", at(o))
		require.NoError(t, err)
		r, err := scb.OpenReader("q", at(o))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					var err error
					switch (g + i) % 4 {
					case 0:
						err = w.Push(uint64(i))
					case 1:
						_, err = r.Pop()
					case 2:
						err = w.PushWait(ctx, uint64(i))
					case 3:
						_, err = r.PopWait(ctx)
					}
					if errors.Is(err, scb.ErrClosed) {
						return
					}
					if err != nil && err != scb.ErrFull && err != scb.ErrEmpty {
						t.Errorf("unexpected error: %v", err)
						return
					}
				}
			}()
		}
		time.Sleep(time.Millisecond)
		require.NoError(t, w.Close())
		require.NoError(t, r.Close())
		wg.Wait()
		cancel()
	}
}
