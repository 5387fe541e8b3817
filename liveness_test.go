package scb_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/child/childtest"
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
