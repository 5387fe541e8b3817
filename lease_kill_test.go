package scb_test

// Killing a reader at every step of taking, processing, acknowledging and
// giving back an item: the child takes item 0 of a Queue buffer holding
// items 0 and 1 and stops at a chosen step; it is SIGKILLed there, and a
// reader that takes afterwards must get every item once, item 0 again (at
// position 0, delivered twice) unless the dead reader acknowledged it.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/scbtest"
)

func init() {
	role("take-step", childTakeStep)
}

// childTakeStep opens a reader and stops at STEP, says "at STEP" there and
// waits to be killed. HOW says what it does: "take" takes item 0 under a
// lease (steps "marked" and "take-moved" of the take protocol's hook, or
// "leased": the lease is the child's, as while it processes the item),
// "pop" reads it with Pop ("marked", "take-moved"), its first read, which
// goes the general way (takeNewAt), "pop-front" likewise once a first Pop
// found the buffer empty (it says "polling", and polls): Pop then reads
// the item at the read cursor in one step (popFront), "ack" takes and
// acknowledges it ("acked"), "giveback" takes and gives it back
// ("returned"), "peek" peeks at it and stops ("peeked": the zero-copy
// read is the child's, not yet released).
func childTakeStep(ctx context.Context, name string, o *scb.Options) error {
	step, how := param("STEP"), param("HOW")
	stop := func() {
		fmt.Println("at", step)
		<-ctx.Done()
	}
	scb.SetTakeStep(func(s string) {
		if s == step {
			stop()
		}
	})
	r, err := scb.OpenReader(name, o)
	if err != nil {
		return err
	}
	switch how {
	case "pop":
		_, err = r.Pop()
		return err
	case "pop-front":
		if _, err := r.Pop(); err != scb.ErrEmpty {
			return fmt.Errorf("the first Pop: %v, want ErrEmpty", err)
		}
		fmt.Println("polling")
		for ctx.Err() == nil {
			if _, err := r.Pop(); err != scb.ErrEmpty {
				return err
			}
			time.Sleep(100 * time.Microsecond)
		}
		return ctx.Err()
	case "peek":
		if _, err := r.Peek(); err != nil {
			return err
		}
		stop()
		return ctx.Err()
	case "take":
		if _, _, err := r.Take(); err != nil {
			return err
		}
		if step == "leased" {
			stop()
		}
		return ctx.Err()
	}
	_, l, err := r.Take()
	if err != nil {
		return err
	}
	if how == "ack" {
		return l.Ack()
	}
	return l.GiveBack()
}

func TestReaderKilledAtEveryStep(t *testing.T) {
	cases := []struct {
		how, step string
		redeliver bool // item 0 comes again
	}{
		{"take", "marked", true},
		{"take", "take-moved", true},
		{"take", "leased", true},
		{"pop", "marked", true},
		{"pop", "take-moved", true},
		{"pop-front", "marked", true},
		{"pop-front", "take-moved", true},
		{"ack", "acked", false},
		{"giveback", "returned", true},
		{"peek", "peeked", true},
	}
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		needLeases(t, s)
		for _, c := range cases {
			for _, fixed := range []bool{false, true} {
				name := c.how + "/" + c.step
				if fixed {
					if c.how != "pop" && c.how != "pop-front" {
						continue
					}
					name += "/fixed" // Pop reads 8 bytes with no length
				}
				t.Run(name, func(t *testing.T) {
					testReaderKilledAtStep(t, s, c.how, c.step, c.redeliver, fixed)
				})
			}
		}
	})
}

// testReaderKilledAtStep is one case of TestReaderKilledAtEveryStep, in a
// buffer of 8-byte items, of fixed size or not.
func testReaderKilledAtStep(t *testing.T, s scb.Strategy, how, step string, redeliver, fixed bool) {
	if (how == "pop" || how == "pop-front") && s == scb.Atomic {
		t.Skip("the Atomic reader's Pop marks nothing: it moves the read cursor with one compare-and-swap (TestKillReaderLoop kills it)")
	}
	o := newOpts(t, s, scb.Queue)
	o.FixedSize = fixed
	w := create(t, "kill", o)
	var r *scb.Reader
	if s == scb.Flock {
		// Open all along: it finds the death when it next takes, not
		// when it opens.
		r = openReader(t, "kill", at(o))
		_, err := r.Pop()
		require.Same(t, scb.ErrEmpty, err)
		_, inline := scb.SharedInline(w, r)
		require.True(t, inline, "Pop reads at the read cursor in one step (the child's handle is made the same way)")
	}
	pushBoth := func() {
		require.NoError(t, w.Push(100))
		require.NoError(t, w.Push(101))
	}
	if how != "pop-front" {
		pushBoth()
	}
	p := startChild(t, "take-step", map[string]string{
		"DIR": o.Dir, "NAME": "kill", "HOW": how, "STEP": step,
	})
	if how == "pop-front" {
		// The child's first Pop finds nothing and looks for items given
		// back, as a reader's first read does; the next ones read the
		// item at the read cursor in one step (popFront).
		p.Expect("polling")
		pushBoth()
	}
	p.Expect("at")
	p.Kill()
	if r == nil {
		// The one Atomic reader role is free once the child
		// is dead.
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		var err error
		r, err = scb.OpenReaderWait(ctx, "kill", at(o))
		require.NoError(t, err)
		defer r.Close()
	}
	type got struct {
		v, pos uint64
		d      int
	}
	var all []got
	for {
		v, l, err := r.Take()
		if err == scb.ErrEmpty {
			break
		}
		require.NoError(t, err)
		all = append(all, got{v, l.Pos(), l.Deliveries()})
		require.NoError(t, l.Ack())
	}
	want := []got{{100, 0, 2}, {101, 1, 1}}
	if !redeliver {
		want = want[1:]
	}
	assert.Equal(t, want, all, "item 0 again only if the dead reader had not acknowledged it, at its position")
	require.NoError(t, w.Push(102))
	assert.Equal(t, 1, w.Len(), "the ring moved on: nothing holds the read cursor")
}

