package scb_test

// Errors and options: every error matches its sentinel with errors.Is and
// says what failed; Options are parsed and never written to.

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	o := &scb.Options{Dir: dir, Length: 2}
	w := create(t, "full", o)
	require.NoError(t, w.Push(1))
	require.NoError(t, w.Push(2))
	openReader(t, "full", at(o))

	bo := &scb.Options{Dir: dir, Mode: scb.Broadcast, Length: 2}
	bw := create(t, "bcast", bo)
	for i := range 5 {
		require.NoError(t, bw.Push(uint64(i)))
	}

	closedW, err := scb.Create("closed", &scb.Options{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, closedW.Close())
	require.NoError(t, closedW.Close(), "Close is idempotent")
	closedR, err := scb.OpenReader("closed", at(o))
	require.NoError(t, err)
	require.NoError(t, closedR.Close())
	require.NoError(t, closedR.Close())

	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.scb"), []byte(strings.Repeat("x", 8192)), 0o600))
	// Windows lets only privileged users make symbolic links, and Wine
	// makes ones that Lstat cannot see: there the symlink cases skip.
	link := filepath.Join(dir, "link.scb")
	symlinkErr := os.Symlink(filepath.Join(dir, "full.scb"), link)
	if symlinkErr == nil {
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			symlinkErr = fmt.Errorf("os.Lstat does not see %s as a symbolic link (%v)", link, err)
		}
	}
	if runtime.GOOS != "windows" {
		require.NoError(t, symlinkErr)
	}

	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"empty name", func() error { _, err := scb.Create("", o); return err }, scb.ErrInvalidName},
		{"dot dot", func() error { _, err := scb.OpenReader("..", o); return err }, scb.ErrInvalidName},
		{"slash", func() error { return scb.Remove("a/b", o) }, scb.ErrInvalidName},
		{"leading dot", func() error { _, err := scb.Stat(".hidden", o); return err }, scb.ErrInvalidName},
		{"NUL", func() error { _, err := scb.OpenWriter("a\x00b", o); return err }, scb.ErrInvalidName},
		{"space", func() error { _, err := scb.Create("a b", o); return err }, scb.ErrInvalidName},
		{"too long", func() error { _, err := scb.Create(strings.Repeat("a", 201), o); return err }, scb.ErrInvalidName},
		{"length 1", func() error { _, err := scb.Create("x", &scb.Options{Dir: dir, Length: 1}); return err }, scb.ErrInvalidOptions},
		{"negative length", func() error { _, err := scb.Create("x", &scb.Options{Dir: dir, Length: -5}); return err }, scb.ErrInvalidOptions},
		{"item size 0 on open", func() error { _, err := scb.OpenReader("full", &scb.Options{Dir: dir, ItemSize: -1}); return err }, scb.ErrInvalidOptions},
		{"unknown mode", func() error { _, err := scb.Create("x", &scb.Options{Dir: dir, Mode: 9}); return err }, scb.ErrInvalidOptions},
		{"unknown strategy", func() error { _, err := scb.Create("x", &scb.Options{Dir: dir, Strategy: 9}); return err }, scb.ErrInvalidOptions},
		{"overflow", func() error {
			_, err := scb.Create("x", &scb.Options{Dir: dir, Length: math.MaxInt / 2, ItemSize: 1 << 20})
			return err
		}, scb.ErrInvalidOptions},
		{"exists", func() error { _, err := scb.Create("full", o); return err }, scb.ErrExist},
		{"not exist", func() error { _, err := scb.OpenReader("nope", o); return err }, scb.ErrNotExist},
		{"not exist is fs.ErrNotExist", func() error { _, err := scb.OpenWriter("nope", o); return err }, fs.ErrNotExist},
		{"remove not exist", func() error { return scb.Remove("nope", o) }, scb.ErrNotExist},
		{"stat not exist", func() error { _, err := scb.Stat("nope", o); return err }, scb.ErrNotExist},
		{"mismatch length", func() error { _, err := scb.OpenReader("full", &scb.Options{Dir: dir, Length: 3}); return err }, scb.ErrMismatch},
		{"mismatch item size", func() error { _, err := scb.OpenWriter("full", &scb.Options{Dir: dir, ItemSize: 4}); return err }, scb.ErrMismatch},
		{"mismatch mode", func() error {
			_, err := scb.OpenReader("full", &scb.Options{Dir: dir, Mode: scb.Broadcast})
			return err
		}, scb.ErrMismatch},
		{"mismatch strategy", func() error {
			_, err := scb.OpenReader("full", &scb.Options{Dir: dir, Strategy: scb.Flock})
			return err
		}, scb.ErrMismatch},
		{"corrupt", func() error { _, err := scb.OpenReader("junk", o); return err }, scb.ErrCorrupt},
		{"symlink", func() error { _, err := scb.OpenReader("link", o); return err }, scb.ErrUntrusted},
		{"symlink is fs.ErrPermission", func() error { _, err := scb.OpenWriter("link", o); return err }, fs.ErrPermission},
		{"second writer", func() error { _, err := scb.OpenWriter("full", o); return err }, scb.ErrBusy},
		{"second queue reader", func() error { _, err := scb.OpenReader("full", o); return err }, scb.ErrBusy},
		{"full", func() error { return w.Push(3) }, scb.ErrFull},
		{"empty", func() error { _, err := closedOrEmpty(t, dir); return err }, scb.ErrEmpty},
		{"overrun", func() error {
			r := openReader(t, "bcast", at(bo))
			for i := range 3 {
				require.NoError(t, bw.Push(uint64(i)))
			}
			_, err := r.PopMany(1)
			return err
		}, scb.ErrOverrun},
		{"too large", func() error { return w.PushBytes(make([]byte, 9)) }, scb.ErrTooLarge},
		{"range", func() error {
			return create(t, "small", &scb.Options{Dir: dir, ItemSize: 1}).Push(300)
		}, scb.ErrRange},
		{"short buffer", func() error {
			r := openReader(t, "bcast", at(bo))
			_, err := r.PopBytes(make([]byte, 7))
			return err
		}, io.ErrShortBuffer},
		{"closed push", func() error { return closedW.Push(1) }, scb.ErrClosed},
		{"closed pop", func() error { _, err := closedR.Pop(); return err }, scb.ErrClosed},
		{"closed is fs.ErrClosed", func() error { _, err := closedR.PopMany(3); return err }, fs.ErrClosed},
		{"closed PopMany(0)", func() error { _, err := closedR.PopMany(0); return err }, scb.ErrClosed},
		{"closed wait", func() error { return closedW.PushWait(context.Background(), 1) }, scb.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasPrefix(tt.name, "symlink") && symlinkErr != nil {
				t.Skipf("no symbolic link on this system: %v", symlinkErr)
			}
			err := tt.do()
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "scb: "), "message %q names the package", err)
		})
	}
	_, err = os.Stat(filepath.Join(dir, "x.scb"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "refused creates leave nothing behind")
}

