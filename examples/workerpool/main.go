// Workerpool shares one Flock queue, "jobs", between worker processes: two
// producers push jobs, three consumers take them, and each job is
// processed by exactly one consumer. With the Flock strategy any number of
// processes may write to and read from one buffer.
//
//	go run ./examples/workerpool           # a coordinator and five child processes
//	go run ./examples/workerpool -jobs 0   # producers push until Ctrl-C
//
// The coordinator makes the buffer in a temporary directory, starts the
// consumers and the producers, and ends the stream with a Writer of its own
// once both producers have exited (with Flock, CloseWrite ends the stream
// for every writer, so it is done once, after all of them); the consumers
// take what is left and stop. On Ctrl-C it passes the interrupt on to its
// children (on Windows, which cannot send os.Interrupt to a process, Ctrl-C
// reaches every process of the console by itself): the producers stop, the
// consumers take the jobs they find queued and stop. Then it checks that
// every job was processed exactly once or is still in the queue.
//
// The roles also run alone, in any order (the buffer lives in
// scb.DefaultDir() unless -dir says otherwise; remove it with scb rm jobs):
//
//	go run ./examples/workerpool consumer             # as many as you like
//	go run ./examples/workerpool -jobs 100 producer 1 # and producer 2, ...
//	go run ./examples/workerpool end                  # once the producers are done
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"

	"github.com/sharedcbuff/scb"
)

const perProducer = 1_000_000_000 // producer p's jobs are p*perProducer + 0, 1, 2...

func main() {
	dir := flag.String("dir", "", "directory of the buffer (default scb.DefaultDir())")
	jobs := flag.Int("jobs", 1000, "jobs per producer (0: until interrupted)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := &scb.Options{Dir: *dir, Strategy: scb.Flock}
	var err error
	switch flag.Arg(0) {
	case "producer":
		p, _ := strconv.Atoi(flag.Arg(1))
		err = produce(ctx, opts, uint64(p), *jobs)
	case "consumer":
		err = consume(ctx, opts)
	case "end":
		var w *scb.Writer
		if w, err = scb.OpenWriter("jobs", opts); err == nil {
			err = w.CloseWrite()
		}
	case "":
		err = coordinate(ctx, *dir, *jobs)
	default:
		err = fmt.Errorf("unknown role %q: want producer, consumer or end", flag.Arg(0))
	}
	if err != nil {
		log.Fatal(err)
	}
}

func produce(ctx context.Context, opts *scb.Options, p uint64, jobs int) error {
	w, err := scb.CreateOrOpen("jobs", opts)
	if err != nil {
		return err
	}
	defer w.Close() // not CloseWrite: the other producer may still be pushing
	n := 0
	for ; (jobs == 0 || n < jobs) && ctx.Err() == nil; n++ {
		if err := w.PushWait(ctx, p*perProducer+uint64(n)); err != nil {
			if errors.Is(err, context.Canceled) {
				break // interrupted while the queue was full: that job was not pushed
			}
			return err
		}
	}
	fmt.Printf("pushed %d\n", n)
	return nil
}

func consume(ctx context.Context, opts *scb.Options) error {
	r, err := scb.OpenReaderWait(ctx, "jobs", opts) // waits for a producer to create it
	if errors.Is(err, context.Canceled) {
		return nil // interrupted before there was a buffer
	} else if err != nil {
		return err
	}
	defer r.Close()
	for job, err := range r.Values(ctx) { // ends at the end of the stream
		if errors.Is(err, context.Canceled) {
			break // interrupted, having taken the jobs that were queued
		} else if err != nil {
			return err
		}
		fmt.Println(job) // the work
	}
	return nil
}

// coordinate runs three consumers and two producers as child processes,
// ends the stream when the producers are done, and checks the jobs.
func coordinate(ctx context.Context, dir string, jobs int) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "workerpool-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	opts := &scb.Options{Dir: dir, Strategy: scb.Flock}
	w, err := scb.CreateOrOpen("jobs", opts)
	if err != nil {
		return err
	}
	defer w.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, role := range []string{"consumer", "consumer", "consumer", "producer 1", "producer 2"} {
		cmd := exec.Command(self, append([]string{"-dir", dir, "-jobs", strconv.Itoa(jobs)}, strings.Fields(role)...)...)
		outs = append(outs, new(bytes.Buffer))
		cmd.Stdout, cmd.Stderr = outs[len(outs)-1], os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		cmds = append(cmds, cmd)
	}
	defer context.AfterFunc(ctx, func() {
		for _, cmd := range cmds {
			cmd.Process.Signal(os.Interrupt) // fails on Windows, where the console interrupts all
		}
	})()
	wait := func(cmd *exec.Cmd) error {
		err := cmd.Wait()
		if ctx.Err() != nil && !cmd.ProcessState.Exited() {
			return nil // killed by the interrupt before it could catch it: it did nothing
		}
		return err
	}
	for i, cmd := range cmds[3:] {
		if err := wait(cmd); err != nil {
			return fmt.Errorf("producer %d: %w", i+1, err)
		}
	}
	if err := w.CloseWrite(); err != nil { // the producers are done: end the stream, once
		return err
	}
	seen := map[uint64]int{}
	for i, cmd := range cmds[:3] {
		if err := wait(cmd); err != nil {
			return fmt.Errorf("consumer %d: %w", i+1, err)
		}
		for _, f := range strings.Fields(outs[i].String()) {
			job, _ := strconv.ParseUint(f, 10, 64)
			seen[job]++
		}
	}
	pushed := make([]int, 3)
	for p := 1; p <= 2; p++ {
		fmt.Sscanf(outs[p+2].String(), "pushed %d", &pushed[p])
		fmt.Printf("producer %d: pushed %d jobs\n", p, pushed[p])
	}
	for job, k := range seen {
		if p := job / perProducer; k != 1 || p < 1 || p > 2 || job%perProducer >= uint64(pushed[p]) {
			return fmt.Errorf("job %d processed %d times, pushed by producer %d", job, k, p)
		}
	}
	info, err := scb.Stat("jobs", opts)
	if err != nil {
		return err
	}
	if len(seen)+info.Unread != pushed[1]+pushed[2] {
		return fmt.Errorf("%d jobs processed and %d queued of %d pushed", len(seen), info.Unread, pushed[1]+pushed[2])
	}
	fmt.Printf("consumers: processed %d jobs, each once; %d left in the queue\n", len(seen), info.Unread)
	return nil
}
