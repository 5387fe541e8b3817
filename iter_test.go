package scb_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

// done returns a context that is already canceled: with it, an iterator
// reads what is ready and then ends with the context's error, which makes
// loops over a known backlog deterministic.
func done() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestIterateEnds checks the one rule every iterator follows: io.EOF (even
// wrapped) ends the loop silently, an overrun is yielded and the loop goes
// on, any other error is yielded once and ends it, and a body that breaks
// ends it at once.
func TestIterateEnds(t *testing.T) {
	overrun := &scb.Error{Op: "pop", Name: "b", Err: &scb.OverrunError{Lost: 3}}
	eof := fmt.Errorf("scb: pop: %w", io.EOF)
	tests := []struct {
		name    string
		reads   []error // what each read returns; the test fails if more are made
		breakAt int     // the emit (from 1) whose body breaks; 0 for none
		want    []string
	}{
		{"end of stream", []error{nil, nil, io.EOF}, 0, []string{"item", "item"}},
		{"wrapped end of stream", []error{nil, eof}, 0, []string{"item"}},
		{"overrun continues", []error{nil, overrun, nil, io.EOF}, 0, []string{"item", "overrun", "item"}},
		{"context ends", []error{nil, context.Canceled}, 0, []string{"item", "context canceled"}},
		{"closed ends", []error{scb.ErrClosed}, 0, []string{"buffer handle is closed"}},
		{"break on item", []error{nil, nil}, 2, []string{"item", "item"}},
		{"break on overrun", []error{overrun}, 1, []string{"overrun"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			i := 0
			scb.Iterate(func() error {
				require.Less(t, i, len(tt.reads), "read after the loop should have ended")
				i++
				return tt.reads[i-1]
			}, func(err error) bool {
				switch {
				case err == nil:
					got = append(got, "item")
				case errors.Is(err, scb.ErrOverrun):
					got = append(got, "overrun")
				default:
					got = append(got, err.Error())
				}
				return len(got) != tt.breakAt
			})
			assert.Equal(t, tt.want, got)
			assert.Equal(t, len(tt.reads), i, "every read made")
		})
	}
}

// TestValues reads a backlog with Values, breaks in the middle, and checks
// that the break consumed nothing more, in every strategy and mode.
func TestValues(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		w := create(t, "v", o)
		r := openReader(t, "v", at(o))
		for v := range uint64(10) {
			require.NoError(t, w.Push(v))
		}
		var got []uint64
		for v, err := range r.Values(context.Background()) {
			require.NoError(t, err)
			got = append(got, v)
			if len(got) == 4 {
				break
			}
		}
		assert.Equal(t, []uint64{0, 1, 2, 3}, got)
		v, err := r.Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(4), v, "the break consumed nothing past what the loop saw")

		// A done context: the ready items, then its error once, then the end.
		got, errs := nil, 0
		for v, err := range r.Values(done()) {
			if err != nil {
				assert.ErrorIs(t, err, context.Canceled)
				assert.Zero(t, v)
				errs++
				continue
			}
			got = append(got, v)
		}
		assert.Equal(t, []uint64{5, 6, 7, 8, 9}, got)
		assert.Equal(t, 1, errs)
	})
}

// TestValuesWaits checks that Values waits for items pushed later, and ends
// when the context's deadline passes.
func TestValuesWaits(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		w := create(t, "v", o)
		r := openReader(t, "v", at(o))
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		pushed := make(chan struct{})
		defer func() { <-pushed }() // before the cleanup closes w
		go func() {
			defer close(pushed)
			for v := range uint64(100) {
				if w.PushWait(ctx, v) != nil {
					return
				}
			}
		}()
		var sum uint64
		n := 0
		for v, err := range r.Values(ctx) {
			require.NoError(t, err)
			sum += v
			if n++; n == 100 {
				break
			}
		}
		assert.Equal(t, uint64(99*100/2), sum)
	})
}

// TestValuesOverrun: a Broadcast reader that fell behind gets the overrun
// as an error, then the items still held, in order.
func TestValuesOverrun(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Broadcast)
		o.Length = 4
		w := create(t, "b", o)
		r := openReader(t, "b", at(o))
		for v := range uint64(10) {
			require.NoError(t, w.Push(v))
		}
		var got []string
		for v, err := range r.Values(done()) {
			var over *scb.OverrunError
			switch {
			case errors.As(err, &over):
				got = append(got, fmt.Sprint("lost ", over.Lost))
			case err != nil:
				require.ErrorIs(t, err, context.Canceled)
			default:
				got = append(got, fmt.Sprint(v))
			}
		}
		assert.Equal(t, []string{"lost 6", "6", "7", "8", "9"}, got)
	})
}

