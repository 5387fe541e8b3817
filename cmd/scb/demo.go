package main

// The demo command: a producer (this process) and a consumer (this program
// run again as the hidden command demo-consumer) pass a stream of integers
// through an Atomic Queue, then measure round trips through a pair of
// buffers.
//
// The consumer ends when the demo does, however the demo ends (even by
// SIGKILL): see watchParent. What a killed demo leaves, its directory, the
// next demo removes (demodir.go).
//
// The consumer talks back on its standard output, one line per step:
// "ready" once it has attached to the buffers, "received N" once it has
// read and checked N items, "mismatch I V" if item I arrived as V, and
// "done" after the round trips.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sharedcbuff/scb"
)

var demoCommand = &command{
	name:    "demo",
	usage:   "[--items N] [--round-trips N]",
	summary: "run a producer and a consumer process and report",
	help: `
Demo shows scb at work between two processes. It makes three buffers in a
new temporary directory (inside the buffer directory), starts a consumer
process (this program again), and pushes a stream of integers through an
Atomic Queue while the consumer reads them and checks that every one arrives,
in order. Then it bounces items back and forth through two more buffers to
measure the round-trip latency between the processes. Progress goes to
standard error; the report, at the end, to standard output. The temporary
directory is removed at the end, also after an error or Ctrl-C; a demo that
was killed leaves it behind, and the next demo in that buffer directory
removes it. The consumer exits when the demo does, however it ends.

The exit status is 1 if any item was lost, repeated or out of order.`,
	examples: `
scb demo
go run ./cmd/scb demo
scb demo --items 10000000`,
	run: runDemo,
}

var demoConsumerCommand = &command{
	name:   "demo-consumer",
	usage:  "--dir D --items N --round-trips N [--parent PID]",
	hidden: true,
	help:   "Demo-consumer is the consumer process that demo starts; it is not meant to be run by hand.",
	run:    runDemoConsumer,
}

// The demo's buffers.
const (
	demoStream  = "stream" // producer to consumer, the stream of items
	demoPing    = "ping"   // producer to consumer, one item per round trip
	demoPong    = "pong"   // consumer to producer, the item sent back
	demoSlots   = 1 << 16  // the stream's length
	demoTimeout = 2 * time.Minute
)

// errConsumerExited cancels the producer's waits when the consumer is gone.
var errConsumerExited = errors.New("the consumer process exited")

func runDemo(c *call) error {
	items := c.intFlag("items", 2_000_000, "stream `N` items", 1, "item")
	trips := c.intFlag("round-trips", 5_000, "measure `N` round trips", 1, "round trip")
	if err := c.parse(); err != nil {
		return err
	}
	for _, path := range removeStaleDemoDirs(c.bufferDir()) {
		fmt.Fprintf(c.stderr, "scb demo: removed %s, left by a demo that is no longer running\n", path)
	}
	dir, err := makeDemoDir(c.bufferDir())
	if err != nil {
		return c.fail("", err)
	}
	defer dir.remove()
	d := &demo{c: c, dir: dir.path, items: *items, trips: *trips}
	if err := d.run(); err != nil {
		if c.ctx.Err() != nil {
			err = errInterrupted
		}
		st := exitError
		if err == errInterrupted {
			st = exitInterrupted
		}
		d.endProgress()
		return &runError{cmd: c.cmd.name, err: err, status: st}
	}
	return nil
}

// demo is one run of the demo, from the producer's side.
type demo struct {
	c            *call
	dir          string
	items, trips int

	consumer int  // the consumer's pid, once it runs
	progress bool // a progress line is on the terminal
}

