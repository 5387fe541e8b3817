// Package scbtest runs the processes of a multiprocess test: children of
// the test binary, each in a named role, that pass data to each other
// through scb buffers.
//
// A test package registers its roles and hands its TestMain to Main:
//
//	func TestMain(m *testing.M) {
//		scbtest.Register("producer", produce) // produce(args []string) error
//		scbtest.Main(m)
//	}
//
// A test then makes a directory for its buffers with Dir, creates them
// there, and starts children by role with Start, passing names and
// numbers as arguments. A child started after Dir finds the directory in
// SCB_DIR, so scb.Open(name, nil) in the child opens the test's buffer.
// The child's role runs instead of the tests, and its process exits with
// status 0 when the role returns nil, 1 when it returns an error (printed
// to standard error, and to standard output as "error ..."), and 2 for a
// role that is not registered.
//
// A child talks to the test on its standard output, one line at a time:
// Proc.Expect waits for a line such as "ready" or "ok 42". Every line a
// role writes there is read by Line or Expect in turn, so a role logs to
// standard error. Every wait on a
// child is bounded (by Timeout unless Proc.SetTimeout says otherwise) and
// fails the test when the child exits or falls silent first, with what the
// child wrote to standard error.
//
// The harness fails a test for what it leaves behind: a child still
// running at the end of the test (wait for it, or kill it), and a buffer
// in its Dir still held open, by the test or by any process. Either way
// the children are then killed. A test that failed or was skipped is not
// told: its children are killed quietly. Dir, Start and the rest are safe
// in parallel tests (Dir sets no environment variable of the test
// process). And after a
// complete run of the package's tests, Main fails if a registered role was
// never started: a role no test uses any more.
//
// Replay plays a recording (a file in testdata, made with "scb record")
// into a buffer the test created, so that a test gets the same input every
// run.
//
// Proc.Kill, Stop and Continue send SIGKILL, SIGSTOP and SIGCONT; on
// Windows they call TerminateProcess, NtSuspendProcess and NtResumeProcess,
// which Wine implements too.
package scbtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/child"
	"github.com/sharedcbuff/scb/record"
)

var (
	mu      sync.Mutex
	skipped = map[string]bool{}   // roles whose tests were skipped, by Skip
	dirs    = map[string]string{} // each test's Dir, by test name
)

// Timeout bounds every wait on a child, unless Proc.SetTimeout sets
// another bound.
const Timeout = 2 * time.Minute

// Register makes role available to children: a child started in role runs
// run with the arguments the test gave Start. Call it from TestMain before
// Main, or from an init function. It panics if role is already
// registered.
func Register(role string, run func(args []string) error) {
	child.Register(role, run)
}

// Main is the body of TestMain for a package whose tests start children.
// In a child, it runs the child's role and exits with its status. In the
// test process, it runs the tests and exits with their status, failing a
// complete run (no -test.run, -test.skip or -test.list) that never started
// a registered role nor named it in Skip.
func Main(m *testing.M) {
	if code, ok := child.Run(); ok {
		os.Exit(code)
	}
	code := m.Run()
	if code == 0 && complete() {
		for _, role := range child.Registered() {
			mu.Lock()
			unused := !skipped[role] && !child.Started(role)
			mu.Unlock()
			if unused {
				fmt.Fprintf(os.Stderr, "scbtest: role %q is registered but no test started it\n", role)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// complete reports whether every test of the package was asked to run
// (and this is not a fuzzing run, or one of its workers).
func complete() bool {
	for _, name := range []string{"test.run", "test.skip", "test.list", "test.fuzz"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		return false
	}
	return true
}

// Skip skips the test, which would have started the given roles, saying
// why; Main then does not count the roles as unused.
func Skip(t testing.TB, reason string, roles ...string) {
	t.Helper()
	mu.Lock()
	for _, r := range roles {
		skipped[r] = true
	}
	mu.Unlock()
	t.Skip(reason)
}

// Dir returns a new directory for the test's buffers, removed at the end
// of the test, and passes it to the children the test and its subtests
// start after it, in the environment variable SCB_DIR. At the end of the
// test, after its children are gone, the test fails if a buffer in the
// directory is still held open (a handle not closed), naming each holder;
// that check needs holder locks, which Linux and Windows have (see
// scb.Info.Holders), and finds nothing elsewhere.
func Dir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	mu.Lock()
	dirs[t.Name()] = dir
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		delete(dirs, t.Name())
		mu.Unlock()
		if t.Failed() || t.Skipped() {
			return
		}
		infos, err := scb.List(dir)
		if err != nil {
			t.Errorf("scbtest: listing the buffers left in %s: %v", dir, err)
			return
		}
		for _, in := range infos {
			if len(in.Holders) > 0 {
				t.Errorf("scbtest: buffer %q is still open at the end of the test: %s", in.Name, holders(in.Holders))
			}
		}
	})
	return dir
}

// holders describes the holders of a buffer for Dir's message.
func holders(hs []scb.Holder) string {
	var b strings.Builder
	for i, h := range hs {
		if i > 0 {
			b.WriteString(", ")
		}
		role := "a reader"
		if h.Writer {
			role = "a writer"
		}
		if h.Pid == os.Getpid() {
			fmt.Fprintf(&b, "%s of this process (the test's own handle, not closed)", role)
		} else {
			fmt.Fprintf(&b, "%s of process %d", role, h.Pid)
		}
	}
	return b.String()
}

// Command returns a command that runs the test binary again in role, with
// the given arguments, for StartCmd; the test may add to its Env, or set
// its ExtraFiles or SysProcAttr. It sets SCB_DIR to the test's Dir, if it
// has one.
func Command(t testing.TB, role string, args ...string) *exec.Cmd {
	t.Helper()
	cmd, err := child.Command(role, args...)
	if err != nil {
		t.Fatal(err)
	}
	if dir, ok := dirOf(t.Name()); ok {
		cmd.Env = append(cmd.Env, "SCB_DIR="+dir)
	}
	return cmd
}

// dirOf returns the Dir of the test named name, or of the nearest test
// it is a subtest of.
func dirOf(name string) (string, bool) {
	mu.Lock()
	defer mu.Unlock()
	for {
		if dir, ok := dirs[name]; ok {
			return dir, true
		}
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return "", false
		}
		name = name[:i]
	}
}

