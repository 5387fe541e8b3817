package scb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/layout"
)

func init() {
	role("hold-writer", childHoldWriter)
}

// childHoldWriter attaches a writer, says "ready" and its pid, and holds
// the role until it is killed.
func childHoldWriter(ctx context.Context, name string, o *scb.Options) error {
	w, err := scb.OpenWriter(name, o)
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Println("ready", os.Getpid())
	<-ctx.Done()
	return nil
}

func TestStatShowsAttachedRoles(t *testing.T) {
	needLockWords(t, "hold-writer")
	needAtomic(t, "hold-writer")
	o := newOpts(t, scb.Atomic, scb.Queue)
	pid := os.Getpid()
	w := create(t, "live", o)
	stat := func() scb.Info {
		t.Helper()
		info, err := scb.Stat("live", at(o))
		require.NoError(t, err)
		return info
	}
	assert.Equal(t, pid, stat().WriterPid)
	assert.Zero(t, stat().ReaderPid)
	r, err := scb.OpenReader("live", at(o))
	require.NoError(t, err)
	assert.Equal(t, pid, stat().ReaderPid)
	require.NoError(t, r.Close())
	assert.Zero(t, stat().ReaderPid)
	require.NoError(t, w.Close())
	assert.Zero(t, stat().WriterPid)

	// Another process's writer, and what its death leaves.
	c := startChild(t, "hold-writer", map[string]string{"DIR": o.Dir, "NAME": "live"})
	cpid, err := strconv.Atoi(c.Expect("ready"))
	require.NoError(t, err)
	assert.Equal(t, cpid, stat().WriterPid)
	_, err = scb.OpenWriter("live", at(o))
	assert.ErrorIs(t, err, scb.ErrBusy)
	c.Kill()
	assert.Zero(t, stat().WriterPid, "a dead holder is not attached")
}

// TestStatListsHolders: every attached handle, of every strategy and mode,
// is listed with its role and process while it is attached, and not once
// it closed or its process died.
func TestStatListsHolders(t *testing.T) {
	needLockWords(t, "hold-writer")
	for _, tc := range []struct {
		s scb.Strategy
		m scb.Mode
	}{{scb.Flock, scb.Queue}, {scb.Flock, scb.Broadcast}, {scb.Atomic, scb.Queue}, {scb.Atomic, scb.Broadcast}} {
		t.Run(fmt.Sprintf("%v/%v", tc.s, tc.m), func(t *testing.T) {
			if tc.s == scb.Atomic {
				needAtomic(t, "hold-writer")
			}
			o := newOpts(t, tc.s, tc.m)
			w := create(t, "live", o)
			require.NoError(t, w.Push(1))
			require.NoError(t, w.Push(2))
			before := time.Now()
			r1 := openReader(t, "live", at(o))
			var readers []*scb.Reader
			readers = append(readers, r1)
			if tc.m == scb.Broadcast || tc.s == scb.Flock {
				readers = append(readers, openReader(t, "live", at(o)))
			}
			_, err := r1.Pop()
			require.NoError(t, err)
			info, err := scb.Stat("live", at(o))
			require.NoError(t, err)
			require.Len(t, info.Holders, 1+len(readers))
			writers := 0
			for _, h := range info.Holders {
				assert.Equal(t, os.Getpid(), h.Pid)
				assert.Positive(t, h.Token)
				if h.Writer {
					writers++
					continue
				}
				assert.False(t, h.Since.Before(before.Add(-time.Second)), "since %v", h.Since)
			}
			assert.Equal(t, 1, writers)
			assert.Equal(t, os.Getpid(), info.WriterPid)
			for _, r := range readers {
				require.NoError(t, r.Close())
			}
			info, err = scb.Stat("live", at(o))
			require.NoError(t, err)
			require.Len(t, info.Holders, 1, "closed readers are gone")
			assert.True(t, info.Holders[0].Writer)
			require.NoError(t, w.Close())

			// Another process's writer, until it is killed.
			c := startChild(t, "hold-writer", map[string]string{"DIR": o.Dir, "NAME": "live"})
			cpid, err := strconv.Atoi(c.Expect("ready"))
			require.NoError(t, err)
			info, err = scb.Stat("live", at(o))
			require.NoError(t, err)
			require.Len(t, info.Holders, 1)
			assert.Equal(t, cpid, info.Holders[0].Pid)
			c.Kill()
			info, err = scb.Stat("live", at(o))
			require.NoError(t, err)
			assert.Empty(t, info.Holders, "a dead holder is not attached")
		})
	}
}