// TestValuesStopsOnOtherErrors: an error that is neither an overrun nor
// the end of the stream is yielded once and ends the loop, even if the
// body goes on.
func TestValuesStopsOnOtherErrors(t *testing.T) {
	o := newOpts(t, scb.Atomic, scb.Queue)
	o.ItemSize = 16
	w := create(t, "v", o)
	r := openReader(t, "v", at(o))
	require.NoError(t, w.Push(1))
	require.NoError(t, w.PushBytes([]byte("not a uint64 at all")[:16])) // ErrRange for Pop
	var errs []error
	n := 0
	for _, err := range r.Values(context.Background()) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	assert.Equal(t, 1, n)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], scb.ErrRange)

	require.NoError(t, r.Close())
	errs = nil
	for _, err := range r.Values(context.Background()) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], scb.ErrClosed)
}

// TestItems reads byte items into one reused buffer: each item is the
// buffer resliced, its length kept; a nil buffer gets one of ItemSize.
func TestItems(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.ItemSize = 16
		w := create(t, "i", o)
		r := openReader(t, "i", at(o))
		words := []string{"a", "shared", "", "circular buffer!"}
		for _, s := range words {
			require.NoError(t, w.PushBytes([]byte(s)))
		}
		buf := make([]byte, 0, 16)
		var got []string
		for item, err := range r.Items(done(), buf) {
			if err != nil {
				require.ErrorIs(t, err, context.Canceled)
				break
			}
			if len(item) > 0 {
				assert.Same(t, &buf[:1][0], &item[0], "the item is in the caller's buffer")
			}
			assert.Equal(t, len(item), cap(item), "appending to an item cannot overwrite the buffer")
			got = append(got, string(item))
		}
		assert.Equal(t, words, got)

		for _, s := range words {
			require.NoError(t, w.PushBytes([]byte(s)))
		}
		got = nil
		for item, err := range r.Items(done(), nil) {
			if err != nil {
				break
			}
			got = append(got, string(item))
		}
		assert.Equal(t, words, got)
	})
}

// TestItemsShortBuffer: an item longer than cap(buf) ends the loop with
// io.ErrShortBuffer and stays unread.
func TestItemsShortBuffer(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.ItemSize = 16
		w := create(t, "i", o)
		r := openReader(t, "i", at(o))
		require.NoError(t, w.PushBytes([]byte("ok")))
		require.NoError(t, w.PushBytes([]byte("much too long")))
		var got []string
		var errs []error
		for item, err := range r.Items(context.Background(), make([]byte, 4)) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			got = append(got, string(item))
		}
		assert.Equal(t, []string{"ok"}, got)
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], io.ErrShortBuffer)
		buf := make([]byte, 16)
		n, err := r.PopBytes(buf)
		require.NoError(t, err)
		assert.Equal(t, "much too long", string(buf[:n]), "the long item stayed unread")
	})
}

// TestIteratorAllocations: a loop over N items allocates nothing per item
// (the iterator itself may allocate once per loop).
func TestIteratorAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const n = 100
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.Length = 2 * n
		o.ItemSize = 26 // a reading's size: typed handles need it exact
		w := create(t, "a", o)
		r := openReader(t, "a", at(o))
		tw, tr := typedPair[reading](t, w, r)
		ctx := context.Background()
		p, buf := []byte("item"), make([]byte, 32)
		loops := map[string]func(){
			"Values": func() {
				for v := range uint64(n) {
					w.Push(v)
				}
				k := 0
				for _, err := range r.Values(ctx) {
					if k++; err != nil || k == n {
						break
					}
				}
			},
			"Items": func() {
				for range n {
					w.PushBytes(p)
				}
				k := 0
				for _, err := range r.Items(ctx, buf) {
					if k++; err != nil || k == n {
						break
					}
				}
			},
			"Typed": func() {
				for i := range n {
					tw.Push(reading{Sensor: uint16(i)})
				}
				k := 0
				for _, err := range tr.Values(ctx) {
					if k++; err != nil || k == n {
						break
					}
				}
			},
		}
		if m == scb.Queue {
			loops["Leases"] = func() {
				for v := range uint64(n) {
					w.Push(v)
				}
				k := 0
				for l, err := range r.Leases(ctx) {
					if err != nil {
						break
					}
					l.Ack()
					if k++; k == n {
						break
					}
				}
			}
		}
		for name, f := range loops {
			f() // warm up
			allocs := testing.AllocsPerRun(20, f)
			assert.LessOrEqual(t, allocs, 3.0, "%s: %v allocations for a loop of %d items", name, allocs, n)
			require.Zero(t, r.Len(), name)
		}
	})
}
