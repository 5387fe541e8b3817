package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// childEnv names the job of a process started as the other end of a
// measurement. Programs that use this package call RunChild first thing in
// main (or TestMain), which runs the job when the variable is set.
const childEnv = "SCB_BENCH_CHILD"

// job is what a child does, passed as JSON in childEnv.
type job struct {
	Role  string // "consume" or "echo"
	Via   string // transport: "atomic", "flock", "pipe", "socket", "bare"
	Dir   string
	Name  string // scb buffer (consume) or the ping buffer (echo)
	Name2 string // the pong buffer (echo)
	File  string // the bare loop's mapping
	N     int    // items (or round trips) measured, after Warm more first
	Warm  int
	Shape Shape
	Wait  Wait
}

// RunChild runs the measurement job this process was started for, if any.
// It reports ok = false when the process is not a benchmark child;
// otherwise the caller should exit with code.
func RunChild() (code int, ok bool) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return 0, false
	}
	var j job
	if err := json.Unmarshal([]byte(spec), &j); err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 2, true
	}
	if err := runJob(j); err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1, true
	}
	return 0, true
}

// ready, warm and done are the child's lines on stdout: attached, the
// warm-up items are through, all items are through.
func ready() { fmt.Println("ready") }
func warm()  { fmt.Println("warm") }
func done()  { fmt.Println("done") }

// warmUp returns how many untimed items to move before n timed ones: a
// tenth, so that the processes have settled on their cores and the pages
// of the ring are mapped before the clock starts.
func warmUp(n int) int { return n / 10 }

func runJob(j job) error {
	switch j.Via {
	case "atomic", "flock":
		return scbChild(j)
	case "pipe", "socket":
		return streamChild(j)
	case "bare":
		return bareChild(j)
	}
	return fmt.Errorf("unknown transport %q", j.Via)
}

// childTimeout bounds every wait on a child.
const childTimeout = 2 * time.Minute

// proc is a running child.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr bytes.Buffer
	exited chan error
}

// start runs the job in a new process (this executable again), with files
// as its descriptors 3, 4, ..., and waits until it says ready.
func start(j job, files ...*os.File) (*proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	spec, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	p := &proc{lines: make(chan string, 4), exited: make(chan error, 1)}
	p.cmd = exec.Command(exe)
	p.cmd.Env = append(os.Environ(), childEnv+"="+string(spec), quickRaceExit())
	p.cmd.ExtraFiles = files
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.exited <- p.cmd.Wait()
	}()
	if err := p.expect("ready"); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// expect waits for the child's next line, which must be want.
func (p *proc) expect(want string) error {
	select {
	case line, ok := <-p.lines:
		if !ok {
			err := <-p.exited
			return fmt.Errorf("child exited (%v) before saying %q: %s", err, want, strings.TrimSpace(p.stderr.String()))
		}
		if line != want {
			return fmt.Errorf("child said %q, want %q", line, want)
		}
		return nil
	case <-time.After(childTimeout):
		return fmt.Errorf("child did not say %q within %v", want, childTimeout)
	}
}

// finish waits for "done" and for the child to exit successfully.
func (p *proc) finish() error {
	if err := p.expect("done"); err != nil {
		p.kill()
		return err
	}
	for range p.lines {
	}
	select {
	case err := <-p.exited:
		if err != nil {
			return fmt.Errorf("child: %w: %s", err, strings.TrimSpace(p.stderr.String()))
		}
		return nil
	case <-time.After(childTimeout):
		p.kill()
		return errors.New("child did not exit")
	}
}

func (p *proc) kill() {
	p.cmd.Process.Kill()
	for range p.lines {
	}
}

// quickRaceExit returns a GORACE setting, keeping the caller's options, that
// stops a race-enabled child from sleeping a second at exit (the race
// detector's default), which would dominate short measurements and tests.
// Programs built without -race ignore it.
func quickRaceExit() string {
	return "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")
}
