//go:build unix

package scb_test

// Remove under concurrency and under resource limits, with real processes:
// Remove racing Create and the openers of the same name, List while
// buffers come and go, and Remove out of file descriptors. (What Remove
// deletes and leaves is in remove_deletes_test.go.)

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/scbtest"
)

func init() {
	role("churn-create", childChurnCreate)
	role("churn-open", childChurnOpen)
	role("remove-nofile", childRemoveNoFile)
}

// churnDeadline is when a churning child stops: DUR milliseconds from now.
func churnDeadline() time.Time {
	return time.Now().Add(time.Duration(paramInt("DUR")) * time.Millisecond)
}

// childChurnCreate creates the Atomic Queue buffer NAME over and over until
// DUR milliseconds have passed. Each buffer's creator keeps the writer role
// from Create until a Remove of the name has returned (its own, which
// removes its buffer unless another process's Remove did first), and takes
// the reader role too if it is free, so that while the buffer has its name
// nobody else can rightly hold its writer role. It pushes a token, its pid
// and a count, which any reader of the buffer can peek to tell which buffer
// it holds. A Create that finds the name taken removes it, racing the other
// creators.
func childChurnCreate(ctx context.Context, name string, o *scb.Options) error {
	o.Strategy, o.Mode, o.Length, o.ItemSize = scb.Atomic, scb.Queue, 4, 8
	at := &scb.Options{Dir: o.Dir}
	marks := param("MARKS")
	fmt.Println("ready")
	var created, readers int
	for end := churnDeadline(); time.Now().Before(end); {
		w, err := scb.Create(name, o)
		if errors.Is(err, scb.ErrExist) {
			if err := scb.Remove(name, at); err != nil && !errors.Is(err, scb.ErrNotExist) {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		created++
		if err := w.Push(uint64(os.Getpid())<<32 | uint64(created)); err != nil {
			return err
		}
		r, err := scb.OpenReader(name, at)
		var token uint64
		switch {
		case err == nil:
			readers++
			if token, err = holdReader(ctx, r, marks); err != nil {
				return err
			}
		case !errors.Is(err, scb.ErrBusy) && !errors.Is(err, scb.ErrNotExist):
			return err
		}
		if err := scb.Remove(name, at); err != nil && !errors.Is(err, scb.ErrNotExist) {
			return err
		}
		if r != nil {
			if err := releaseReader(r, marks, token); err != nil {
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	fmt.Println("ok", created, readers)
	return nil
}

// childChurnOpen tries to attach a writer and a reader to the buffer NAME
// over and over until DUR milliseconds have passed, while churn-create
// children create and remove it. A writer must never attach: each buffer's
// creator holds the role while the buffer has its name. A reader may, if
// it is the buffer's only one, which holdReader checks.
func childChurnOpen(ctx context.Context, name string, o *scb.Options) error {
	marks := param("MARKS")
	fmt.Println("ready")
	var tries, readers int
	for end := churnDeadline(); time.Now().Before(end); tries++ {
		w, err := scb.OpenWriter(name, o)
		if err == nil {
			w.Close()
			return errors.New("a second writer attached while the creator held the writer role")
		}
		if !errors.Is(err, scb.ErrBusy) && !errors.Is(err, scb.ErrNotExist) {
			return err
		}
		r, err := scb.OpenReader(name, o)
		if errors.Is(err, scb.ErrBusy) || errors.Is(err, scb.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		readers++
		token, err := holdReader(ctx, r, marks)
		if err == nil {
			err = releaseReader(r, marks, token)
		}
		if err != nil {
			return err
		}
	}
	fmt.Println("ok", tries, readers)
	return nil
}

// holdReader marks the Queue reader r as the reader of its buffer: it
// peeks the buffer's token (and keeps the peek, so that the token stays
// for the buffer's next reader) and creates the file MARKS/<token>
// exclusively. If the file exists, another reader holds the role of the
// same buffer. The creator pushes the token right after Create: a reader
// that attached in between (the creator's own among them, when another
// process removed its buffer and created one again) waits for it.
func holdReader(ctx context.Context, r *scb.Reader, marks string) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	p, err := r.PeekWait(ctx)
	if err != nil {
		return 0, fmt.Errorf("peek the token: %w", err)
	}
	token := binary.BigEndian.Uint64(p)
	f, err := os.OpenFile(markPath(marks, token), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return 0, fmt.Errorf("a second Queue reader attached to buffer %#x", token)
	}
	if err != nil {
		return 0, err
	}
	return token, f.Close()
}

// releaseReader removes the mark of r, which holdReader made, then closes
// r, which ends its peek without consuming the token.
func releaseReader(r *scb.Reader, marks string, token uint64) error {
	if err := os.Remove(markPath(marks, token)); err != nil {
		return err
	}
	return r.Close()
}

func markPath(dir string, token uint64) string {
	return filepath.Join(dir, strconv.FormatUint(token, 16))
}

// TestRemoveRacingCreateKeepsRolesExclusive runs two processes that create
// and remove one Atomic Queue buffer name over and over (each Remove racing
// the other's Create) beside one that keeps trying to attach a writer and a
// reader. Remove once deleted every lock file of the name, whatever the
// buffer it belonged to: a Create in progress, or a buffer created between
// Remove's unlink and its clean-up, then had its held role lock files
// deleted, and the next opener made new ones and took the role too: two
// writers (seen within a few dozen cycles), or two Queue readers.
func TestRemoveRacingCreateKeepsRolesExclusive(t *testing.T) {
	needAtomic(t, "churn-create", "churn-open")
	dir, marks := t.TempDir(), t.TempDir()
	params := map[string]string{
		"DIR": dir, "NAME": "churn", "MARKS": marks,
		"DUR": strconv.Itoa(sized(3000, 1500)),
	}
	roles := []string{"churn-create", "churn-create", "churn-open"}
	var procs []*scbtest.Proc
	for _, role := range roles {
		c := startChild(t, role, params)
		c.Expect("ready")
		procs = append(procs, c)
	}
	for i, c := range procs {
		rest, err := c.Result()
		require.NoError(t, err, "%s: %v; stderr:\n%s", roles[i], rest, c.Stderr())
		t.Logf("%s: %v", roles[i], rest)
	}
	err := scb.Remove("churn", &scb.Options{Dir: dir})
	if err != nil {
		require.ErrorIs(t, err, scb.ErrNotExist)
	}
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left, "once every handle is closed, Remove leaves nothing")
}

// TestListDuringChurn lists a directory while buffers in it are created and
// removed. List reads the directory, then each buffer: one removed in
// between is not there any more, which is no error (List once reported it,
// about once in two thousand Lists).
func TestListDuringChurn(t *testing.T) {
	needAtomic(t)
	dir := t.TempDir()
	o := &scb.Options{Dir: dir, Length: 2, ItemSize: 8}
	stop := make(chan struct{})
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for i := range cap(errs) {
		wg.Go(func() {
			name := "c" + strconv.Itoa(i)
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				w, err := scb.Create(name, o)
				if err == nil {
					err = w.Close()
				}
				if err == nil {
					err = scb.Remove(name, o)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	lists, seen := 0, 0
	for end := time.Now().Add(time.Duration(sized(3000, 1500)) * time.Millisecond); time.Now().Before(end); lists++ {
		infos, err := scb.List(dir)
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("List %d: %v", lists, err)
		}
		seen += len(infos)
	}
	close(stop)
	wg.Wait()
	for range cap(errs) {
		require.NoError(t, <-errs)
	}
	t.Logf("%d Lists saw %d buffers", lists, seen)
}

// childRemoveNoFile lowers its limit of open files to 64, opens files until
// no descriptor is left, removes the buffer NAME, and says "remove" and
// what Remove returned.
func childRemoveNoFile(_ context.Context, name string, o *scb.Options) error {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	rl.Cur = min(rl.Cur, 64)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	var held []*os.File
	defer func() {
		for _, f := range held {
			f.Close()
		}
	}()
	for {
		f, err := os.Open(os.DevNull)
		if errors.Is(err, unix.EMFILE) {
			break
		}
		if err != nil {
			return err
		}
		held = append(held, f)
		if len(held) > 1024 {
			return errors.New("the limit of open files did not take")
		}
	}
	fmt.Println("remove", scb.Remove(name, o))
	return nil
}

// TestRemoveOutOfDescriptors removes a buffer in a process that has no file
// descriptor left. Remove cannot read the directory, so it reports that and
// changes nothing; it once unlinked the buffer, left both role lock files,
// and returned nil.
func TestRemoveOutOfDescriptors(t *testing.T) {
	needAtomic(t, "remove-nofile")
	o := newOpts(t, scb.Atomic, scb.Queue)
	w, err := scb.Create("q", o)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	before := dirNames(t, o.Dir)
	require.Len(t, before, 3, "the buffer and its two role lock files")

	c := startChild(t, "remove-nofile", map[string]string{"DIR": o.Dir, "NAME": "q"})
	got := c.Expect("remove")
	c.Wait()
	require.NotEqual(t, "<nil>", got, "Remove reports that it could not finish")
	assert.Contains(t, got, "too many open files")
	assert.Equal(t, before, dirNames(t, o.Dir), "and changed nothing")

	require.NoError(t, scb.Remove("q", o))
	assert.Empty(t, dirNames(t, o.Dir), "with descriptors, Remove removes everything")
}