// Start starts the test binary again in role, with the given arguments.
func Start(t testing.TB, role string, args ...string) *Proc {
	t.Helper()
	return StartCmd(t, func() *exec.Cmd { return Command(t, role, args...) })
}

// StartCmd starts the command mk makes: one from Command, or any program
// (one the test built, say). Its standard output and standard error are
// read as they come, so mk must leave them unset. A start that fails for
// reasons outside the program (Wine's CreateProcess, now and then, on a
// busy machine) is tried again with a fresh command from mk, three times
// at most.
func StartCmd(t testing.TB, mk func() *exec.Cmd) *Proc {
	t.Helper()
	var cmd *exec.Cmd
	p, err := child.StartFresh(func() (*exec.Cmd, error) {
		cmd = mk()
		return cmd, nil
	})
	if err != nil {
		t.Fatalf("scbtest: starting %s: %v", cmd.Path, err)
	}
	pr := &Proc{Cmd: cmd, p: p, t: t}
	t.Cleanup(pr.cleanup)
	return pr
}

// Proc is a child process bound to a test: its methods fail the test when
// the process does not do what they wait for, so call them from the
// test's goroutine (as t.Fatal requires), and SetTimeout before the waits
// it bounds.
type Proc struct {
	// Cmd is the command the process runs.
	Cmd *exec.Cmd

	p      *child.Proc
	t      testing.TB
	reaped bool // Wait, Exit or Kill saw it exit
}

// leftoverGrace is how long a child the test did not wait for may take to
// exit on its own at the end of the test before it counts as left behind.
const leftoverGrace = time.Second

// cleanup fails the test if the process is still running at its end, and
// kills it.
func (p *Proc) cleanup() {
	if !p.reaped && !p.t.Failed() && !p.t.Skipped() && !p.p.Exited(leftoverGrace) {
		p.t.Errorf("scbtest: %s is still running at the end of the test: Wait for it or Kill it", p)
	}
	p.Cmd.Process.Kill()
	p.p.Wait()
}

// String names the process by its role (or program) and pid.
func (p *Proc) String() string {
	name := p.Cmd.Path
	for _, kv := range p.Cmd.Env {
		if r, ok := strings.CutPrefix(kv, "SCB_CHILD="); ok {
			name = "child " + r
		}
	}
	return fmt.Sprintf("%s (pid %d)", name, p.Pid())
}

// Pid returns the process's id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// SetTimeout makes d the bound of every later wait on the process, instead
// of Timeout.
func (p *Proc) SetTimeout(d time.Duration) { p.p.SetTimeout(d) }

// Stderr returns what the process wrote to its standard error so far.
func (p *Proc) Stderr() string { return p.p.Stderr() }

// Line returns the next line of the process's standard output.
func (p *Proc) Line() string {
	p.t.Helper()
	line, err := p.p.Line()
	if err != nil {
		p.t.Fatalf("scbtest: %s: %v", p, err)
	}
	return line
}