// leasedByAChild makes a Flock queue "dead" holding item 100 (position
// 0), a reader of it, and a child that holds that item under a lease.
func leasedByAChild(t *testing.T) (*scb.Options, *scb.Writer, *scb.Reader, *scbtest.Proc) {
	t.Helper()
	o := newOpts(t, scb.Flock, scb.Queue)
	w := create(t, "dead", o)
	r := openReader(t, "dead", at(o))
	require.NoError(t, w.Push(100))
	p := startChild(t, "take-step", map[string]string{
		"DIR": o.Dir, "NAME": "dead", "HOW": "take", "STEP": "leased",
	})
	p.Expect("at")
	return o, w, r, p
}

// TestWaiterTakesADeadHoldersItem: a Flock reader already waiting in
// TakeWait when the holder of the only item dies gets the item, delivered
// twice at its position, without a new item to wake it: a waiting reader
// sweeps for dead holders each time its bounded sleep ends.
func TestWaiterTakesADeadHoldersItem(t *testing.T) {
	needLeases(t, scb.Flock)
	_, _, r, p := leasedByAChild(t)

	type got struct {
		v, pos uint64
		d      int
		err    error
	}
	ch := make(chan got, 1)
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	go func() {
		v, l, err := r.TakeWait(ctx)
		if err == nil {
			err = l.Ack()
		}
		ch <- got{v, l.Pos(), l.Deliveries(), err}
	}()
	select {
	case g := <-ch:
		t.Fatalf("TakeWait returned %+v while the child held the only item", g)
	case <-time.After(50 * time.Millisecond): // asleep, most likely
	}
	p.Kill()
	assert.Equal(t, got{100, 0, 2, nil}, <-ch)
}

// TestWaitAnyTakesADeadHoldersItem is TestWaiterTakesADeadHoldersItem
// for a Flock reader waiting in WaitAny: once the holder of the only item
// dies, the reader is ready, and its Take gets the item, delivered twice.
func TestWaitAnyTakesADeadHoldersItem(t *testing.T) {
	needLeases(t, scb.Flock)
	_, _, r, p := leasedByAChild(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	i, err := scb.WaitAny(ctx, r)
	require.ErrorIs(t, err, context.DeadlineExceeded, "ready (%d) while the child held the only item", i)

	p.Kill()
	ctx, cancel = context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	i, err = scb.WaitAny(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, 0, i)
	v, l, err := r.Take()
	require.NoError(t, err)
	require.NoError(t, l.Ack())
	assert.Equal(t, []any{uint64(100), uint64(0), 2}, []any{v, l.Pos(), l.Deliveries()})
}

// TestWaitAnyWokenByANewerItem: a Flock reader asleep in WaitAny when the
// holder of the item at the front dies, woken by a newer item, takes the
// dead holder's item first: the first read after WaitAny slept asks the
// holders, however recently the reader asked (the interval is an hour
// here).
func TestWaitAnyWokenByANewerItem(t *testing.T) {
	needLeases(t, scb.Flock)
	defer scb.SetSweepEvery(time.Hour)()
	defer scb.SetSleepLimits(time.Hour)() // one sleep, ended by the push
	o, w, r, p := leasedByAChild(t)
	_, _, err := r.Take()
	require.ErrorIs(t, err, scb.ErrEmpty, "item 0 is the live child's")

	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	ready := make(chan error, 1)
	go func() {
		_, err := scb.WaitAny(ctx, r)
		ready <- err
	}()
	waitAsleep(t, "dead", at(o))
	p.Kill()
	require.NoError(t, w.Push(101))
	require.NoError(t, <-ready)
	v, l, err := r.Take()
	require.NoError(t, err)
	require.NoError(t, l.Ack())
	assert.Equal(t, []any{uint64(100), uint64(0), 2}, []any{v, l.Pos(), l.Deliveries()}, "the dead holder's item before the newer one")
}
