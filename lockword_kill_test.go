package scb_test

// Killing a Flock lock holder at every step of its operation: the child
// takes a side's lock word and stops at a chosen step (with the lock just
// taken, with a claimed or peeked slot outstanding, with its cursor just
// stored, just before the release); it is SIGKILLed there, and another
// handle must get the lock within the bound and see exactly the items the
// dead holder published.

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func init() {
	role("lock-step", childLockStep)
}

// childLockStep opens the buffer as SIDE (writer or reader) and runs one
// operation that stops at STEP: a step of strategy_flock.go's lockStep
// hook, or "claimed" (a Claim whose slot holds VALUE, never committed) or
// "peeked" (a Peek, never released). It says "at STEP" there and waits to
// be killed.
func childLockStep(ctx context.Context, name string, o *scb.Options) error {
	step := param("STEP")
	stop := func() {
		fmt.Println("at", step)
		<-ctx.Done()
	}
	scb.SetLockStep(func(s string) {
		if s == step {
			stop()
		}
	})
	v := paramInt("VALUE")
	uints := param("VIA") == "uint" // Push and Pop (their shared inline paths) rather than PushBytes and PopBytes
	if param("SIDE") == "writer" {
		w, err := scb.OpenWriter(name, o)
		if err != nil {
			return err
		}
		if step == "claimed" {
			p, err := w.Claim()
			if err != nil {
				return err
			}
			copy(p, strconv.FormatUint(v, 10))
			stop()
			return ctx.Err()
		}
		if uints {
			return w.Push(v)
		}
		return w.PushBytes([]byte(strconv.FormatUint(v, 10)))
	}
	r, err := scb.OpenReader(name, o)
	if err != nil {
		return err
	}
	if step == "peeked" {
		if _, err := r.Peek(); err != nil {
			return err
		}
		stop()
		return ctx.Err()
	}
	if uints {
		_, err = r.Pop()
		return err
	}
	_, err = r.PopBytes(make([]byte, 16))
	return err
}

// lockBound is how soon after its holder's death a lock must be taken
// over: deadAfter (2 ms) and a sleep (1 ms) in the strategy, and much
// slack for a shared machine.
const lockBound = 2 * time.Second

func TestFlockHolderKilledAtEveryStep(t *testing.T) {
	if !scb.LockWords {
		t.Skip("Flock locks the file on this platform: the kernel releases a dead holder's lock at once")
	}
	type tc struct {
		side, step string
		mode       scb.Mode
		want       []string // what a reader gets after the kill, in order
	}
	cases := []tc{
		{"writer", "taken", scb.Queue, []string{"1", "2", "100"}},
		{"writer", "claimed", scb.Queue, []string{"1", "2", "100"}},
		{"writer", "moved", scb.Queue, []string{"1", "2", "7", "100"}},
		{"writer", "giving", scb.Queue, []string{"1", "2", "7", "100"}},
		{"writer", "taken", scb.Broadcast, []string{"1", "2", "100"}},
		{"writer", "moved", scb.Broadcast, []string{"1", "2", "7", "100"}},
		{"writer", "giving", scb.Broadcast, []string{"1", "2", "7", "100"}},
		{"reader", "taken", scb.Queue, []string{"1", "2", "100"}},
		{"reader", "peeked", scb.Queue, []string{"1", "2", "100"}},
		{"reader", "moved", scb.Queue, []string{"2", "100"}},
		{"reader", "giving", scb.Queue, []string{"2", "100"}},
	}
	for _, c := range cases {
		for _, via := range []string{"bytes", "uint"} {
			if via == "uint" && (c.mode != scb.Queue || c.step == "claimed" || c.step == "peeked") {
				continue // Push and Pop have inline paths for Flock Queue handles (pushShared, popShared)
			}
			t.Run(fmt.Sprintf("%s/%s/%v/%s", c.side, c.step, c.mode, via), func(t *testing.T) {
				testKilledAtStep(t, c.side, c.step, c.mode, via, c.want)
			})
		}
	}
}

// testKilledAtStep is one case of TestFlockHolderKilledAtEveryStep: items
// of 16 bytes through PushBytes and PopBytes (via "bytes"), or of 8 bytes
// through Push and Pop (via "uint").
func testKilledAtStep(t *testing.T, side, step string, mode scb.Mode, via string, want []string) {
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Mode: mode, ItemSize: 16}
	if via == "uint" {
		o.ItemSize = 8
	}
	w := create(t, "steps", o)
	r := openReader(t, "steps", at(o)) // before any push: a Broadcast reader starts at the write cursor
	if via == "uint" {
		// The child's handles are made the same way.
		push, pop := scb.SharedInline(w, r)
		require.True(t, push && pop, "Push and Pop take their shared inline paths")
	}
	buf := make([]byte, 16)
	push := func(ctx context.Context, s string) error {
		if via == "uint" {
			v, _ := strconv.ParseUint(s, 10, 64)
			return w.PushWait(ctx, v)
		}
		return w.PushBytesWait(ctx, []byte(s))
	}
	pop := func(ctx context.Context) (string, error) {
		if via == "uint" {
			var v uint64
			var err error
			if ctx == nil {
				v, err = r.Pop()
			} else {
				v, err = r.PopWait(ctx)
			}
			return strconv.FormatUint(v, 10), err
		}
		var n int
		var err error
		if ctx == nil {
			n, err = r.PopBytes(buf)
		} else {
			n, err = r.PopBytesWait(ctx, buf)
		}
		return string(buf[:n]), err
	}
	bg := context.Background()
	require.NoError(t, push(bg, "1"))
	require.NoError(t, push(bg, "2"))
	p := startChild(t, "lock-step", map[string]string{
		"DIR": o.Dir, "NAME": "steps", "SIDE": side, "STEP": step, "VALUE": "7", "VIA": via,
	})
	p.Expect("at")
	p.Kill()

	// The dead holder's side: this process's handle of that side
	// must take the lock over within the bound.
	var got []string
	start := time.Now()
	ctx, cancel := context.WithTimeout(bg, lockBound)
	defer cancel()
	if side == "writer" {
		require.NoError(t, push(ctx, "100"), "the writers' lock is taken over")
	} else {
		s, err := pop(ctx)
		require.NoError(t, err, "the readers' lock is taken over")
		got = append(got, s)
	}
	took := time.Since(start)
	t.Logf("the lock was taken over %v after the kill", took)
	assert.Less(t, took, lockBound)
	if side == "reader" {
		require.NoError(t, push(bg, "100"))
	}

	for {
		s, err := pop(nil)
		if err == scb.ErrEmpty {
			break
		}
		require.NoError(t, err)
		got = append(got, s)
	}
	assert.Equal(t, want, got, "exactly the items the dead holder published, once")
}
