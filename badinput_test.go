package scb_test

// Bad input: hostile names, impossible options, and files that are not
// buffers. Each is refused with a clear error and leaves the directory
// exactly as it was.

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/layout"
)

// dirState describes every entry of a directory tree: type, permission,
// size and, for regular files, a hash of the contents. Two equal states
// mean nothing was created, removed or changed.
type dirState map[string]string

func snapshot(t testing.TB, dir string) dirState {
	t.Helper()
	st := dirState{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v %d", fi.Mode(), fi.Size())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(data))
		}
		rel, _ := filepath.Rel(dir, path)
		st[rel] = desc
		return nil
	})
	require.NoError(t, err)
	return st
}

func assertUnchanged(t testing.TB, dir string, before dirState, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, before, snapshot(t, dir), msgAndArgs...)
}

// entryPoints are the calls that take a buffer name.
var entryPoints = []struct {
	name string
	do   func(name string, o *scb.Options) error
}{
	{"Create", func(name string, o *scb.Options) error {
		w, err := scb.Create(name, o)
		if err == nil {
			w.Close()
		}
		return err
	}},
	{"OpenWriter", func(name string, o *scb.Options) error {
		w, err := scb.OpenWriter(name, o)
		if err == nil {
			w.Close()
		}
		return err
	}},
	{"OpenReader", func(name string, o *scb.Options) error {
		r, err := scb.OpenReader(name, o)
		if err == nil {
			r.Close()
		}
		return err
	}},
	{"Stat", func(name string, o *scb.Options) error { _, err := scb.Stat(name, o); return err }},
	{"Remove", func(name string, o *scb.Options) error { return scb.Remove(name, o) }},
}

// TestNamesRefused tries every name rule against every call that takes a
// name. The buffer directory is a subdirectory, with valid buffers planted
// where a name that escaped it would land ("../x", "a/b"), so a name check
// that let one through would be noticed by the call succeeding.
func TestNamesRefused(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "bufs")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "a"), 0o700))
	for _, p := range []struct{ dir, name string }{{root, "x"}, {filepath.Join(dir, "a"), "b"}, {dir, "jobs"}} {
		w, err := scb.Create(p.name, &scb.Options{Dir: p.dir, Length: 2})
		skipUnsupported(t, err)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	}
	before := snapshot(t, root)

	names := []struct{ why, name string }{
		{"empty", ""},
		{"dot", "."},
		{"dot dot", ".."},
		{"parent", "../x"},
		{"slash", "a/b"},
		{"backslash", `a\b`},
		{"leading dot", ".jobs"},
		{"temp-like", ".jobs.scb.0123456789ab.tmp"},
		{"NUL", "jobs\x00"},
		{"NUL inside", "a\x00b"},
		{"space", "a b"},
		{"newline", "jobs\n"},
		{"colon (NTFS stream)", "jobs:x"},
		{"glob", "job*"},
		{"201 bytes", strings.Repeat("a", scb.MaxNameLen+1)},
		{"Cyrillic o", "j\u043ebs"},
		{"fullwidth j", "\uff4aobs"},
		{"zero-width space", "jobs\u200b"},
		{"division slash", "a\u2215b"},
		{"one dot leader", "\u2024\u2024"},
		{"invalid UTF-8", "jobs\xff"},
	}
	for _, n := range names {
		for _, ep := range entryPoints {
			t.Run(n.why+"/"+ep.name, func(t *testing.T) {
				err := ep.do(n.name, &scb.Options{Dir: dir})
				require.ErrorIs(t, err, scb.ErrInvalidName)
				assert.True(t, strings.HasPrefix(err.Error(), "scb: "), "message %q", err)
				assertUnchanged(t, root, before, "a refused name changes nothing on disk")
			})
		}
	}
}

// TestLongestNameWorks checks the other side of the length limit: a name of
// exactly 200 bytes, and names using every allowed punctuation mark, work
// with every call.
func TestLongestNameWorks(t *testing.T) {
	needAtomic(t)
	for _, name := range []string{strings.Repeat("n", scb.MaxNameLen), "a.b-c_d", "-", "_", "x..y"} {
		o := &scb.Options{Dir: t.TempDir(), Length: 2}
		for _, ep := range entryPoints {
			require.NoError(t, ep.do(name, o), "%s(%.20q...)", ep.name, name)
		}
		left, err := os.ReadDir(o.Dir)
		require.NoError(t, err)
		assert.Empty(t, left, "Remove took everything away")
	}
}

