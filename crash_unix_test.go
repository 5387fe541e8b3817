//go:build unix

package scb_test

// Crashes that need Unix tools: a process killed while it holds a lock, a
// process killed in the middle of Create, and a buffer file truncated or
// replaced while it is mapped.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/child/childtest"
)

func init() {
	role("hold-flock", childHoldFlock)
	role("hold-roles", childHoldRoles)
	role("create-loop", childCreateLoop)
	role("push-forever", childPushForever)
}

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
	r, err := scb.OpenReader(name, o)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Println("ready")
	<-ctx.Done()
	return ctx.Err()
}

// childCreateLoop creates and removes a buffer of 16 MiB, over and over,
// until it is killed.
func childCreateLoop(ctx context.Context, name string, o *scb.Options) error {
	o.Length, o.ItemSize = 1<<16, 240
	fmt.Println("ready")
	for ctx.Err() == nil {
		w, err := scb.Create(name, o)
		if err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := scb.Remove(name, o); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// childPushForever pushes to a Broadcast buffer until it dies.
func childPushForever(ctx context.Context, name string, o *scb.Options) error {
	w, err := scb.OpenWriter(name, o)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	for i := uint64(0); ctx.Err() == nil; i++ {
		if err := w.Push(i); err != nil {
			return err
		}
	}
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
			c := childtest.Start(t, "hold-flock", map[string]string{"PATH": filepath.Join(o.Dir, "held.scb")})
			c.Expect("locked")

			push := blocked(t, "Push", func() error { return w.Push(2) })
			pop := blocked(t, "Pop", func() error {
				v, err := r.Pop()
				if err == nil && v != 1 {
					err = fmt.Errorf("popped %d, want 1", v)
				}
				return err
			})
			_, err := scb.Stat("held", at(o))
			require.NoError(t, err, "Stat takes no lock")
			c.Kill()
			returns(t, "Push", push)
			returns(t, "Pop", pop)
		})
	}
	t.Run("atomic roles", func(t *testing.T) {
		o := &scb.Options{Dir: t.TempDir()}
		w, err := scb.Create("held", o)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		c := childtest.Start(t, "hold-roles", map[string]string{"DIR": o.Dir, "NAME": "held"})
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
// blocking call still ends when its context does, and that Close ends it.
func TestFlockWaitWhileLockHeld(t *testing.T) {
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock}
	w := create(t, "held", o)
	require.NoError(t, w.Push(1)) // so that reading needs the lock
	r, err := scb.OpenReader("held", at(o))
	require.NoError(t, err)
	c := childtest.Start(t, "hold-flock", map[string]string{"PATH": filepath.Join(o.Dir, "held.scb")})
	c.Expect("locked")
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

// TestKilledDuringCreate kills a process that creates and removes a 16 MiB
// buffer in a loop, at random moments, and checks what it leaves: either no
// buffer or a valid one, never a file that Stat or an opener calls corrupt;
// a later Create of the name gives a clear answer (success, or ErrExist
// for the valid buffer); Remove cleans up everything, temporaries included.
func TestKilledDuringCreate(t *testing.T) {
	rounds := killRounds() / 2
	var valid, absent, temps int
	for range rounds {
		dir := t.TempDir()
		o := &scb.Options{Dir: dir}
		c := childtest.Start(t, "create-loop", map[string]string{"DIR": dir, "NAME": "c"})
		c.Expect("ready")
		time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond) // a random kill point
		killCheck(t, c)

		if m, _ := filepath.Glob(filepath.Join(dir, ".c.scb.*.tmp")); len(m) > 0 {
			temps++
		}
		infos, err := scb.List(dir)
		require.NoError(t, err, "List skips temporary files and finds nothing corrupt")
		_, err = scb.Stat("c", o)
		switch {
		case err == nil:
			valid++
			require.Len(t, infos, 1)
			r, err := scb.OpenReader("c", o)
			require.NoError(t, err, "a published buffer is complete")
			require.NoError(t, r.Close())
			_, err = scb.Create("c", o)
			require.ErrorIs(t, err, scb.ErrExist)
		case errors.Is(err, scb.ErrNotExist):
			absent++
			require.Empty(t, infos)
			w, err := scb.Create("c", o)
			require.NoError(t, err, "the name is free")
			require.NoError(t, w.Close())
		default:
			t.Fatalf("after a kill during Create, Stat says %v", err)
		}
		require.NoError(t, scb.Remove("c", o))
		left, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, left, "Remove cleaned up everything")
	}
	t.Logf("%d kills: %d left a valid buffer, %d none; %d left a temporary file", rounds, valid, absent, temps)
}

