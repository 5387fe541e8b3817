package scb_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/child"
)

// TestStatZombieIsNotAttached: a writer SIGKILLed and not yet reaped by
// its parent (a zombie) still answers kill(pid, 0), but holds no lock and
// runs no code: Stat does not report it as attached. It once did.
func TestStatZombieIsNotAttached(t *testing.T) {
	needAtomic(t, "hold-writer")
	o := newOpts(t, scb.Atomic, scb.Queue)
	w := create(t, "live", o)
	require.NoError(t, w.Close())
	// Not through childtest: it reaps its children as soon as they exit.
	cmd, err := child.Command("hold-writer", map[string]string{"DIR": o.Dir, "NAME": "live"})
	require.NoError(t, err)
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
	info, err = scb.Stat("live", at(o))
	require.NoError(t, err)
	assert.Zero(t, info.WriterPid, "a zombie is not attached")
}

func isZombie(t *testing.T, pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	s := string(b)
	return strings.HasPrefix(s[strings.LastIndexByte(s, ')')+1:], " Z")
}