// Lines returns the next n lines of the process's standard output.
func (p *Proc) Lines(n int) []string {
	p.t.Helper()
	out := make([]string, 0, n)
	for len(out) < n {
		line, err := p.p.Line()
		if err != nil {
			p.t.Fatalf("scbtest: %s: after %d lines of %d: %v", p, len(out), n, err)
		}
		out = append(out, line)
	}
	return out
}

// Expect waits for the next line of the process's standard output, which
// must be word or start with word and a space, and returns the rest of the
// line.
func (p *Proc) Expect(word string) string {
	p.t.Helper()
	rest, err := p.p.Expect(word)
	if err != nil {
		p.t.Fatalf("scbtest: %s: %v", p, err)
	}
	return rest
}

// Wait waits for the process to exit and fails the test unless it
// succeeded (exit status 0).
func (p *Proc) Wait() {
	p.t.Helper()
	_, err := p.p.Wait()
	p.reaped = p.p.Exited(0)
	if err != nil {
		p.t.Fatalf("scbtest: %s failed: %v; stderr:\n%s", p, err, p.Stderr())
	}
}

// Result waits for the process to exit and returns the rest of its
// standard output and how it ended: nil, or exec.Cmd.Wait's error (an
// *exec.ExitError for a non-zero status or a signal). It fails the test
// only if the process does not exit in time.
func (p *Proc) Result() ([]string, error) {
	p.t.Helper()
	rest, err := p.p.Wait()
	p.reaped = p.p.Exited(0)
	if !p.reaped {
		p.t.Fatalf("scbtest: waiting for %s: %v", p, err)
	}
	return rest, err
}

// Exit waits for the process to exit and returns its exit status and the
// rest of its standard output; it fails the test if the process did not
// exit on its own (it was killed by a signal, or did not exit in time).
// On Windows a process killed by Kill exits with status 1, which Exit
// cannot tell from an exit of its own.
func (p *Proc) Exit() (int, []string) {
	p.t.Helper()
	rest, err := p.p.Wait()
	p.reaped = p.p.Exited(0)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, rest
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), rest
	}
	p.t.Fatalf("scbtest: waiting for %s: %v; stderr:\n%s", p, err, p.Stderr())
	return -1, rest
}

// Kill ends the process with SIGKILL (TerminateProcess on Windows) and
// waits for it. A process that already exited is not an error.
func (p *Proc) Kill() {
	p.t.Helper()
	err := p.p.Kill()
	p.reaped = p.p.Exited(0)
	if err != nil {
		p.t.Fatalf("scbtest: killing %s: %v", p, err)
	}
}

// Stop stops the process with SIGSTOP (on Windows, NtSuspendProcess
// suspends its threads) until Continue. A stopped process keeps its locks
// and its buffers' handles: to the others it is alive and slow. Windows
// counts suspensions: each Stop there needs its own Continue.
func (p *Proc) Stop() {
	p.t.Helper()
	if err := p.p.Stop(); err != nil {
		p.t.Fatalf("scbtest: stopping %s: %v", p, err)
	}
}

// Continue lets a process stopped by Stop run again (SIGCONT; on Windows,
// NtResumeProcess).
func (p *Proc) Continue() {
	p.t.Helper()
	if err := p.p.Continue(); err != nil {
		p.t.Fatalf("scbtest: continuing %s: %v", p, err)
	}
}

// Replay writes the items of the recording in file (one made by "scb
// record", or by package record) into w as fast as w takes them, and
// returns how many it wrote. It returns once every item is written, so
// before any reader runs, w's buffer must have room for them all (a
// Length of at least the recording's item count), or the readers must
// start first. It does not end the stream: call w.CloseWrite when the
// input is over. It fails the test if the file cannot be read, is
// damaged or cut short (where "scb replay" replays up to the cut, with a
// warning), w refuses an item, or w has no room for one within Timeout (a
// full queue that nobody reads). For a paced replay, use package record on
// a goroutine of the test's:
//
//	f, _ := os.Open(file)
//	rd, _ := record.NewReader(f)
//	go func() { _, err := record.Replay(ctx, rd, w, record.Pace{Recorded: true}); done <- err }()
func Replay(t testing.TB, file string, w *scb.Writer) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("scbtest: %v", err)
	}
	defer f.Close()
	rd, err := record.NewReader(f)
	if err != nil {
		t.Fatalf("scbtest: replaying %s: %v", file, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	n, err := record.Replay(ctx, rd, w, record.Pace{})
	if err != nil {
		t.Fatalf("scbtest: replaying %s into %q after %d items: %v", file, w.Name(), n, err)
	}
	return n
}