// TestInterruptedCreateLeftovers lays out by hand what a Create killed at
// each step leaves, and checks how the others treat it.
func TestInterruptedCreateLeftovers(t *testing.T) {
	tempName := func(dir string) string {
		rnd := make([]byte, 6)
		for i := range rnd {
			rnd[i] = byte(rand.IntN(256))
		}
		return filepath.Join(dir, ".c.scb."+hex.EncodeToString(rnd)+".tmp")
	}
	t.Run("dead creator, half-written temporary", func(t *testing.T) {
		dir := t.TempDir()
		o := &scb.Options{Dir: dir}
		tmp := tempName(dir)
		require.NoError(t, os.WriteFile(tmp, []byte("SCBRING\x00half"), 0o600))
		infos, err := scb.List(dir)
		require.NoError(t, err)
		assert.Empty(t, infos, "a temporary file is not a buffer")
		_, err = scb.Stat("c", o)
		require.ErrorIs(t, err, scb.ErrNotExist)
		_, err = scb.OpenReader("c", o)
		require.ErrorIs(t, err, scb.ErrNotExist)
		require.NoError(t, scb.Remove("c", o), "Remove removes the stale temporary")
		_, err = os.Lstat(tmp)
		require.ErrorIs(t, err, fs.ErrNotExist)
		_, err = scb.Stat("c", o)
		require.ErrorIs(t, err, scb.ErrNotExist)
	})
	t.Run("live creator", func(t *testing.T) {
		dir := t.TempDir()
		o := &scb.Options{Dir: dir}
		tmp := tempName(dir)
		c := childtest.Start(t, "hold-flock", map[string]string{"PATH": tmp})
		c.Expect("locked")
		require.ErrorIs(t, scb.Remove("c", o), scb.ErrNotExist, "a Create in progress is left alone")
		_, err := os.Lstat(tmp)
		require.NoError(t, err)
		w, err := scb.Create("c", o)
		require.NoError(t, err, "another Create of the name is not held up")
		require.NoError(t, w.Close())
		c.Kill()
		require.NoError(t, scb.Remove("c", o))
		left, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, left, "the dead creator's temporary went too")
	})
	t.Run("killed between link and unlink", func(t *testing.T) {
		dir := t.TempDir()
		o := &scb.Options{Dir: dir}
		create(t, "c", o)
		require.NoError(t, os.Link(filepath.Join(dir, "c.scb"), tempName(dir)))
		info, err := scb.Stat("c", o)
		require.NoError(t, err, "the published buffer is complete")
		assert.Equal(t, 1024, info.Length)
		require.NoError(t, scb.Remove("c", o))
		left, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, left)
	})
	t.Run("other buffer's temporary", func(t *testing.T) {
		dir := t.TempDir()
		o := &scb.Options{Dir: dir}
		// A temporary of the buffer "c.scb.x" matches the pattern
		// .c.scb.*.tmp too; Remove("c") must not touch it.
		other := filepath.Join(dir, ".c.scb.x.scb.0123456789ab.tmp")
		require.NoError(t, os.WriteFile(other, nil, 0o600))
		require.ErrorIs(t, scb.Remove("c", o), scb.ErrNotExist)
		_, err := os.Lstat(other)
		require.NoError(t, err)
		require.NoError(t, scb.Remove("c.scb.x", o))
		_, err = os.Lstat(other)
		require.ErrorIs(t, err, fs.ErrNotExist)
	})
}

// TestTruncatedWhileMapped truncates a buffer file under a process that is
// writing to it. What happens is documented, not prevented (no file system
// lets scb forbid it): that process dies of SIGBUS the next time it touches
// a page past the new end. The file is then refused by every opener with
// ErrCorrupt, and Remove cleans it up.
func TestTruncatedWhileMapped(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: s, Mode: scb.Broadcast}
		w, err := scb.Create("t", o)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		c := childtest.Start(t, "push-forever", map[string]string{"DIR": o.Dir, "NAME": "t"})
		c.Expect("ready")
		path := filepath.Join(o.Dir, "t.scb")
		require.NoError(t, os.Truncate(path, 100))

		_, err2 := c.Proc.Wait()
		var ee *exec.ExitError
		require.ErrorAs(t, err2, &ee, "the writer survived the truncation; the docs say it dies of SIGBUS")
		// The runtime says "unexpected fault address" and usually, but
		// not always (a fault during its own traceback cuts it short),
		// "signal SIGBUS".
		assert.Regexp(t, `SIGBUS|unexpected fault address`, c.Stderr(), "the writer died of a memory fault")

		for _, ep := range entryPoints[1:4] {
			err := ep.do("t", at(o))
			require.ErrorIs(t, err, scb.ErrCorrupt, ep.name)
		}
		require.NoError(t, scb.Remove("t", at(o)))
	})
}

