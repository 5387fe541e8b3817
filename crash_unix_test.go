//go:build unix

package scb_test

// Crashes that need Unix tools: a process killed in the middle of Create,
// and what an interrupted Create leaves behind. (A process killed while it
// holds a lock is in lockwait_unix_test.go; files damaged while mapped in
// corrupt_unix_test.go.)

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func init() {
	role("create-loop", childCreateLoop)
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

// TestKilledDuringCreate kills a process that creates and removes a 16 MiB
// buffer in a loop, at random moments, and checks what it leaves: either no
// buffer or a valid one, never a file that Stat or an opener calls corrupt;
// a later Create of the name gives a clear answer (success, or ErrExist
// for the valid buffer); Remove cleans up everything, temporaries included.
func TestKilledDuringCreate(t *testing.T) {
	needAtomic(t, "create-loop")
	rounds := killRounds() / 2
	var valid, absent, temps int
	for range rounds {
		dir := t.TempDir()
		o := &scb.Options{Dir: dir}
		c := startChild(t, "create-loop", map[string]string{"DIR": dir, "NAME": "c"})
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
			skipUnsupported(t, err)
			require.ErrorIs(t, err, scb.ErrExist)
		case errors.Is(err, scb.ErrNotExist):
			absent++
			require.Empty(t, infos)
			w, err := scb.Create("c", o)
			skipUnsupported(t, err)
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
		c := startChild(t, "hold-flock", map[string]string{"PATH": tmp})
		c.Expect("locked")
		require.ErrorIs(t, scb.Remove("c", o), scb.ErrNotExist, "a Create in progress is left alone")
		_, err := os.Lstat(tmp)
		require.NoError(t, err)
		w, err := scb.Create("c", o)
		skipUnsupported(t, err)
		require.NoError(t, err, "another Create of the name is not held up")
		require.NoError(t, w.Close())
		c.Kill()
		require.NoError(t, scb.Remove("c", o))
		left, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, left, "the dead creator's temporary went too")
	})
	t.Run("killed between link and unlink", func(t *testing.T) {
		needAtomic(t)
		dir := t.TempDir()
		o := &scb.Options{Dir: dir}
		w, err := scb.Create("c", o)
		require.NoError(t, err)
		require.NoError(t, w.Close(), "a held role lock file would stay (lifecycle_test.go)")
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
