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
		t.Run(fmt.Sprintf("%s/%s/%v", c.side, c.step, c.mode), func(t *testing.T) {
			o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Mode: c.mode, ItemSize: 16}
			w := create(t, "steps", o)
			r := openReader(t, "steps", at(o)) // before any push: a Broadcast reader starts at the write cursor
			require.NoError(t, w.PushBytes([]byte("1")))
			require.NoError(t, w.PushBytes([]byte("2")))
			p := startChild(t, "lock-step", map[string]string{
				"DIR": o.Dir, "NAME": "steps", "SIDE": c.side, "STEP": c.step, "VALUE": "7",
			})
			p.Expect("at")
			p.Kill()

			// The dead holder's side: this process's handle of that side
			// must take the lock over within the bound.
			var got []string
			buf := make([]byte, 16)
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), lockBound)
			defer cancel()
			if c.side == "writer" {
				require.NoError(t, w.PushBytesWait(ctx, []byte("100")), "the writers' lock is taken over")
			} else {
				n, err := r.PopBytesWait(ctx, buf)
				require.NoError(t, err, "the readers' lock is taken over")
				got = append(got, string(buf[:n]))
			}
			took := time.Since(start)
			t.Logf("the lock was taken over %v after the kill", took)
			assert.Less(t, took, lockBound)
			if c.side == "reader" {
				require.NoError(t, w.PushBytes([]byte("100")))
			}

			for {
				n, err := r.PopBytes(buf)
				if err == scb.ErrEmpty {
					break
				}
				require.NoError(t, err)
				got = append(got, string(buf[:n]))
			}
			assert.Equal(t, c.want, got, "exactly the items the dead holder published, once")
		})
	}
}
