// Package child runs copies of the current executable in named roles, the
// way the standard library's os/exec and cmd/go lockedfile tests do: the
// parent starts the executable again with an environment variable naming
// the child's role, and the child's main (or TestMain) calls Run first
// thing, which runs the role and reports the exit code.
//
// A child gets the arguments its parent gave (after "--" on its command
// line) and talks to its parent on standard output, one line at a time
// ("ready", "ok 42", ...); every wait on a child is bounded, by Timeout
// unless the parent sets another bound.
//
// The package is used by scb bench at run time, and it is the
// implementation of the public package scbtest, which every package's
// tests use.
package child

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"
)

// roleEnv names the role of a child process.
const roleEnv = "SCB_CHILD"

// Timeout bounds every wait on a child.
const Timeout = 2 * time.Minute

// maxLine bounds a line of a child's standard output.
const maxLine = 1 << 20

var (
	mu      sync.Mutex
	roles   = map[string]func(args []string) error{}
	started = map[string]bool{}
)

// Register makes role available to children; call it from an init
// function or TestMain. A child in role calls run with the arguments its
// parent gave. It panics if the role is already registered.
func Register(role string, run func(args []string) error) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := roles[role]; ok {
		panic(fmt.Sprintf("child: role %q registered twice", role))
	}
	roles[role] = run
}

// Run runs the role this process was started for, if any. It reports
// ok = false when the process is not a child; otherwise the caller should
// exit with code: 0 when the role succeeded, 1 when it failed (the error is
// printed to standard error and, as "error ...", to standard output), 2 for
// a role that is not registered.
func Run() (code int, ok bool) {
	role := os.Getenv(roleEnv)
	if role == "" {
		return 0, false
	}
	// Not for the role's own children (scb bench, run by a role, would
	// take itself for a child).
	os.Unsetenv(roleEnv)
	mu.Lock()
	run := roles[role]
	mu.Unlock()
	if run == nil {
		fmt.Fprintf(os.Stderr, "child: unknown role %q\n", role)
		return 2, true
	}
	if err := run(args()); err != nil {
		fmt.Println("error", err)
		fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
		return 1, true
	}
	return 0, true
}

// args returns the arguments after the first "--" of the command line,
// which Command puts there.
func args() []string {
	for i, a := range os.Args[1:] {
		if a == "--" {
			return os.Args[i+2:]
		}
	}
	return nil
}

// Command returns a command that runs this executable again as role, with
// the given arguments. The caller may adjust it (its Env, ExtraFiles or
// SysProcAttr, say) before it passes it to Start.
func Command(role string, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	mu.Lock()
	_, ok := roles[role]
	started[role] = true
	mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("child: unknown role %q", role)
	}
	// A test binary that did not dispatch would run its tests: run none.
	// Everything after "--" is left alone by the flag package.
	cmd := exec.Command(exe, append([]string{"-test.run=^$", "--"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, roleEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, roleEnv+"="+role, QuickRaceExit())
	return cmd, nil
}

// Registered returns the registered roles, sorted.
func Registered() []string {
	mu.Lock()
	defer mu.Unlock()
	var rs []string
	for r := range roles {
		rs = append(rs, r)
	}
	sort.Strings(rs)
	return rs
}

// Started reports whether Command was called for role in this process.
func Started(role string) bool {
	mu.Lock()
	defer mu.Unlock()
	return started[role]
}

// QuickRaceExit returns a GORACE setting, keeping the caller's options,
// that stops a race-enabled child from sleeping a second at exit (the race
// detector's default), which would dominate short measurements and tests.
// Programs built without -race ignore it.
func QuickRaceExit() string {
	return "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")
}

// Proc is a running process whose standard output is read line by line
// as it comes, so that it never blocks on a full pipe.
type Proc struct {
	Cmd     *exec.Cmd
	lines   chan string // standard output; closed at EOF
	stderr  lockedBuffer
	done    chan error    // Wait's result, once it is known
	exited  chan struct{} // closed once the process exited and was waited for
	timeout time.Duration // bounds every wait; Timeout unless SetTimeout
}

