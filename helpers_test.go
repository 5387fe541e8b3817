package scb_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

// waitBound bounds a wait in a test that must not hang; it is generous, so
// that only a real hang (not a slow machine) trips it.
const waitBound = 30 * time.Second

var timeAfter = time.After

var errorsIs = errors.Is

// strategies and modes to run table tests over.
var (
	strategies = []scb.Strategy{scb.Atomic, scb.Flock}
	modes      = []scb.Mode{scb.Queue, scb.Broadcast}
)

// newOpts returns Options for a fresh directory of the test's own.
func newOpts(t testing.TB, s scb.Strategy, m scb.Mode) *scb.Options {
	t.Helper()
	return &scb.Options{Dir: t.TempDir(), Strategy: s, Mode: m}
}

// create makes a buffer and closes its writer when the test ends.
func create(t testing.TB, name string, o *scb.Options) *scb.Writer {
	t.Helper()
	w, err := scb.Create(name, o)
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	return w
}

func openReader(t testing.TB, name string, o *scb.Options) *scb.Reader {
	t.Helper()
	r, err := scb.OpenReader(name, o)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// at returns just the directory of o, so openers read the rest from the file.
func at(o *scb.Options) *scb.Options { return &scb.Options{Dir: o.Dir} }

// forEach runs f as a subtest "<strategy>/<mode>" (atomic/queue, ...) for
// every strategy and mode.
func forEach(t *testing.T, f func(t *testing.T, s scb.Strategy, m scb.Mode)) {
	t.Helper()
	for _, s := range strategies {
		for _, m := range modes {
			t.Run(s.String()+"/"+m.String(), func(t *testing.T) { f(t, s, m) })
		}
	}
}

// forEachStrategy runs f as a subtest "<strategy>" for every strategy.
func forEachStrategy(t *testing.T, f func(t *testing.T, s scb.Strategy)) {
	t.Helper()
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) { f(t, s) })
	}
}

// forEachMode runs f as a subtest "<mode>" for every mode.
func forEachMode(t *testing.T, f func(t *testing.T, m scb.Mode)) {
	t.Helper()
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) { f(t, m) })
	}
}

// sized returns full, or small under -short: kill rounds, long streams and
// long loops shrink in short mode rather than being skipped.
func sized[T int | time.Duration](full, small T) T {
	if testing.Short() {
		return small
	}
	return full
}
