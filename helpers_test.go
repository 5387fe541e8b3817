package scb_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/scbtest"
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

// atomicProbe is what Create said, once, to an Atomic buffer.
var atomicProbe struct {
	once sync.Once
	err  error
}

// needAtomic skips t, with the reason, where the Atomic strategy is not
// offered (the 32-bit architectures whose 64-bit atomics take a lock private
// to the process: arm, mips; see atomic64_*.go). Create refuses it there
// with ErrUnsupported; the Flock cases of the same tests still run. roles
// are the child roles the test would start (see scbtest.Skip).
func needAtomic(t testing.TB, roles ...string) {
	t.Helper()
	atomicProbe.once.Do(func() {
		w, err := scb.Create("probe", &scb.Options{Dir: t.TempDir(), Strategy: scb.Atomic})
		if err == nil {
			err = w.Close()
		}
		atomicProbe.err = err
	})
	if errors.Is(atomicProbe.err, scb.ErrUnsupported) {
		scbtest.Skip(t, fmt.Sprintf("the Atomic strategy is not offered on %s: %v", runtime.GOARCH, atomicProbe.err), roles...)
	}
}

// needLockWords skips t where there are no holder locks (every platform
// but Linux and Windows): nothing proves who is attached there, and Stat
// lists nobody. roles are the child roles the test would start.
func needLockWords(t testing.TB, roles ...string) {
	t.Helper()
	if !scb.LockWords {
		scbtest.Skip(t, "no holder locks on "+runtime.GOOS, roles...)
	}
}

// skipUnsupported skips t, with the reason, when err, from a Create, is
// ErrUnsupported because the Atomic strategy is not offered here (see
// needAtomic); anywhere else the caller's check of err fails as usual.
func skipUnsupported(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, scb.ErrUnsupported) {
		needAtomic(t)
	}
}

// usesAtomic reports whether o asks for the Atomic strategy (the default).
func usesAtomic(o *scb.Options) bool {
	return o == nil || o.Strategy == 0 || o.Strategy == scb.Atomic
}

// create makes a buffer and closes its writer when the test ends. It skips
// the test where the buffer would be Atomic and Atomic is not offered.
func create(t testing.TB, name string, o *scb.Options) *scb.Writer {
	t.Helper()
	if usesAtomic(o) {
		needAtomic(t)
	}
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
			t.Run(s.String()+"/"+m.String(), func(t *testing.T) {
				if s == scb.Atomic {
					needAtomic(t)
				}
				f(t, s, m)
			})
		}
	}
}

// forEachLayout runs f as forEach does, for each slot layout too:
// "<strategy>/<mode>/lengths" with lengths in the slots, and
// "<strategy>/<mode>/fixed" with fixed-size items (Options.FixedSize).
func forEachLayout(t *testing.T, f func(t *testing.T, s scb.Strategy, m scb.Mode, fixed bool)) {
	t.Helper()
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		for _, fixed := range []bool{false, true} {
			name := "lengths"
			if fixed {
				name = "fixed"
			}
			t.Run(name, func(t *testing.T) { f(t, s, m, fixed) })
		}
	})
}

// forEachStrategy runs f as a subtest "<strategy>" for every strategy.
func forEachStrategy(t *testing.T, f func(t *testing.T, s scb.Strategy)) {
	t.Helper()
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) {
			if s == scb.Atomic {
				needAtomic(t)
			}
			f(t, s)
		})
	}
}

// needLeases skips a leased-read test of a Flock buffer where there are
// no holder locks (macOS, the BSDs), after checking that Take says so with
// ErrUnsupported.
func needLeases(t *testing.T, s scb.Strategy) {
	t.Helper()
	if s != scb.Flock || scb.LockWords {
		return
	}
	o := newOpts(t, s, scb.Queue)
	w := create(t, "noleases", o)
	r := openReader(t, "noleases", at(o))
	require.NoError(t, w.Push(1))
	_, _, err := r.Take()
	require.ErrorIs(t, err, scb.ErrUnsupported)
	t.Skip("no holder locks on this platform: Flock readers take under the file lock, without leases")
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

// skipOnWindows skips a test of a behaviour Windows does not have, saying
// which. Roles the test would start are named, for scbtest.
func skipOnWindows(t *testing.T, reason string, roles ...string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		scbtest.Skip(t, reason, roles...)
	}
}

// slotSize is the size of a slot of mode m holding items of up to
// itemSize bytes, with their lengths (internal/layout).
func slotSize(itemSize int, m scb.Mode) int {
	return int(layout.SlotSize(uint64(itemSize), m == scb.Broadcast, false))
}

// slotLen is the offset of the item length in a slot of mode m.
func slotLen(m scb.Mode) int64 { return int64(layout.LenOffset(m == scb.Broadcast)) }

// childTimeout bounds every child process and every wait on one.
const childTimeout = scbtest.Timeout

func TestMain(m *testing.M) { scbtest.Main(m) }

// role registers a child role that works on the buffer NAME in the
// directory DIR, within childTimeout. Its parameters come as KEY=VALUE
// arguments (see startChild), which param reads.
func role(name string, run func(ctx context.Context, name string, o *scb.Options) error) {
	scbtest.Register(name, func(args []string) error {
		params = map[string]string{}
		for _, a := range args {
			k, v, _ := strings.Cut(a, "=")
			params[k] = v
		}
		ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
		defer cancel()
		return run(ctx, param("NAME"), &scb.Options{Dir: param("DIR")})
	})
}

// params holds a child's parameters, by name.
var params map[string]string

// param returns the child's parameter key, or "" if it has none.
func param(key string) string { return params[key] }

// args turns named parameters into a child's KEY=VALUE arguments.
func args(ps map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(ps)) {
		out = append(out, k+"="+ps[k])
	}
	return out
}

// startChild starts a child in role with the named parameters ps.
func startChild(t testing.TB, role string, ps map[string]string) *scbtest.Proc {
	t.Helper()
	return scbtest.Start(t, role, args(ps)...)
}

// startChildWith is startChild with a hook that adjusts the command (its
// SysProcAttr, say) before it starts.
func startChildWith(t testing.TB, role string, ps map[string]string, setup func(*exec.Cmd)) *scbtest.Proc {
	t.Helper()
	return scbtest.StartCmd(t, func() *exec.Cmd {
		cmd := scbtest.Command(t, role, args(ps)...)
		setup(cmd)
		return cmd
	})
}

func paramInt(key string) uint64 {
	v, err := strconv.ParseUint(param(key), 0, 64)
	if err != nil {
		panic(fmt.Sprintf("child parameter %s: %v", key, err))
	}
	return v
}

// ready opens a handle of the buffer name with open (scb.OpenReader,
// scb.OpenWriter), for a child role, and says "ready" on stdout once it is
// attached: what the parent waits for. The caller closes the handle.
func ready[H any](name string, o *scb.Options, open func(string, *scb.Options) (H, error)) (H, error) {
	h, err := open(name, o)
	if err == nil {
		fmt.Println("ready")
	}
	return h, err
}

// waitAsleep waits until a reader of the buffer name sleeps in a blocking
// call.
func waitAsleep(t *testing.T, name string, o *scb.Options) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for {
		info, err := scb.Stat(name, o)
		require.NoError(t, err)
		if info.ReadersWaiting > 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "the reader never went to sleep")
		time.Sleep(time.Millisecond)
	}
}
