package scbtest_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/record"
	"github.com/sharedcbuff/scb/scbtest"
)

// unusedEnv, when set, makes TestMain register a role no test starts (see
// TestNoLeftoverReportAfterASkip: a test skipped after it started a child
// (it found the platform lacking, say) is not told either.
func TestNoLeftoverReportAfterASkip(t *testing.T) {
	ft := &skippedT{fakeT: newFakeT(t)}
	scbtest.Start(ft, "hang").Expect("ready")
	ft.cleanup()
	assert.Empty(t, ft.errors)
}

// skippedT is a fakeT whose test was skipped.
type skippedT struct{ *fakeT }

func (s *skippedT) Skipped() bool { return true }

// TestUnusedRoleFailsTheRun).
const unusedEnv = "SCBTEST_TEST_UNUSED"

func TestMain(m *testing.M) {
	scbtest.Register("echo", func(args []string) error {
		fmt.Println("args", strconv.Quote(strings.Join(args, "|")), len(args))
		return nil
	})
	scbtest.Register("fail", func(args []string) error {
		fmt.Println("working")
		return errors.New("boom")
	})
	scbtest.Register("hang", func(args []string) error {
		fmt.Println("ready")
		hang()
		return nil
	})
	// tick prints the time every millisecond until it is killed.
	scbtest.Register("tick", func(args []string) error {
		for {
			fmt.Println("tick", time.Now().UnixNano())
			time.Sleep(time.Millisecond)
		}
	})
	// push opens the buffer args[0] by name alone (SCB_DIR says where),
	// pushes args[1] and, with a third argument "hold", keeps the writer
	// open until killed.
	scbtest.Register("push", func(args []string) error {
		w, err := scb.OpenWriter(args[0], nil)
		if err != nil {
			return err
		}
		v, err := strconv.ParseUint(args[1], 10, 64)
		if err != nil {
			return err
		}
		if err := w.Push(v); err != nil {
			return err
		}
		fmt.Println("pushed")
		if len(args) > 2 && args[2] == "hold" {
			hang()
		}
		return w.Close()
	})
	if os.Getenv(unusedEnv) != "" {
		scbtest.Register("never", func([]string) error { return nil })
	}
	scbtest.Main(m)
}

// hang never returns. (Not with select {}: on Windows the runtime finds
// every goroutine asleep and ends the process.)
func hang() {
	for {
		time.Sleep(time.Hour)
	}
}

func TestArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"none", nil},
		{"one", []string{"a"}},
		{"spaces and quotes", []string{"a b", `"c"`, `d\"e`, "f\\"}},
		{"empty and dashes", []string{"", "--", "-test.run=x"}},
		{"json", []string{`{"Role":"x","N":1}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := scbtest.Start(t, "echo", tt.args...)
			want := fmt.Sprintf("%s %d", strconv.Quote(strings.Join(tt.args, "|")), len(tt.args))
			assert.Equal(t, want, p.Expect("args"))
			p.Wait()
		})
	}
}

func TestExitStatus(t *testing.T) {
	p := scbtest.Start(t, "fail")
	p.Expect("working")
	code, rest := p.Exit()
	assert.Equal(t, 1, code)
	assert.Equal(t, []string{"error boom"}, rest)
	assert.Contains(t, p.Stderr(), "boom")

	rest, err := scbtest.Start(t, "fail").Result()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Equal(t, []string{"working", "error boom"}, rest)
}

func TestKill(t *testing.T) {
	p := scbtest.Start(t, "hang")
	p.Expect("ready")
	p.Kill()
	assert.False(t, p.Cmd.ProcessState.Success())
	if runtime.GOOS != "windows" {
		assert.Contains(t, p.Cmd.ProcessState.String(), "killed")
	}
	p.Kill() // a process that exited already is not an error
}

// TestStopContinue stops a process that prints the time every millisecond
// for 300 ms: its lines show a gap of that length, and resume after it.
func TestStopContinue(t *testing.T) {
	const pause = 300 * time.Millisecond
	p := scbtest.Start(t, "tick")
	tick := func() time.Duration {
		ns, err := strconv.ParseInt(p.Expect("tick"), 10, 64)
		require.NoError(t, err)
		return time.Duration(ns)
	}
	last := tick()
	p.Stop()
	time.Sleep(pause)
	p.Continue()
	for i := 0; ; i++ {
		now := tick()
		if now-last >= pause*9/10 {
			break // the gap
		}
		last = now
		// Lines printed before the stop are still in the pipe; the gap
		// comes once they are read.
		require.Less(t, i, 10_000, "no gap of %v in the child's ticks", pause)
	}
	p.Lines(10) // and it runs again
	p.Kill()
}

func TestTimeout(t *testing.T) {
	ft := newFakeT(t)
	p := scbtest.Start(ft, "hang")
	p.Expect("ready")
	p.SetTimeout(50 * time.Millisecond)
	ft.run(func() { p.Line() })
	require.Len(t, ft.fatals, 1)
	assert.Contains(t, ft.fatals[0], "no line within 50ms")
	ft.cleanup()
}

func TestUnknownRole(t *testing.T) {
	ft := newFakeT(t)
	ft.run(func() { scbtest.Start(ft, "no-such-role") })
	require.Len(t, ft.fatals, 1)
	assert.Contains(t, ft.fatals[0], `unknown role "no-such-role"`)
}

// TestDirReachesChildren: a child opens the test's buffer by name alone.
func TestDirReachesChildren(t *testing.T) {
	dir := scbtest.Dir(t)
	w, err := scb.Create("jobs", &scb.Options{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	r, err := scb.OpenReader("jobs", &scb.Options{Dir: dir})
	require.NoError(t, err)
	defer r.Close()
	p := scbtest.Start(t, "push", "jobs", "42")
	p.Expect("pushed")
	p.Wait()
	v, err := r.Pop()
	require.NoError(t, err)
	assert.Equal(t, uint64(42), v)
}

// TestDirReachesSubtests: a subtest's children get the Dir of the test it
// belongs to.
func TestDirReachesSubtests(t *testing.T) {
	dir := scbtest.Dir(t)
	w, err := scb.Create("jobs", &scb.Options{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	t.Run("sub", func(t *testing.T) {
		t.Run("subsub", func(t *testing.T) {
			scbtest.Start(t, "push", "jobs", "7").Wait()
		})
	})
	r, err := scb.OpenReader("jobs", &scb.Options{Dir: dir})
	require.NoError(t, err)
	defer r.Close()
	v, err := r.Pop()
	require.NoError(t, err)
	assert.Equal(t, uint64(7), v)
}

// TestLeftovers: the harness fails a test that leaves a child running or a
// buffer open, and says nothing when it leaves neither.
func TestLeftovers(t *testing.T) {
	tests := []struct {
		name   string
		body   func(t testing.TB, dir string) (closer func())
		errors []string
	}{
		{"nothing left", func(t testing.TB, dir string) func() {
			w, err := scb.Create("b", &scb.Options{Dir: dir})
			require.NoError(t, err)
			require.NoError(t, w.Close())
			p := scbtest.Start(t, "push", "b", "1")
			p.Wait()
			scbtest.Start(t, "echo") // exits by itself: not a leftover
			return nil
		}, nil},
		{"child running", func(t testing.TB, dir string) func() {
			scbtest.Start(t, "hang").Expect("ready")
			return nil
		}, []string{"child hang (pid ", "still running at the end of the test"}},
		{"handle open", func(t testing.TB, dir string) func() {
			w, err := scb.Create("b", &scb.Options{Dir: dir})
			require.NoError(t, err)
			return func() { w.Close() }
		}, []string{`buffer "b" is still open`, "a writer of this process"}},
		{"child holding a buffer", func(t testing.TB, dir string) func() {
			w, err := scb.Create("b", &scb.Options{Dir: dir})
			require.NoError(t, err)
			require.NoError(t, w.Close())
			scbtest.Start(t, "push", "b", "1", "hold").Expect("pushed")
			return nil
		}, []string{"still running"}}, // killed then, so the buffer is free
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "handle open" && runtime.GOOS != "linux" && runtime.GOOS != "windows" {
				t.Skip("no holder locks on " + runtime.GOOS + ": nothing proves a handle open")
			}
			ft := newFakeT(t)
			var closer func()
			ft.run(func() { closer = tt.body(ft, scbtest.Dir(ft)) })
			require.Empty(t, ft.fatals)
			ft.cleanup()
			if closer != nil {
				closer()
			}
			got := strings.Join(ft.errors, "\n")
			if tt.errors == nil {
				assert.Empty(t, got)
			}
			for _, e := range tt.errors {
				assert.Contains(t, got, e)
			}
			if holdingChild := tt.name == "child holding a buffer"; holdingChild {
				assert.NotContains(t, got, "is still open", "the child was killed before the buffers were looked at")
			}
		})
	}
}

// TestNoLeftoverReportAfterAFailure: a test that failed already is not
// told about its leftovers too.
func TestNoLeftoverReportAfterAFailure(t *testing.T) {
	ft := newFakeT(t)
	scbtest.Start(ft, "hang").Expect("ready")
	ft.Errorf("the test's own failure")
	ft.cleanup()
	assert.Equal(t, []string{"the test's own failure"}, ft.errors)
}

// TestUnusedRoleFailsTheRun runs this package's tests again with a role
// that no test starts: the run fails and names it.
func TestUnusedRoleFailsTheRun(t *testing.T) {
	if os.Getenv(unusedEnv) != "" {
		t.Skip("running inside TestUnusedRoleFailsTheRun")
	}
	if testing.Short() && runtime.GOOS == "windows" {
		t.Skip("runs this package's tests again: too slow for -short under Wine")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	p := scbtest.StartCmd(t, func() *exec.Cmd {
		cmd := exec.Command(exe, "-test.short")
		cmd.Env = append(os.Environ(), unusedEnv+"=1")
		return cmd
	})
	code, _ := p.Exit()
	assert.Equal(t, 1, code, "stderr:\n%s", p.Stderr())
	assert.Contains(t, p.Stderr(), `scbtest: role "never" is registered but no test started it`)
	assert.NotContains(t, p.Stderr(), `role "echo"`, "the roles the tests started are not named")
}

// fakeT is a testing.TB that records failures and cleanups instead of
// acting on them, so that the harness's own verdicts can be checked.
type fakeT struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	fatals   []string
	cleanups []func()
}

func newFakeT(t *testing.T) *fakeT { return &fakeT{TB: t} }

func (f *fakeT) Helper() {}

func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeT) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

func (f *fakeT) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors)+len(f.fatals) > 0
}

func (f *fakeT) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// run calls fn on a goroutine of its own, as a test body, so that Fatalf
// can end it.
func (f *fakeT) run(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// cleanup runs the recorded cleanups, last first, as the testing package
// does.
func (f *fakeT) cleanup() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.cleanups = nil
}

// TestReplay replays a recording into a buffer, and fails the test for a
// file that is not one.
func TestReplay(t *testing.T) {
	dir := scbtest.Dir(t)
	file := filepath.Join(t.TempDir(), "three.scbrec")
	var b bytes.Buffer
	rw, err := record.NewWriter(&b, record.Header{Mode: scb.Queue, ItemSize: 8, Name: "x"})
	require.NoError(t, err)
	now := time.Now()
	for i := range 3 {
		require.NoError(t, rw.Add(uint64(i), now, binary.BigEndian.AppendUint64(nil, uint64(10+i))))
	}
	require.NoError(t, rw.Close())
	require.NoError(t, os.WriteFile(file, b.Bytes(), 0o644))

	w, err := scb.Create("q", &scb.Options{Dir: dir})
	require.NoError(t, err)
	defer w.Close()
	assert.Equal(t, 3, scbtest.Replay(t, file, w))
	r, err := scb.OpenReader("q", &scb.Options{Dir: dir})
	require.NoError(t, err)
	defer r.Close()
	got, err := r.PopMany(10)
	require.NoError(t, err)
	assert.Equal(t, []uint64{10, 11, 12}, got)

	bad := filepath.Join(t.TempDir(), "bad")
	require.NoError(t, os.WriteFile(bad, []byte("not a recording"), 0o644))
	ft := newFakeT(t)
	ft.run(func() { scbtest.Replay(ft, bad, w) })
	require.Len(t, ft.fatals, 1)
	assert.Contains(t, ft.fatals[0], "not a valid recording")
}
