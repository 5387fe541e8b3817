package scb_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/scbtest"
)

// TestStatZombieIsNotAttached: a writer SIGKILLed and not yet reaped by
// its parent (a zombie) still answers kill(pid, 0), but holds no lock and
// runs no code: Stat does not report it as attached. It once did.
func TestStatZombieIsNotAttached(t *testing.T) {
	needAtomic(t, "hold-writer")
	o := newOpts(t, scb.Atomic, scb.Queue)
	w := create(t, "live", o)
	require.NoError(t, w.Close())
	// Not through scbtest.Start: it reaps its children as soon as they exit.
	cmd := scbtest.Command(t, "hold-writer", args(map[string]string{"DIR": o.Dir, "NAME": "live"})...)
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	cmd.Stdout = pw
	require.NoError(t, cmd.Start())
	pw.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	cpid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ready")))
	require.NoError(t, err)
	info, err := scb.Stat("live", at(o))
	require.NoError(t, err)
	require.Equal(t, cpid, info.WriterPid)

	require.NoError(t, syscall.Kill(cpid, syscall.SIGKILL)) // not reaped until the cleanup
	deadline := time.Now().Add(waitBound)
	for !isZombie(t, cpid) {
		require.True(t, time.Now().Before(deadline), "process %d did not become a zombie", cpid)
		time.Sleep(time.Millisecond)
	}
	// The leader thread turns zombie first; the lock goes with the last
	// of the process's threads, a moment later.
	for {
		info, err = scb.Stat("live", at(o))
		require.NoError(t, err)
		if info.WriterPid == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the zombie %d is reported as attached", cpid)
		time.Sleep(time.Millisecond)
	}
	assert.True(t, isZombie(t, cpid), "still not reaped")
}

func isZombie(t *testing.T, pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	s := string(b)
	return strings.HasPrefix(s[strings.LastIndexByte(s, ')')+1:], " Z")
}

// TestStatChecksTheHolderStartTime: a holder line whose pid was edited to
// that of another live process (this one), or whose recorded start time
// is not its process's (a recycled pid looks the same), names no process,
// in Stat or in ErrBusy, while the lock still proves the holder attached.
func TestStatChecksTheHolderStartTime(t *testing.T) {
	needAtomic(t, "hold-writer")
	o := newOpts(t, scb.Atomic, scb.Queue)
	w := create(t, "held", o)
	require.NoError(t, w.Close())
	c := startChild(t, "hold-writer", map[string]string{"DIR": o.Dir, "NAME": "held"})
	cpid, err := strconv.Atoi(c.Expect("ready"))
	require.NoError(t, err)
	info, err := scb.Stat("held", at(o))
	require.NoError(t, err)
	require.Len(t, info.Holders, 1)
	h := info.Holders[0]
	require.Equal(t, cpid, h.Pid)
	line := int64(layout.OffHolders + (h.Token-1)*layout.HolderSize)
	path := filepath.Join(o.Dir, "held.scb")
	for _, edit := range []struct {
		why      string
		off      int64
		v        uint64
		size     int
		notNamed int
	}{
		{"pid of another live process", layout.HolderPid, uint64(os.Getpid()), 4, os.Getpid()},
		{"start time not the process's", layout.HolderStart, 12345, 8, cpid},
	} {
		t.Run(edit.why, func(t *testing.T) {
			poke(t, path, line+edit.off, edit.v, edit.size)
			info, err := scb.Stat("held", at(o))
			require.NoError(t, err)
			require.Len(t, info.Holders, 1, "the lock proves a holder")
			assert.Zero(t, info.Holders[0].Pid)
			assert.Zero(t, info.WriterPid)
			_, err = scb.OpenWriter("held", at(o))
			require.ErrorIs(t, err, scb.ErrBusy)
			assert.NotContains(t, err.Error(), fmt.Sprintf("process %d", edit.notNamed))
		})
	}
	c.Kill()
	info, err = scb.Stat("held", at(o))
	require.NoError(t, err)
	assert.Zero(t, info.WriterPid, "nobody holds the lock, whatever the line says")
	assert.Empty(t, info.Holders)
}
