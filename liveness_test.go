package scb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/child/childtest"
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
	c := childtest.Start(t, "hold-writer", map[string]string{"DIR": o.Dir, "NAME": "live"})
	cpid, err := strconv.Atoi(c.Expect("ready"))
	require.NoError(t, err)
	assert.Equal(t, cpid, stat().WriterPid)
	_, err = scb.OpenWriter("live", at(o))
	assert.ErrorIs(t, err, scb.ErrBusy)
	c.Kill()
	assert.Zero(t, stat().WriterPid, "a dead holder is not attached")
}

func TestStatPidsUnknownForFlock(t *testing.T) {
	o := newOpts(t, scb.Flock, scb.Queue)
	create(t, "live", o)
	openReader(t, "live", at(o))
	info, err := scb.Stat("live", at(o))
	require.NoError(t, err)
	assert.Zero(t, info.WriterPid)
	assert.Zero(t, info.ReaderPid)
}

func TestErrBusyNamesTheHolder(t *testing.T) {
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

// TestStatPidWordsNoProcessHas: a pid word that no process id can be
// (0xFFFFFFFF, 0x80000000: negative as a pid_t, where kill(-1, 0) asks
// about every process) is not reported as an attached process, by Stat or
// by ErrBusy's message.
func TestStatPidWordsNoProcessHas(t *testing.T) {
	for _, word := range []uint64{0xFFFFFFFF, 0x80000000} {
		t.Run(fmt.Sprintf("%#x", word), func(t *testing.T) {
			o := newOpts(t, scb.Atomic, scb.Queue)
			w := create(t, "pids", o)
			path := filepath.Join(o.Dir, "pids.scb")
			poke(t, path, layout.OffReaderPid, word, 4)
			info, err := scb.Stat("pids", at(o))
			require.NoError(t, err)
			assert.Zero(t, info.ReaderPid)
			poke(t, path, layout.OffWriterPid, word, 4)
			_, err = scb.OpenWriter("pids", at(o))
			require.ErrorIs(t, err, scb.ErrBusy)
			assert.NotContains(t, err.Error(), strconv.FormatUint(word, 10), "the writer is w, whose pid word was overwritten")
			if runtime.GOOS == "linux" {
				// There the kernel says who holds the lock.
				assert.Contains(t, err.Error(), fmt.Sprintf("process %d holds", os.Getpid()))
			}
			require.NoError(t, w.Push(1))
		})
	}
}