func TestOptionsRefused(t *testing.T) {
	dir := t.TempDir()
	w, err := scb.Create("live", &scb.Options{Dir: dir, Length: 2})
	skipUnsupported(t, err)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	before := snapshot(t, dir)

	create := []struct {
		why  string
		opts scb.Options
	}{
		{"Length 1", scb.Options{Length: 1}},
		{"Length -1", scb.Options{Length: -1}},
		{"Length MinInt", scb.Options{Length: math.MinInt}},
		{"ItemSize -1", scb.Options{ItemSize: -1}},
		{"ItemSize above 1 GiB", scb.Options{ItemSize: 1<<30 + 1}},
		{"Length x slot overflows", scb.Options{Length: math.MaxInt, ItemSize: 1}},
		{"Length x slot just overflows", scb.Options{Length: (math.MaxInt-layout.HeaderSize)/(slotSize(8, scb.Queue)+8) + 1, ItemSize: 8}},
		{"Length x broadcast slot just overflows", scb.Options{Mode: scb.Broadcast,
			Length: (math.MaxInt-layout.HeaderSize)/slotSize(8, scb.Broadcast) + 1, ItemSize: 8}},
		{"Length x 1 GiB items overflows", scb.Options{Length: math.MaxInt / (1 << 29), ItemSize: 1 << 30}},
		{"mode 3", scb.Options{Mode: 3}},
		{"mode 255", scb.Options{Mode: 255}},
		{"strategy 3", scb.Options{Strategy: 3}},
		{"strategy 255", scb.Options{Strategy: 255}},
	}
	for _, tt := range create {
		t.Run("Create/"+tt.why, func(t *testing.T) {
			o := tt.opts
			o.Dir = dir
			_, err := scb.Create("new", &o)
			skipUnsupported(t, err)
			require.ErrorIs(t, err, scb.ErrInvalidOptions)
			assert.True(t, strings.HasPrefix(err.Error(), `scb: create "new": invalid options: `), "message %q", err)
			assertUnchanged(t, dir, before)
		})
	}
	open := []struct {
		why  string
		opts scb.Options
	}{
		{"Length 1", scb.Options{Length: 1}},
		{"Length -7", scb.Options{Length: -7}},
		{"ItemSize -1", scb.Options{ItemSize: -1}},
		{"ItemSize above 1 GiB", scb.Options{ItemSize: 1<<30 + 1}},
		{"mode 3", scb.Options{Mode: 3}},
		{"strategy 9", scb.Options{Strategy: 9}},
	}
	for _, tt := range open {
		for _, ep := range entryPoints[1:3] { // OpenWriter, OpenReader
			t.Run(ep.name+"/"+tt.why, func(t *testing.T) {
				o := tt.opts
				o.Dir = dir
				err := ep.do("live", &o)
				require.ErrorIs(t, err, scb.ErrInvalidOptions)
				assertUnchanged(t, dir, before)
			})
		}
	}
}

// validFile makes a real buffer (Length 4, ItemSize 16, two items unread)
// and returns its bytes.
func validFile(t testing.TB, s scb.Strategy, m scb.Mode) []byte {
	t.Helper()
	o := &scb.Options{Dir: t.TempDir(), Length: 4, ItemSize: 16, Strategy: s, Mode: m}
	w, err := scb.Create("v", o)
	skipUnsupported(t, err)
	require.NoError(t, err)
	require.NoError(t, w.PushBytes([]byte("first")))
	require.NoError(t, w.PushBytes([]byte("second")))
	require.NoError(t, w.Close())
	data, err := os.ReadFile(filepath.Join(o.Dir, "v.scb"))
	require.NoError(t, err)
	return data
}

var le = binary.LittleEndian

// damage returns a copy of b changed by f, with the header checksum
// recomputed if reseal is set (so that the field itself is what is wrong).
func damage(b []byte, reseal bool, f func(b []byte) []byte) []byte {
	b = f(slices.Clone(b))
	if reseal && len(b) >= layout.OffChecksum+4 {
		layout.Seal(b)
	}
	return b
}