// closedOrEmpty pops from a fresh empty buffer in dir.
func closedOrEmpty(t *testing.T, dir string) (uint64, error) {
	o := &scb.Options{Dir: dir}
	create(t, "empty", o)
	return openReader(t, "empty", o).Pop()
}

func TestErrorMessages(t *testing.T) {
	dir := t.TempDir()
	_, err := scb.OpenReader("jobs", &scb.Options{Dir: dir})
	assert.EqualError(t, err, `scb: open "jobs": buffer does not exist in `+dir)
	var e *scb.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "open", e.Op)
	assert.Equal(t, "jobs", e.Name)
}

func TestOptionsNotModified(t *testing.T) {
	o := &scb.Options{Dir: t.TempDir()}
	before := *o
	create(t, "o", o)
	openReader(t, "o", o)
	assert.Equal(t, before, *o)
}

func TestParseStrategyAndMode(t *testing.T) {
	for _, s := range strategies {
		got, err := scb.ParseStrategy(strings.ToUpper(s.String()))
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	for _, m := range modes {
		got, err := scb.ParseMode(m.String())
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	_, err := scb.ParseStrategy("spin")
	assert.ErrorIs(t, err, scb.ErrInvalidOptions)
	_, err = scb.ParseMode("")
	assert.ErrorIs(t, err, scb.ErrInvalidOptions)
	assert.Equal(t, "Mode(7)", scb.Mode(7).String())
	assert.Equal(t, "Strategy(0)", scb.Strategy(0).String())
}

// TestNotExistHintsAtTheExtension: opening "jobs.scb" when the buffer is
// "jobs" says that names carry no extension, and which name to use.
func TestNotExistHintsAtTheExtension(t *testing.T) {
	o := &scb.Options{Dir: t.TempDir()}
	create(t, "jobs", o)
	for _, call := range []struct {
		name string
		f    func() error
	}{
		{"OpenReader", func() error { _, err := scb.OpenReader("jobs.scb", o); return err }},
		{"OpenWriter", func() error { _, err := scb.OpenWriter("jobs.scb", o); return err }},
		{"Stat", func() error { _, err := scb.Stat("jobs.scb", o); return err }},
		{"Remove", func() error { return scb.Remove("jobs.scb", o) }},
	} {
		err := call.f()
		require.ErrorIs(t, err, scb.ErrNotExist, call.name)
		assert.Contains(t, err.Error(), `(names carry no ".scb": the buffer in jobs.scb is called "jobs")`, call.name)
	}
	_, err := scb.OpenReader("nope", o)
	assert.NotContains(t, err.Error(), "names carry", "no hint without the extension")
}
