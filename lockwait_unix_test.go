//go:build unix

package scb_test

// Waiting for a lock another process holds: the Flock strategy's calls
// wait while it is held (goroutines too) and go on at once when its holder
// is killed; so do the Atomic strategy's writer and reader roles.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/scbtest"
)

func init() {
	role("hold-flock", childHoldFlock)
	role("hold-roles", childHoldRoles)
	role("hold-locks", childHoldLocks)
}

// childHoldLocks takes a Flock buffer's lock words the way its operations
// do and keeps them until it is killed: in Queue mode the writers' with a
// Claim (whose slot it fills) and the readers' with a Peek (so the buffer
// must hold an item); in Broadcast mode the writers' in a Push stopped
// with the lock taken. It says "locked".
func childHoldLocks(ctx context.Context, name string, o *scb.Options) error {
	info, err := scb.Stat(name, o)
	if err != nil {
		return err
	}
	w, err := scb.OpenWriter(name, o)
	if err != nil {
		return err
	}
	if info.Mode == scb.Broadcast {
		// No Claim in Broadcast mode: stop a Push with the lock taken.
		scb.SetLockStep(func(string) {
			fmt.Println("locked")
			<-ctx.Done()
		})
		w.Push(99)
		return ctx.Err()
	}
	p, err := w.Claim()
	if err != nil {
		return err
	}
	copy(p, "claimed and never committed")
	r, err := scb.OpenReader(name, o)
	if err != nil {
		return err
	}
	if _, err := r.Peek(); err != nil {
		return err
	}
	fmt.Println("locked")
	<-ctx.Done()
	return ctx.Err()
}

// holdLock starts a child that holds the lock a Flock buffer's operations
// take (lock words, or the file lock where there are none) until it is
// killed.
func holdLock(t *testing.T, name string, o *scb.Options) *scbtest.Proc {
	t.Helper()
	var c *scbtest.Proc
	if scb.LockWords {
		c = startChild(t, "hold-locks", map[string]string{"DIR": o.Dir, "NAME": name})
	} else {
		c = startChild(t, "hold-flock", map[string]string{"PATH": filepath.Join(o.Dir, name+".scb")})
	}
	c.Expect("locked")
	return c
}

// readsWait reports whether a Flock reader of mode m waits while another
// process holds the lock: with the file lock. Where there are lock words
// readers take none: Queue readers take items without a lock (a holder's
// Peek is a lease on its item), and a Broadcast reader's cursor is its own.
func readsWait(m scb.Mode) bool { return !scb.LockWords }

// childHoldFlock takes the exclusive flock(2) on the file PATH that the
// Flock strategy takes for each operation (or that Create holds on its
// temporary file), says "locked", and keeps it until it is killed.
func childHoldFlock(ctx context.Context, _ string, _ *scb.Options) error {
	f, err := os.OpenFile(param("PATH"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	fmt.Println("locked")
	<-ctx.Done()
	return ctx.Err()
}

// childHoldRoles attaches a writer and a reader and keeps them until it is
// killed.
func childHoldRoles(ctx context.Context, name string, o *scb.Options) error {
	w, err := scb.OpenWriter(name, o)
	if err != nil {
		return err
	}
	defer w.Close()
	r, err := ready(name, o, scb.OpenReader)
	if err != nil {
		return err
	}
	defer r.Close()
	<-ctx.Done()
	return ctx.Err()
}

// blocked runs f in a goroutine and checks that it has not returned after a
// short while (it waits on a lock), returning a channel for its result.
func blocked(t *testing.T, what string, f func() error) chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		t.Fatalf("%s returned (%v) while another process held the lock", what, err)
	case <-time.After(50 * time.Millisecond):
	}
	return done
}

func returns(t *testing.T, what string, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err, what)
	case <-timeAfter(waitBound):
		t.Fatalf("%s still waits %v after the lock holder died", what, waitBound)
	}
}