// badFiles are files that are not valid buffers, each with a word the error
// must contain.
func badFiles(good []byte) []struct {
	why, want string
	data      []byte
} {
	set64 := func(off int, v uint64) func([]byte) []byte {
		return func(b []byte) []byte { le.PutUint64(b[off:], v); return b }
	}
	set32 := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { le.PutUint32(b[off:], v); return b }
	}
	set8 := func(off int, v byte) func([]byte) []byte {
		return func(b []byte) []byte { b[off] = v; return b }
	}
	length := le.Uint64(good[layout.OffLength:])
	slot := uint64(le.Uint32(good[layout.OffSlotSize:]))
	return []struct {
		why, want string
		data      []byte
	}{
		{"zero-length file", "smaller than", []byte{}},
		{"shorter than the fixed fields", "smaller than", good[:40]},
		{"header only", fmt.Sprintf("file is %d bytes", layout.HeaderSize), good[:layout.HeaderSize]},
		{"one byte short", "header says", good[:len(good)-1]},
		{"one page long", "header says", append(slices.Clone(good), make([]byte, 4096)...)},
		{"all zeros", "magic", make([]byte, len(good))},
		{"wrong magic", "magic", damage(good, true, func(b []byte) []byte { b[layout.OffMagic] = 'X'; return b })},
		{"other version", fmt.Sprintf("version %d", layout.Version+1), damage(good, true, set32(layout.OffVersion, layout.Version+1))},
		{"older version", "recreate the buffer", damage(good, true, set32(layout.OffVersion, layout.Version-1))},
		{"version 0", "version 0", damage(good, true, set32(layout.OffVersion, 0))},
		{"bad checksum", "checksum", damage(good, false, func(b []byte) []byte { b[layout.OffChecksum] ^= 1; return b })},
		{"field changed, checksum not", "checksum", damage(good, false, set64(layout.OffLength, length+1))},
		{"other byte order", "byte order", damage(good, true, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[layout.OffByteOrder:], binary.NativeEndian.Uint32(b[layout.OffByteOrder:]))
			return b
		})},
		{"length 0", "length 0", damage(good, true, set64(layout.OffLength, 0))},
		{"length 1", "length 1", damage(good, true, set64(layout.OffLength, 1))},
		{"item size 0", "item size 0", damage(good, true, set32(layout.OffItemSize, 0))},
		{"item size above 1 GiB", "item size", damage(good, true, set32(layout.OffItemSize, 1<<30+1))},
		{"slot size wrong", "slot size", damage(good, true, set32(layout.OffSlotSize, uint32(slot)+8))},
		{"strategy 0", "strategy 0", damage(good, true, set8(layout.OffStrategy, 0))},
		{"strategy 3", "strategy 3", damage(good, true, set8(layout.OffStrategy, 3))},
		{"mode 0", "mode 0", damage(good, true, set8(layout.OffMode, 0))},
		{"mode 3", "mode 3", damage(good, true, set8(layout.OffMode, 3))},
		{"slots elsewhere", "slots at offset", damage(good, true, set64(layout.OffSlots, 0))},
		{"length x slot overflows", "does not add up", damage(good, true, set64(layout.OffLength, 1<<62))},
		{"length x slot near MaxInt64", "does not add up", damage(good, true, func(b []byte) []byte {
			n := uint64(math.MaxInt64/slot) - 1
			le.PutUint64(b[layout.OffLength:], n)
			le.PutUint64(b[layout.OffFileSize:], n*slot+layout.HeaderSize)
			return b
		})},
		{"recorded size disagrees with geometry", "does not add up", damage(good, true, set64(layout.OffFileSize, uint64(len(good))+8))},
		{"geometry consistent, file too short", "header says", damage(good, true, func(b []byte) []byte {
			size, _ := layout.FileSize(length*2, slot, b[layout.OffMode] == layout.ModeBroadcast)
			le.PutUint64(b[layout.OffLength:], length*2)
			le.PutUint64(b[layout.OffFileSize:], size)
			return b
		})},
	}
}

