//go:build unix

package scb_test

// A full file system, simulated with a file size limit: Create reserves
// every byte of the file up front, so running out of room is an error from
// Create, never a SIGBUS later.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/scbtest"
)

func init() {
	role("fsize-limit", childFsizeLimit)
}

// childFsizeLimit limits its files to 1 MiB (RLIMIT_FSIZE; Go ignores the
// SIGXFSZ that comes with it, so the system call fails with EFBIG) and
// checks that a Create that does not fit fails cleanly and one that fits
// works to the last slot.
func childFsizeLimit(_ context.Context, _ string, o *scb.Options) error {
	lim := &unix.Rlimit{Cur: 1 << 20, Max: 1 << 20}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, lim); err != nil {
		fmt.Println("skip setrlimit:", err)
		return nil
	}
	for _, s := range []scb.Strategy{scb.Atomic, scb.Flock} {
		o.Strategy = s
		o.Length, o.ItemSize = 1<<16, 48 // 4 MiB
		_, err := scb.Create("big", o)
		if err == nil {
			return errors.New("Create of a 4 MiB buffer under a 1 MiB limit worked")
		}
		if !errors.Is(err, syscall.EFBIG) {
			return fmt.Errorf("Create of a 4 MiB buffer under a 1 MiB limit: %w, want EFBIG", err)
		}
		if left, _ := os.ReadDir(o.Dir); len(left) != 0 {
			return fmt.Errorf("a failed Create left %d files", len(left))
		}
		o.Length, o.ItemSize, o.Mode = 1<<14, 40, scb.Broadcast // 896 KiB
		w, err := scb.Create("fits", o)
		if err != nil {
			return err
		}
		buf := make([]byte, 40)
		for i := range uint64(2 << 14) { // every slot, twice
			putItem(buf, i)
			if err := w.PushBytes(buf); err != nil {
				return err
			}
		}
		w.Close()
		if err := scb.Remove("fits", o); err != nil {
			return err
		}
		o.Mode = 0
	}
	fmt.Println("ok")
	return nil
}

func TestCreateOverFileSizeLimit(t *testing.T) {
	needAtomic(t, "fsize-limit")
	c := startChild(t, "fsize-limit", map[string]string{"DIR": t.TempDir()})
	okOrSkip(t, c)
}

// okOrSkip waits for the child's verdict: "ok", or "skip <reason>" when it
// cannot set up what the test needs.
func okOrSkip(t *testing.T, c *scbtest.Proc) {
	t.Helper()
	line := c.Line()
	if reason, ok := strings.CutPrefix(line, "skip "); ok {
		c.Wait()
		t.Skip(reason)
	}
	require.Equal(t, "ok", line, "stderr:\n%s", c.Stderr())
	c.Wait()
}