// TestZeroedWhileOpen truncates a buffer file to nothing and extends it
// back to its size while handles have it mapped (as a careless "> file"
// then a copy would): the pages read as zeros. An Atomic reader, which
// keeps its own cursor, reports ErrCorrupt when it sees the write cursor
// went back; Flock handles, which check the header's magic under every
// lock, report ErrCorrupt too. New openers refuse the file (bad magic).
func TestZeroedWhileOpen(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: s}
		w := create(t, "z", o)
		r := openReader(t, "z", at(o))
		for i := range 3 {
			require.NoError(t, w.Push(uint64(i)))
		}
		_, err := r.PopMany(3)
		require.NoError(t, err)
		path := filepath.Join(o.Dir, "z.scb")
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.NoError(t, os.Truncate(path, 0))
		require.NoError(t, os.Truncate(path, fi.Size()))

		_, err = r.Pop()
		require.ErrorIs(t, err, scb.ErrCorrupt)
		if s == scb.Flock {
			require.ErrorIs(t, w.Push(9), scb.ErrCorrupt, "a Flock writer checks too")
		}
		_, err = scb.OpenReader("z", at(o))
		require.ErrorIs(t, err, scb.ErrCorrupt)
		assert.Contains(t, err.Error(), "magic")
	})
}

// TestReplacedWhileOpen renames another buffer file over a buffer's name
// while a writer has it open. The writer keeps writing to the file it
// mapped, which nobody can open any more; new openers get the new file.
// (Remove then Create does the same, on purpose; this is why a buffer must
// not be replaced under running processes.)
func TestReplacedWhileOpen(t *testing.T) {
	o := &scb.Options{Dir: t.TempDir()}
	w := create(t, "r", o)
	require.NoError(t, w.Push(1))
	other := &scb.Options{Dir: t.TempDir(), Length: 4}
	w2, err := scb.Create("r", other)
	require.NoError(t, err)
	require.NoError(t, w2.Push(100))
	require.NoError(t, w2.Close())
	require.NoError(t, os.Rename(filepath.Join(other.Dir, "r.scb"), filepath.Join(o.Dir, "r.scb")))

	require.NoError(t, w.Push(2), "the old writer carries on, on the old file")
	r, err := scb.OpenReader("r", at(o))
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, 4, r.Cap(), "a new reader opens the new file")
	v, err := r.Pop()
	require.NoError(t, err)
	assert.Equal(t, uint64(100), v)
	_, err = r.Pop()
	require.ErrorIs(t, err, scb.ErrEmpty, "and never sees the old writer's items")
}

// TestZeroedWithBacklog zeroes a buffer while an Atomic reader knows of
// items it has not read yet: it must not hand out the zeroed slots as
// empty items (it once returned four zeros before noticing).
func TestZeroedWithBacklog(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: s}
		w := create(t, "z", o)
		r := openReader(t, "z", at(o))
		for i := range 5 {
			require.NoError(t, w.Push(uint64(i)))
		}
		v, err := r.Pop()
		require.NoError(t, err)
		require.Zero(t, v)
		path := filepath.Join(o.Dir, "z.scb")
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.NoError(t, os.Truncate(path, 0))
		require.NoError(t, os.Truncate(path, fi.Size()))
		for range 4 {
			_, err = r.Pop()
			require.ErrorIs(t, err, scb.ErrCorrupt)
		}
		_, err = r.PopBytes(make([]byte, 8))
		require.ErrorIs(t, err, scb.ErrCorrupt)
		_, err = r.Peek()
		require.ErrorIs(t, err, scb.ErrCorrupt)
	})
}

// TestFlockGoroutinesWhileLockHeld: while another process holds a Flock
// buffer's lock and one goroutine of a handle waits for it, the handle's
// other goroutines still get their own deadlines, and Len answers.
func TestFlockGoroutinesWhileLockHeld(t *testing.T) {
	forEachMode(t, func(t *testing.T, m scb.Mode) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Mode: m}
		w := create(t, "held", o)
		require.NoError(t, w.Push(1))
		r := openReader(t, "held", at(o))
		c := childtest.Start(t, "hold-flock", map[string]string{"PATH": filepath.Join(o.Dir, "held.scb")})
		c.Expect("locked")

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