// TestBadFilesRefused puts each bad file where a buffer is expected and
// checks that every opener refuses it with ErrCorrupt before creating or
// changing anything, that List reports it, that Create does not replace it,
// and that Remove takes it away.
func TestBadFilesRefused(t *testing.T) {
	good := validFile(t, scb.Atomic, scb.Queue)
	for _, tt := range badFiles(good) {
		t.Run(tt.why, func(t *testing.T) {
			dir := t.TempDir()
			o := &scb.Options{Dir: dir}
			require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.scb"), tt.data, 0o600))
			before := snapshot(t, dir)
			for _, ep := range entryPoints[1:4] { // OpenWriter, OpenReader, Stat
				err := ep.do("bad", o)
				require.ErrorIs(t, err, scb.ErrCorrupt, ep.name)
				assert.Contains(t, err.Error(), tt.want, ep.name)
				assert.Regexp(t, `^scb: (open|stat) "bad": corrupt buffer file: `, err.Error())
				assertUnchanged(t, dir, before, "%s changed the directory", ep.name)
			}
			infos, err := scb.List(dir)
			require.ErrorIs(t, err, scb.ErrCorrupt)
			assert.Empty(t, infos)
			_, err = scb.Create("bad", o)
			skipUnsupported(t, err)
			require.ErrorIs(t, err, scb.ErrExist, "Create does not replace a file it cannot read")
			assertUnchanged(t, dir, before, "Create changed the directory")
			require.NoError(t, scb.Remove("bad", o), "Remove cleans up a corrupt file")
			left, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, left)
			w, err := scb.Create("bad", o)
			skipUnsupported(t, err)
			require.NoError(t, err, "the name is usable again")
			require.NoError(t, w.Close())
		})
	}
}

// TestBadCursorsRefusedAtOpen damages the shared cursors of a Queue buffer
// (which the checksum does not cover, since they move): openers and Stat
// refuse it with ErrCorrupt, and create no lock file on the way.
func TestBadCursorsRefusedAtOpen(t *testing.T) {
	for _, s := range strategies {
		good := validFile(t, s, scb.Queue) // head 2, tail 0, length 4
		head := func(b []byte) uint64 { return binary.NativeEndian.Uint64(b[layout.OffHead:]) }
		require.Equal(t, uint64(2), head(good))
		tests := []struct {
			why        string
			head, tail uint64
		}{
			{"read cursor past write cursor", 2, 3},
			{"write cursor more than Length ahead", 9, 4},
			{"write cursor at the top", math.MaxUint64, 0},
			{"read cursor at the top", 2, math.MaxUint64},
		}
		for _, tt := range tests {
			t.Run(s.String()+"/"+tt.why, func(t *testing.T) {
				dir := t.TempDir()
				data := slices.Clone(good)
				binary.NativeEndian.PutUint64(data[layout.OffHead:], tt.head)
				binary.NativeEndian.PutUint64(data[layout.OffTail:], tt.tail)
				require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.scb"), data, 0o600))
				before := snapshot(t, dir)
				for _, ep := range entryPoints[1:4] {
					err := ep.do("bad", &scb.Options{Dir: dir})
					require.ErrorIs(t, err, scb.ErrCorrupt, ep.name)
					assert.Contains(t, err.Error(), "cursor", ep.name)
					assertUnchanged(t, dir, before, "%s changed the directory", ep.name)
				}
			})
		}
	}
}

// TestNotARegularFile puts a directory, and (on Unix) a FIFO, where the
// buffer file should be: openers refuse without blocking, Create reports the
// name taken, and Remove refuses to delete what is not a buffer file.
func TestNotARegularFile(t *testing.T) {
	kinds := []struct {
		why  string
		make func(path string) error
	}{
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }},
	}
	kinds = append(kinds, specialFiles...)
	for _, k := range kinds {
		t.Run(k.why, func(t *testing.T) {
			dir := t.TempDir()
			o := &scb.Options{Dir: dir}
			require.NoError(t, k.make(filepath.Join(dir, "odd.scb")))
			before := snapshot(t, dir)
			for _, ep := range entryPoints[1:] {
				err := withTimeout(t, func() error { return ep.do("odd", o) })
				require.ErrorIs(t, err, scb.ErrCorrupt, ep.name)
				assert.Contains(t, err.Error(), "not a regular file", ep.name)
			}
			_, err := scb.Create("odd", o)
			skipUnsupported(t, err)
			require.ErrorIs(t, err, scb.ErrExist)
			_, err = scb.List(dir)
			require.ErrorIs(t, err, scb.ErrCorrupt)
			assertUnchanged(t, dir, before)
		})
	}
}

// withTimeout runs f and fails the test if it has not returned within
// a generous bound (a FIFO opened without O_NONBLOCK would hang forever).
func withTimeout(t testing.TB, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-timeAfter(waitBound):
		t.Fatalf("call did not return within %v", waitBound)
	}
	return errors.New("unreachable")
}
