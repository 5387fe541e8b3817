//go:build linux

package scb_test

// A really full shared memory: a 1 MiB tmpfs, mounted in a child process's
// own mount namespace so that nothing outside the test sees it.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/scbtest"
)

func init() {
	role("tmpfs-full", childTmpfsFull)
}

// fill writes a file in dir until the file system is full.
func fill(dir string) error {
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		return err
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
}

// childTmpfsFull mounts a 1 MiB tmpfs on DIR (it runs in a mount namespace
// of its own) and checks, with each strategy:
//   - Create of a buffer larger than the tmpfs fails with ENOSPC and leaves
//     nothing behind;
//   - a buffer that fits, created before the rest of the tmpfs is filled
//     up, takes items in every slot afterwards (its pages were reserved:
//     no SIGBUS);
//   - Create of even the smallest buffer on the full tmpfs fails cleanly;
//   - a buffer file with holes (as cp makes) is refused at open with
//     ENOSPC on the full tmpfs, instead of SIGBUS on first use.
func childTmpfsFull(_ context.Context, _ string, o *scb.Options) error {
	if err := unix.Mount("tmpfs", o.Dir, "tmpfs", 0, "size=1m"); err != nil {
		fmt.Println("skip mount a tmpfs:", err)
		return nil
	}
	defer unix.Unmount(o.Dir, unix.MNT_DETACH)
	for _, s := range []scb.Strategy{scb.Atomic, scb.Flock} {
		o.Strategy, o.Mode = s, scb.Broadcast
		o.Length, o.ItemSize = 1<<16, 8 // 1.5 MiB
		if _, err := scb.Create("big", o); !errors.Is(err, syscall.ENOSPC) {
			return fmt.Errorf("Create of 1.5 MiB on a 1 MiB tmpfs: %v, want ENOSPC", err)
		}
		if left, _ := os.ReadDir(o.Dir); len(left) != 0 {
			return fmt.Errorf("a failed Create left %d files", len(left))
		}

		o.Length, o.ItemSize = 1<<14, 16 // 512 KiB
		w, err := scb.Create("fits", o)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(filepath.Join(o.Dir, "fits.scb"))
		if err != nil {
			return err
		}
		if err := fill(o.Dir); err != nil {
			return err
		}
		for i := range uint64(2 << 14) { // every slot, twice
			if err := w.Push(i); err != nil {
				return err
			}
		}
		w.Close()

		o.Length, o.ItemSize = 2, 1
		if _, err := scb.Create("tiny", o); !errors.Is(err, syscall.ENOSPC) {
			return fmt.Errorf("Create on a full tmpfs: %v, want ENOSPC", err)
		}

		// A copy of "fits" with holes: the header page, then nothing.
		if err := os.Remove(filepath.Join(o.Dir, "filler")); err != nil {
			return err
		}
		sparse := filepath.Join(o.Dir, "sparse.scb")
		if err := os.WriteFile(sparse, data[:4096], 0o600); err != nil {
			return err
		}
		if err := os.Truncate(sparse, int64(len(data))); err != nil {
			return err
		}
		if err := fill(o.Dir); err != nil {
			return err
		}
		if _, err := scb.OpenWriter("sparse", &scb.Options{Dir: o.Dir}); !errors.Is(err, syscall.ENOSPC) {
			return fmt.Errorf("OpenWriter of a file with holes on a full tmpfs: %v, want ENOSPC", err)
		}
		for _, f := range []string{"filler", "sparse.scb"} {
			if err := os.Remove(filepath.Join(o.Dir, f)); err != nil {
				return err
			}
		}
		if err := scb.Remove("fits", o); err != nil {
			return err
		}
	}
	fmt.Println("ok")
	return nil
}

// TestCreateOnFullTmpfs runs childTmpfsFull. It needs root (to mount a
// tmpfs in a new mount namespace) and skips, saying why, without it.
func TestCreateOnFullTmpfs(t *testing.T) {
	needAtomic(t, "tmpfs-full")
	if os.Geteuid() != 0 {
		scbtest.Skip(t, "needs root to mount a size-limited tmpfs in a private mount namespace", "tmpfs-full")
	}
	probe := exec.Command("/bin/true")
	probe.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if err := probe.Run(); err != nil {
		scbtest.Skip(t, fmt.Sprintf("cannot make a mount namespace here: %v", err), "tmpfs-full")
	}
	c := startChildWith(t, "tmpfs-full", map[string]string{"DIR": t.TempDir()}, func(cmd *exec.Cmd) {
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	})
	okOrSkip(t, c)
}

// TestCreateReservesSpace checks that a new buffer file has every block
// allocated, not just its size set.
func TestCreateReservesSpace(t *testing.T) {
	o := &scb.Options{Dir: t.TempDir(), Length: 1 << 12, ItemSize: 1000}
	create(t, "r", o)
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(filepath.Join(o.Dir, "r.scb"), &st))
	assert.GreaterOrEqual(t, st.Blocks*512, st.Size, "allocated bytes")
}