func (d *demo) run() error {
	o := &scb.Options{Dir: d.dir}
	stream, err := scb.Create(demoStream, &scb.Options{Dir: d.dir, Length: demoSlots})
	if err != nil {
		return err
	}
	defer stream.Close()
	ping, err := scb.Create(demoPing, o)
	if err != nil {
		return err
	}
	defer ping.Close()
	pongW, err := scb.Create(demoPong, o)
	if err != nil {
		return err
	}
	pongW.Close() // the consumer takes the writer role
	pong, err := scb.OpenReader(demoPong, o)
	if err != nil {
		return err
	}
	defer pong.Close()

	// Start the consumer, and cancel every wait if it exits.
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to start the consumer: %w", err)
	}
	ctx, cancel := context.WithTimeoutCause(d.c.ctx, demoTimeout, errors.New("the demo took too long"))
	defer cancel()
	ctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	cmd := exec.Command(exe, "demo-consumer", "--dir", d.dir, "--parent", strconv.Itoa(os.Getpid()),
		"--items", strconv.Itoa(d.items), "--round-trips", strconv.Itoa(d.trips))
	cmd.Stderr = d.c.stderr
	dieWithParent(cmd)
	// The consumer's standard input is a pipe that nobody writes, whose
	// write end the kernel closes when this process ends (watchParent).
	if _, err := cmd.StdinPipe(); err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the consumer: %w", err)
	}
	lines := make(chan string, 4)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		err := cmd.Wait()
		cancelCause(errConsumerExited)
		exited <- err
	}()
	defer func() {
		// On every way out: stop the consumer if it still runs, and wait
		// for it before the buffers are removed.
		select {
		case err := <-exited:
			exited <- err
		default:
			cmd.Process.Kill()
			for range lines {
			}
			exited <- <-exited
		}
	}()
	// expect waits for the consumer's next line, which must start with
	// prefix.
	expect := func(prefix string) (string, error) {
		var line string
		var ok bool
		select {
		case line, ok = <-lines:
		case <-ctx.Done():
			// The consumer may have said its line and exited at once,
			// which cancels ctx: what it said comes first (a select
			// with both ready picks at random).
			select {
			case line, ok = <-lines:
			default:
				return "", d.cause(ctx, exited)
			}
		}
		switch {
		case !ok:
			return "", d.consumerGone(exited)
		case strings.HasPrefix(line, "mismatch "):
			var i, v uint64
			fmt.Sscan(strings.TrimPrefix(line, "mismatch "), &i, &v)
			return "", fmt.Errorf("verification failed: item %d arrived as %d", i, v)
		case !strings.HasPrefix(line, prefix):
			return "", fmt.Errorf("the consumer said %q, want %q", line, prefix)
		}
		return strings.TrimSpace(strings.TrimPrefix(line, prefix)), nil
	}
	if _, err := expect("ready"); err != nil {
		return err
	}

	// The stream.
	d.consumer = cmd.Process.Pid
	d.showProgress(0)
	start := time.Now()
	lastShown := start
	for i := range uint64(d.items) {
		if err := stream.PushWait(ctx, i); err != nil {
			return d.cause(ctx, exited)
		}
		if i&0xFFFF == 0xFFFF {
			if now := time.Now(); now.Sub(lastShown) >= 100*time.Millisecond {
				d.showProgress(int(i + 1))
				lastShown = now
			}
		}
	}
	got, err := expect("received ")
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	d.showProgress(d.items)
	d.endProgress()
	if got != strconv.Itoa(d.items) {
		return fmt.Errorf("verification failed: the consumer received %s items, want %d", got, d.items)
	}

	// The round trips.
	rtts := make([]time.Duration, 0, d.trips)
	for i := range uint64(d.trips) {
		t0 := time.Now()
		if err := ping.PushWait(ctx, i); err != nil {
			return d.cause(ctx, exited)
		}
		v, err := pong.PopWait(ctx)
		if err != nil {
			return d.cause(ctx, exited)
		}
		rtts = append(rtts, time.Since(t0))
		if v != i {
			return fmt.Errorf("verification failed: round trip %d came back as %d", i, v)
		}
	}
	if _, err := expect("done"); err != nil {
		return err
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			return fmt.Errorf("the consumer failed: %w", err)
		}
	case <-time.After(demoTimeout):
		return errors.New("the consumer did not exit")
	}

	slices.Sort(rtts)
	w := d.c.stdout
	fmt.Fprintf(w, "scb demo: producer pid %d, consumer pid %d, buffers in %s (removed)\n",
		os.Getpid(), cmd.Process.Pid, d.dir)
	fmt.Fprintf(w, "  stream    %d uint64 items through an Atomic Queue of %d slots\n", d.items, demoSlots)
	fmt.Fprintf(w, "  time      %v, %s items/s\n", elapsed.Round(time.Millisecond), siNumber(float64(d.items)/elapsed.Seconds()))
	fmt.Fprintf(w, "  verified  all %d items arrived in order, none lost or repeated\n", d.items)
	fmt.Fprintf(w, "  latency   %d round trips through two buffers: p50 %v, p99 %v\n",
		d.trips, roundDuration(quantile(rtts, 0.50)), roundDuration(quantile(rtts, 0.99)))
	return nil
}

// cause explains why a wait of the producer ended.
func (d *demo) cause(ctx context.Context, exited chan error) error {
	if d.c.ctx.Err() != nil {
		return errInterrupted
	}
	if err := context.Cause(ctx); err == errConsumerExited {
		return d.consumerGone(exited)
	} else if err != nil {
		return err
	}
	return errors.New("unexpected end of a wait")
}