// TestStatBroadcastReaderProgress: a Broadcast reader's line says how far
// behind the writer it is and how many items it lost.
func TestStatBroadcastReaderProgress(t *testing.T) {
	needLockWords(t)
	o := newOpts(t, scb.Atomic, scb.Broadcast)
	o.Length = 4
	w := create(t, "tap", o)
	r := openReader(t, "tap", at(o))
	for i := range 6 {
		require.NoError(t, w.Push(uint64(i)))
	}
	_, err := r.Pop()
	require.ErrorIs(t, err, scb.ErrOverrun)
	_, err = r.Pop()
	require.NoError(t, err)
	info, err := scb.Stat("tap", at(o))
	require.NoError(t, err)
	var got []scb.Holder
	for _, h := range info.Holders {
		if !h.Writer {
			got = append(got, h)
		}
	}
	require.Len(t, got, 1)
	assert.EqualValues(t, 3, got[0].Lag, "items 3, 4 and 5 are unread")
	assert.EqualValues(t, 2, got[0].Lost, "items 0 and 1 were overwritten")
}

// TestStatBelievesNoFreeLine: a holder line whose lock nobody holds (what
// a dead holder leaves, or an edit) is not an attached handle, whatever it
// says; a live line whose pid no process can have names none.
func TestStatBelievesNoFreeLine(t *testing.T) {
	needLockWords(t)
	o := newOpts(t, scb.Flock, scb.Queue)
	w := create(t, "pids", o)
	info, err := scb.Stat("pids", at(o))
	require.NoError(t, err)
	require.Len(t, info.Holders, 1)
	own := info.Holders[0].Token
	path := filepath.Join(o.Dir, "pids.scb")
	free := own%layout.MaxHolders + 1 // another slot, which nobody holds
	line := func(tok int) int64 { return int64(layout.OffHolders + (tok-1)*layout.HolderSize) }
	poke(t, path, line(free)+layout.HolderRole, layout.HolderReader, 4)
	poke(t, path, line(free)+layout.HolderPid, uint64(os.Getpid()), 4)
	for _, word := range []uint64{0xFFFFFFFF, 0x80000000, 1} {
		poke(t, path, line(own)+layout.HolderPid, word, 4)
		info, err = scb.Stat("pids", at(o))
		require.NoError(t, err)
		require.Len(t, info.Holders, 1, "only the writer's line is proved")
		assert.Equal(t, own, info.Holders[0].Token)
		if runtime.GOOS == "linux" {
			// There the start time tells the line's process apart.
			assert.Zero(t, info.Holders[0].Pid, "pid word %#x", word)
		}
		assert.Zero(t, info.ReaderPid)
	}
	require.NoError(t, w.Push(1))
}
func TestErrBusyNamesTheHolder(t *testing.T) {
	needLockWords(t)
	o := newOpts(t, scb.Atomic, scb.Queue)
	create(t, "busy", o)
	openReader(t, "busy", at(o))
	want := fmt.Sprintf("process %d holds", os.Getpid())
	_, err := scb.OpenWriter("busy", at(o))
	require.ErrorIs(t, err, scb.ErrBusy)
	assert.Contains(t, err.Error(), want)
	_, err = scb.OpenReader("busy", at(o))
	require.ErrorIs(t, err, scb.ErrBusy)
	assert.Contains(t, err.Error(), want)
}

// TestStatHolderLeases: a Queue reader's holder says how many leases it
// holds, for the Atomic strategy's one reader (whose leases are marked 1,
// not its token) as for Flock readers.
func TestStatHolderLeases(t *testing.T) {
	needLockWords(t)
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		w := create(t, "jobs", o)
		for i := range uint64(3) {
			require.NoError(t, w.Push(i))
		}
		r := openReader(t, "jobs", at(o))
		for range 2 {
			_, _, err := r.Take()
			require.NoError(t, err)
		}
		info, err := scb.Stat("jobs", at(o))
		require.NoError(t, err)
		leases := map[bool]int{}
		for _, h := range info.Holders {
			leases[h.Writer] += h.Leases
		}
		assert.Equal(t, map[bool]int{false: 2, true: 0}, leases)
	})
}
