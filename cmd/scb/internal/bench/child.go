package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/sharedcbuff/scb/internal/child"
)

// A measurement's far end is a child process (package child) in the role
// "bench", with its job as JSON in its one argument. Programs that use this
// package call RunChild first thing in main (or TestMain), which runs the
// job when the process was started for one.
const role = "bench"

func init() {
	child.Register(role, func(args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("want the job as one argument, got %d arguments", len(args))
		}
		var j job
		if err := json.Unmarshal([]byte(args[0]), &j); err != nil {
			return err
		}
		return runJob(j)
	})
}

// job is what a child does.
type job struct {
	Role  string // "consume", "echo", "mpmc-write", "mpmc-read" or "spin"
	Via   string // transport: "atomic", "flock", "pipe", "socket", "bare"
	Dir   string
	Name  string // scb buffer (consume) or the ping buffer (echo)
	Name2 string // the pong buffer (echo)
	File  string // the bare loop's mapping
	N     int    // items (or round trips) measured, after Warm more first
	Warm  int    // (for an MPMC writer, its number)
	Shape Shape
	Wait  Wait
	Take  bool // an MPMC reader: TakeWait and Ack instead of PopWait
}

// RunChild runs the measurement job (or any other role of package child)
// this process was started for, if any. It reports ok = false when the
// process is not a child; otherwise the caller should exit with code.
func RunChild() (code int, ok bool) { return child.Run() }

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
	switch j.Role {
	case "spin":
		return spin()
	case "mpmc-write", "mpmc-read":
		return mpmcChild(j)
	}
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

// proc is a running child.
type proc struct{ *child.Proc }

// start runs the job in a new process (this executable again), with files
// as its descriptors 3, 4, ..., and waits until it says ready.
func start(j job, files ...*os.File) (*proc, error) {
	spec, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	if len(files) > 0 && runtime.GOOS == "windows" {
		// os/exec passes no descriptors but the standard three there.
		return nil, fmt.Errorf("%w: passing pipes to a child process", ErrUnsupported)
	}
	c, err := child.StartFresh(func() (*exec.Cmd, error) {
		cmd, err := child.Command(role, string(spec))
		if err != nil {
			return nil, err
		}
		cmd.ExtraFiles = files
		return cmd, nil
	})
	if err != nil {
		return nil, err
	}
	p := &proc{c}
	if err := p.expect("ready"); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// expect waits for the child's next line, which must be want.
func (p *proc) expect(want string) error {
	_, err := p.Expect(want)
	return err
}

// finish waits for "done" and for the child to exit successfully.
func (p *proc) finish() error {
	if err := p.expect("done"); err != nil {
		p.kill()
		return err
	}
	if _, err := p.Wait(); err != nil {
		p.kill()
		return fmt.Errorf("child: %w: %s", err, strings.TrimSpace(p.Stderr()))
	}
	return nil
}

func (p *proc) kill() { p.Kill() }

// childTimeout bounds every wait on a child.
const childTimeout = child.Timeout