// consumerGone reports the consumer's early exit.
func (d *demo) consumerGone(exited chan error) error {
	err := <-exited
	exited <- err
	if d.c.ctx.Err() != nil {
		return errInterrupted
	}
	if err == nil {
		return errConsumerExited
	}
	return fmt.Errorf("%w early (%v)", errConsumerExited, err)
}

// showProgress draws the stream's progress on standard error: in place on
// a terminal, else a line at the start and at the end.
func (d *demo) showProgress(n int) {
	if !isTerminal(d.c.stderr) {
		if n == 0 {
			fmt.Fprintf(d.c.stderr, "scb demo: streaming %d items to the consumer (pid %d)...\n", d.items, d.consumer)
		}
		return
	}
	filled := n * barWidth / d.items
	fmt.Fprintf(d.c.stderr, "\rstreaming [%s%s] %3d%%  %d/%d items", strings.Repeat("#", filled),
		strings.Repeat("-", barWidth-filled), n*100/d.items, n, d.items)
	d.progress = true
}

// endProgress ends the progress line, if one is drawn.
func (d *demo) endProgress() {
	if d.progress {
		fmt.Fprintln(d.c.stderr)
		d.progress = false
	}
}

// quantile returns the q-quantile of the sorted ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// roundDuration keeps three significant digits or so.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Microsecond:
		return d
	case d < 100*time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	case d < 100*time.Millisecond:
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// runDemoConsumer is the consumer process of the demo. Interrupted (Ctrl-C
// reaches both processes), it exits quietly: the producer reports.
func runDemoConsumer(c *call) error {
	err := consume(c)
	if err != nil && c.ctx.Err() != nil {
		return exitStatus(exitInterrupted)
	}
	return err
}

// consume reads and checks the stream, then answers the round trips.
func consume(c *call) error {
	items := c.intFlag("items", 0, "expect `N` items", 0, "items")
	trips := c.intFlag("round-trips", 0, "answer `N` round trips", 0, "round trips")
	parent := c.intFlag("parent", 0, "exit when process `PID`, the demo that reads standard output, exits (0: none)", 0, "")
	if err := c.parse(); err != nil {
		return err
	}
	if *parent != 0 {
		if err := watchParent(c, *parent); err != nil {
			return err
		}
	}
	o := c.bufferOptions()
	stream, err := scb.OpenReader(demoStream, o)
	if err != nil {
		return c.fail(demoStream, err)
	}
	defer stream.Close()
	ping, err := scb.OpenReader(demoPing, o)
	if err != nil {
		return c.fail(demoPing, err)
	}
	defer ping.Close()
	pong, err := scb.OpenWriter(demoPong, o)
	if err != nil {
		return c.fail(demoPong, err)
	}
	defer pong.Close()
	say := func(format string, args ...any) error {
		_, err := fmt.Fprintf(c.stdout, format+"\n", args...)
		return err
	}
	if err := say("ready"); err != nil {
		return err
	}

	next := uint64(0)
	for next < uint64(*items) {
		vs, err := stream.PopMany(4096)
		if err == scb.ErrEmpty {
			var v uint64
			v, err = stream.PopWait(c.ctx)
			vs = append(vs, v)
		}
		if err != nil {
			return c.fail(demoStream, err)
		}
		for _, v := range vs {
			if v != next {
				say("mismatch %d %d", next, v)
				return exitStatus(exitError)
			}
			next++
		}
	}
	if err := say("received %d", next); err != nil {
		return err
	}
	for range *trips {
		v, err := ping.PopWait(c.ctx)
		if err != nil {
			return c.fail(demoPing, err)
		}
		if err := pong.PushWait(c.ctx, v); err != nil {
			return c.fail(demoPong, err)
		}
	}
	return say("done")
}

// watchParent ends the consumer when the demo, process pid, ends, however
// it ends. On Linux the kernel kills the consumer then (dieWithParent), but
// only for a death after the consumer started; so first check that the
// demo is still this process's parent. On every system, also: the demo
// holds the write end of the pipe that is the consumer's standard input and
// never writes, so a read of it ends, at EOF, when the demo is gone.
func watchParent(c *call, pid int) error {
	if os.Getppid() != pid {
		return fmt.Errorf("the demo (pid %d) is not running", pid)
	}
	go func() {
		io.Copy(io.Discard, c.stdin)
		fmt.Fprintf(c.stderr, "scb demo-consumer: the demo (pid %d) exited\n", pid)
		os.Exit(exitError)
	}()
	return nil
}