// TestLockHolderKilled kills a process while it holds a lock, and checks
// that the kernel's release lets the others continue at once: a Flock
// buffer's lock (taken by the child with flock(2), as the strategy does for
// each operation), and the Atomic strategy's writer and reader roles.
func TestLockHolderKilled(t *testing.T) {
	for _, m := range modes {
		t.Run("flock/"+m.String(), func(t *testing.T) {
			o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Mode: m}
			w := create(t, "held", o)
			r := openReader(t, "held", at(o))
			require.NoError(t, w.Push(1))
			c := holdLock(t, "held", o)

			push := blocked(t, "Push", func() error { return w.Push(2) })
			pop1 := func() error {
				v, err := r.Pop()
				if err == nil && v != 1 {
					err = fmt.Errorf("popped %d, want 1", v)
				}
				return err
			}
			var pop chan error
			switch {
			case readsWait(m):
				pop = blocked(t, "Pop", pop1)
			case m == scb.Queue:
				// Readers take no lock: the holder's Peek is a lease on
				// item 1, which comes back once the holder is gone,
				// before item 2 (Push, once the holder's Claim is taken
				// back): the reader asleep in PopWait when it dies asks
				// the holders when it wakes, however recently it asked.
				_, err := r.Pop()
				require.ErrorIs(t, err, scb.ErrEmpty, "item 1 is the live holder's")
				defer scb.SetSleepLimits(time.Hour)() // one sleep, ended by Push
				defer scb.SetSweepEvery(time.Hour)()  // no sweep but the one after the sleep
				pop = make(chan error, 1)
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), waitBound)
					defer cancel()
					v, err := r.PopWait(ctx)
					if err == nil && v != 1 {
						err = fmt.Errorf("popped %d, want 1", v)
					}
					pop <- err
				}()
				waitAsleep(t, "held", at(o))
			default:
				pop = make(chan error, 1)
				pop <- pop1()
			}
			_, err := scb.Stat("held", at(o))
			require.NoError(t, err, "Stat takes no lock")
			c.Kill()
			returns(t, "Push", push)
			returns(t, "Pop", pop)
		})
	}
	t.Run("atomic roles", func(t *testing.T) {
		needAtomic(t, "hold-roles")
		o := &scb.Options{Dir: t.TempDir()}
		w, err := scb.Create("held", o)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		c := startChild(t, "hold-roles", map[string]string{"DIR": o.Dir, "NAME": "held"})
		c.Expect("ready")
		_, err = scb.OpenWriter("held", o)
		require.ErrorIs(t, err, scb.ErrBusy)
		_, err = scb.OpenReader("held", o)
		require.ErrorIs(t, err, scb.ErrBusy)
		c.Kill()
		w, err = scb.OpenWriter("held", o)
		require.NoError(t, err, "the writer role is free as soon as its holder is dead")
		require.NoError(t, w.Close())
		r, err := scb.OpenReader("held", o)
		require.NoError(t, err, "the reader role too")
		require.NoError(t, r.Close())
	})
}

// TestFlockWaitWhileLockHeld holds a Flock buffer's lock in another
// process that does not die (as a stopped process would) and checks that a
// blocking call still ends when its context does, and that Close ends a
// call waiting for the lock (where readers take one).
func TestFlockWaitWhileLockHeld(t *testing.T) {
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock}
	w := create(t, "held", o)
	require.NoError(t, w.Push(1)) // so that reading needs the lock
	r, err := scb.OpenReader("held", at(o))
	require.NoError(t, err)
	c := holdLock(t, "held", o)
	t.Cleanup(c.Kill) // whatever happens, let a blocked call go

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := r.PopWait(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(waitBound):
		t.Fatal("PopWait ignored its context while another process held the lock")
	}
	if !readsWait(scb.Queue) {
		// Readers take no lock: the child's Peek is a lease on the only
		// item, and a non-blocking call says so at once.
		_, err := r.Pop()
		require.Same(t, scb.ErrEmpty, err)
		require.NoError(t, r.Close())
		return
	}
	// A non-blocking call waits for the lock too (the holder is normally a
	// microsecond away from releasing it), but Close ends that wait.
	popped := make(chan error, 1)
	go func() {
		_, err := r.Pop()
		popped <- err
	}()
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(waitBound):
		t.Fatal("Close did not return while another process held the lock")
	}
	select {
	case err := <-popped:
		require.ErrorIs(t, err, scb.ErrClosed)
	case <-time.After(waitBound):
		t.Fatal("Pop did not return after Close")
	}
}

// TestFlockGoroutinesWhileLockHeld: while another process holds a Flock
// buffer's lock and one goroutine of a handle waits for it, the handle's
// other goroutines still get their own deadlines, and Len answers.
func TestFlockGoroutinesWhileLockHeld(t *testing.T) {
	forEachMode(t, func(t *testing.T, m scb.Mode) {
		if !readsWait(m) {
			t.Skip("readers take no lock where there are lock words (Queue readers take without one, Broadcast readers' cursors are their own)")
		}
		o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Mode: m}
		w := create(t, "held", o)
		require.NoError(t, w.Push(1))
		r := openReader(t, "held", at(o))
		c := holdLock(t, "held", o)

		first := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitBound)
			defer cancel()
			_, err := r.PopWait(ctx)
			first <- err
		}()
		time.Sleep(20 * time.Millisecond) // let it take the handle and wait for the file lock

		second := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := r.PopWait(ctx)
			second <- err
		}()
		select {
		case err := <-second:
			require.ErrorIs(t, err, context.DeadlineExceeded)
		case <-time.After(waitBound):
			t.Fatal("a second goroutine's PopWait ignored its deadline")
		}
		lenDone := make(chan int, 1)
		go func() { lenDone <- r.Len() }()
		select {
		case n := <-lenDone:
			assert.Equal(t, 1, n)
		case <-time.After(waitBound):
			t.Fatal("Len waited for the file lock")
		}
		c.Kill()
		select {
		case err := <-first:
			require.NoError(t, err, "the first waiter gets the item once the holder is gone")
		case <-time.After(waitBound):
			t.Fatal("the first PopWait did not finish after the holder died")
		}
	})
}