// Start starts cmd, which must not have its Stdout or Stderr set.
func Start(cmd *exec.Cmd) (*Proc, error) {
	p := &Proc{Cmd: cmd, lines: make(chan string, 1<<16), done: make(chan error, 1),
		exited: make(chan struct{}), timeout: Timeout}
	cmd.Stderr = &p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, maxLine)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		if err := sc.Err(); err != nil {
			// A line too long: say so where Line reports, and drain the
			// rest so that the process never blocks on a full pipe.
			fmt.Fprintf(&p.stderr, "\n(child: reading its standard output: %v)\n", err)
			io.Copy(io.Discard, out)
		}
		close(p.lines)
		err := cmd.Wait()
		close(p.exited)
		p.done <- err
	}()
	return p, nil
}

// SetTimeout makes d the bound of every later wait on the process (Line,
// Expect, Wait, Kill) instead of Timeout.
func (p *Proc) SetTimeout(d time.Duration) { p.timeout = d }

// Exited reports whether the process exited within d (0 to look without
// waiting). Waiting, it discards the lines of standard output that nobody
// read, so that a process with more of them than the Proc keeps can end.
func (p *Proc) Exited(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-p.exited:
			return true
		default:
			return false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	lines := p.lines
	for {
		select {
		case <-p.exited:
			return true
		case _, ok := <-lines:
			if !ok {
				lines = nil
			}
		case <-t.C:
			return false
		}
	}
}

// Stderr returns what the process wrote to standard error so far.
func (p *Proc) Stderr() string {
	p.stderr.mu.Lock()
	defer p.stderr.mu.Unlock()
	return p.stderr.b.String()
}

// Line returns the next line of the process's standard output. It returns
// an error wrapping ErrExited when the process closed its output first, and
// an error when no line comes in time (see SetTimeout).
func (p *Proc) Line() (string, error) {
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", fmt.Errorf("%w; stderr:\n%s", ErrExited, p.Stderr())
		}
		return line, nil
	case <-time.After(p.timeout):
		return "", fmt.Errorf("no line within %v; stderr:\n%s", p.timeout, p.Stderr())
	}
}

// ErrExited is returned by Line and Expect when the process closed its
// standard output (it exited, most likely) before the line came.
var ErrExited = errors.New("child exited")

// Expect waits for the next line, which must be word or start with word
// and a space, and returns the rest of the line.
func (p *Proc) Expect(word string) (string, error) {
	line, err := p.Line()
	if err != nil {
		return "", fmt.Errorf("waiting for %q: %w", word, err)
	}
	if line == word {
		return "", nil
	}
	if rest, ok := strings.CutPrefix(line, word+" "); ok {
		return strings.TrimSpace(rest), nil
	}
	return "", fmt.Errorf("child said %q, want %q; stderr:\n%s", line, word, p.Stderr())
}

// Wait waits for the process to exit, at most its timeout (see SetTimeout),
// and returns the rest of its standard output and the error from
// exec.Cmd.Wait.
func (p *Proc) Wait() ([]string, error) {
	var rest []string
	deadline := time.After(p.timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if ok {
				rest = append(rest, line)
				continue
			}
		case <-deadline:
			return rest, fmt.Errorf("did not exit within %v; stderr:\n%s", p.timeout, p.Stderr())
		}
		break
	}
	select {
	case err := <-p.done:
		p.done <- err // for the next call
		return rest, err
	case <-deadline:
		return rest, fmt.Errorf("did not exit within %v; stderr:\n%s", p.timeout, p.Stderr())
	}
}

// Kill ends the process with SIGKILL (TerminateProcess on Windows) and
// waits for it to exit, at most its timeout. A process that already exited is
// not an error.
func (p *Proc) Kill() error {
	if p.Exited(0) {
		return nil // and on Windows its handle is gone: Kill would say EINVAL
	}
	err := p.Cmd.Process.Kill()
	if _, werr := p.Wait(); werr != nil && !isExit(werr) {
		return werr
	}
	if err != nil && (errors.Is(err, os.ErrProcessDone) || p.Exited(0)) {
		return nil // it exited by itself first
	}
	return err
}

// isExit reports whether err is a process's exit status (killed counts).
func isExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// lockedBuffer lets the parent read a child's standard error while the
// child writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(b)
}
