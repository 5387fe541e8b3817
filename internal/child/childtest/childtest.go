// Package childtest holds the test side of package child: TestMain, roles
// that only tests use, and child processes bound to a test, which fail it
// instead of returning errors.
package childtest

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/sharedcbuff/scb/internal/child"
)

var (
	mu       sync.Mutex
	testOnly = map[string]bool{} // roles registered by Register
	skipped  = map[string]bool{} // roles whose tests were skipped, by Skip
)

// Register makes role available to children, like child.Register, and
// marks it as a role that only tests use: Main fails a complete run of the
// tests that never started it.
func Register(role string, run func() error) {
	child.Register(role, run)
	mu.Lock()
	testOnly[role] = true
	mu.Unlock()
}

// Main is TestMain for a package whose tests start children: in a child it
// runs the role; otherwise it runs the tests and returns the exit code.
//
// After a complete, successful run (no -test.run, -test.skip or
// -test.list), it fails if a role registered with Register was neither
// started nor named by a Skip: a role no test uses, as os/exec's tests
// check for their helper commands.
func Main(m *testing.M) int {
	if code, ok := child.Run(); ok {
		return code
	}
	code := m.Run()
	if code != 0 || !complete() {
		return code
	}
	for _, role := range child.Registered() {
		mu.Lock()
		unused := testOnly[role] && !skipped[role] && !child.Started(role)
		mu.Unlock()
		if unused {
			fmt.Fprintf(os.Stderr, "childtest: role %q is registered but no test started it\n", role)
			code = 1
		}
	}
	return code
}

// complete reports whether every test of the package was asked to run.
func complete() bool {
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
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

// Proc is a child process bound to a test: its methods fail the test when
// the process does not do what they wait for, and the test's cleanup kills
// it if it is still running.
type Proc struct {
	*child.Proc
	t testing.TB
}

// Start runs this executable again as role with the given parameters.
func Start(t testing.TB, role string, params map[string]string) *Proc {
	t.Helper()
	return StartWith(t, role, params, nil)
}

// StartWith is Start with a hook that may adjust the command (its
// SysProcAttr, say) before it starts.
func StartWith(t testing.TB, role string, params map[string]string, setup func(*exec.Cmd)) *Proc {
	t.Helper()
	return StartCmd(t, func() *exec.Cmd {
		cmd, err := child.Command(role, params)
		if err != nil {
			t.Fatal(err)
		}
		if setup != nil {
			setup(cmd)
		}
		return cmd
	})
}

// StartCmd starts the command mk makes (a program built by the test, say)
// and reads its standard output as it comes. A start that fails for
// reasons outside the program (see child.RetryStart) is tried again with
// a fresh command from mk.
func StartCmd(t testing.TB, mk func() *exec.Cmd) *Proc {
	t.Helper()
	var cmd *exec.Cmd
	p, err := child.StartFresh(func() (*exec.Cmd, error) {
		cmd = mk()
		return cmd, nil
	})
	if err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		p.Wait()
	})
	return &Proc{p, t}
}

// Line returns the next line of the process's standard output.
func (p *Proc) Line() string {
	p.t.Helper()
	line, err := p.Proc.Line()
	if err != nil {
		p.t.Fatal(err)
	}
	return line
}

// Lines returns the next n lines of the process's standard output.
func (p *Proc) Lines(n int) []string {
	p.t.Helper()
	out := make([]string, 0, n)
	for len(out) < n {
		line, err := p.Proc.Line()
		if err != nil {
			p.t.Fatalf("after %d lines of %d: %v", len(out), n, err)
		}
		out = append(out, line)
	}
	return out
}

// Expect waits for the next line, which must be word or start with word
// and a space, and returns the rest of the line.
func (p *Proc) Expect(word string) string {
	p.t.Helper()
	rest, err := p.Proc.Expect(word)
	if err != nil {
		p.t.Fatal(err)
	}
	return rest
}

// Wait waits for the process to exit and fails the test unless it
// succeeded.
func (p *Proc) Wait() {
	p.t.Helper()
	if _, err := p.Proc.Wait(); err != nil {
		p.t.Fatalf("child failed: %v; stderr:\n%s", err, p.Stderr())
	}
}

// Exit waits for the process to exit and returns its exit status and the
// rest of its standard output; it fails the test if the process did not
// exit on its own (it was killed by a signal, or did not exit in time).
func (p *Proc) Exit() (int, []string) {
	p.t.Helper()
	rest, err := p.Proc.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, rest
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), rest
	}
	p.t.Fatalf("waiting for %s: %v; stderr:\n%s", p.Cmd.Path, err, p.Stderr())
	return -1, rest
}

// Kill ends the process with SIGKILL (TerminateProcess on Windows) and
// waits for it.
func (p *Proc) Kill() {
	p.t.Helper()
	if err := p.Proc.Kill(); err != nil {
		p.t.Fatal(err)
	}
}
