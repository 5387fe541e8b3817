// Workerpool shares one Flock queue, "jobs", between worker processes that
// get killed: two producers push jobs, three workers take them under
// leases, and a coordinator SIGKILLs a worker at random every few
// milliseconds and starts another. Every job's effect is still applied
// exactly once, with no journal, reconcile step or requeue of the
// program's own:
//
//   - a worker acknowledges a job only once its effect is applied, so a
//     worker killed before that leaves the job to the next worker that
//     takes (scb finds the dead worker's lock free and gives its jobs
//     back, first);
//   - the effect is keyed by the job's position in the queue, which a
//     job keeps when it comes again, so a job whose worker died after
//     applying it but before acknowledging it is recognised and only
//     acknowledged (here the effect store is a directory with one file
//     per position, linked into place whole and exclusively).
//
// Run it:
//
//	go run ./examples/workerpool               # a coordinator and its child processes
//	go run ./examples/workerpool -kill 0       # the same without kills
//
// The roles also run alone, in any order (the buffer lives in
// scb.DefaultDir() unless -dir says otherwise; remove it with scb rm jobs):
//
//	go run ./examples/workerpool worker               # as many as you like
//	go run ./examples/workerpool -jobs 100 producer 1 # and producer 2, ...
//	go run ./examples/workerpool end                  # once the producers are done
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sharedcbuff/scb"
)

const perProducer = 1_000_000_000 // producer p's jobs are p*perProducer + 0, 1, 2...

func main() {
	dir := flag.String("dir", "", "directory of the buffer and the effects (default scb.DefaultDir())")
	jobs := flag.Int("jobs", 1000, "jobs per producer")
	kill := flag.Duration("kill", 5*time.Millisecond, "the coordinator kills a worker this often on average (0: never)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := &scb.Options{Dir: *dir, Strategy: scb.Flock}
	var err error
	switch flag.Arg(0) {
	case "producer":
		p, _ := strconv.Atoi(flag.Arg(1))
		err = produce(ctx, opts, uint64(p), *jobs)
	case "worker":
		err = work(ctx, opts, effects(*dir))
	case "end":
		var w *scb.Writer
		if w, err = scb.OpenWriter("jobs", opts); err == nil {
			err = w.CloseWrite()
		}
	case "":
		err = coordinate(ctx, *dir, *jobs, *kill)
	default:
		err = fmt.Errorf("unknown role %q: want producer, worker or end", flag.Arg(0))
	}
	if err != nil {
		log.Fatal(err)
	}
}

// effects is the directory of the effects: one file per job position.
func effects(dir string) string {
	if dir == "" {
		dir = scb.DefaultDir()
	}
	return filepath.Join(dir, "jobs.effects")
}

func produce(ctx context.Context, opts *scb.Options, p uint64, jobs int) error {
	w, err := scb.CreateOrOpen("jobs", opts)
	if err != nil {
		return err
	}
	defer w.Close() // not CloseWrite: the other producer may still be pushing
	for n := range jobs {
		if err := w.PushWait(ctx, p*perProducer+uint64(n)); err != nil {
			return err
		}
	}
	fmt.Printf("pushed %d\n", jobs)
	return nil
}

// work takes jobs under leases until the end of the stream, applies each
// job's effect once by its position, and acknowledges it.
func work(ctx context.Context, opts *scb.Options, effects string) error {
	if err := os.MkdirAll(effects, 0o755); err != nil {
		return err
	}
	r, err := scb.OpenReaderWait(ctx, "jobs", opts) // waits for a producer to create it
	if err != nil {
		return err
	}
	defer r.Close()
	for l, err := range r.Leases(ctx) { // ends at the end of the stream
		if err != nil {
			return err
		}
		time.Sleep(100 * time.Microsecond) // the work
		if err := apply(effects, l.Pos(), l.Value()); err != nil {
			l.GiveBack()
			return err
		}
		if l.Deliveries() > 1 {
			fmt.Println("again", l.Pos())
		}
		if err := l.Ack(); err != nil {
			return err
		}
	}
	return nil
}

// apply applies job's effect, once, by its position: the effect is a file
// named by the position, which appears whole or not at all (written under
// a temporary name, then linked into place) and only once (the link fails
// if the name exists). A job that comes again because its worker died
// after applying it but before Ack finds its effect there.
func apply(effects string, pos, job uint64) error {
	tmp, err := os.CreateTemp(effects, ".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = fmt.Fprintln(tmp, job)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	err = os.Link(tmp.Name(), filepath.Join(effects, strconv.FormatUint(pos, 10)))
	if errors.Is(err, fs.ErrExist) {
		return nil // applied already, by a worker that died before Ack
	}
	return err
}

// coordinate runs three workers and two producers as child processes,
// kills a worker at random every kill on average (once some job took
// effect since the last kill) and starts another, ends the stream when the
// producers are done, and checks the effects.
func coordinate(ctx context.Context, dir string, jobs int, kill time.Duration) error {
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
	var mu sync.Mutex // guards workers, again, killed
	var again bytes.Buffer
	killed := 0
	startRole := func(out *bytes.Buffer, role ...string) (*exec.Cmd, error) {
		cmd := exec.Command(self, append([]string{"-dir", dir, "-jobs", strconv.Itoa(jobs)}, role...)...)
		cmd.Stdout, cmd.Stderr = out, os.Stderr
		return cmd, cmd.Start()
	}
	type worker struct {
		cmd  *exec.Cmd
		out  *bytes.Buffer
		done chan error
	}
	workers := make([]*worker, 3)
	startWorker := func(i int) error {
		wk := &worker{out: new(bytes.Buffer), done: make(chan error, 1)}
		cmd, err := startRole(wk.out, "worker")
		if err != nil {
			return err
		}
		wk.cmd = cmd
		go func() { wk.done <- cmd.Wait() }()
		workers[i] = wk
		return nil
	}
	for i := range workers {
		if err := startWorker(i); err != nil {
			return err
		}
	}
	var producers []*exec.Cmd
	var outs []*bytes.Buffer
	for p := 1; p <= 2; p++ {
		outs = append(outs, new(bytes.Buffer))
		cmd, err := startRole(outs[p-1], "producer", strconv.Itoa(p))
		if err != nil {
			return err
		}
		producers = append(producers, cmd)
	}

	// The killer: a random worker, SIGKILLed (TerminateProcess on
	// Windows) at a random moment of its work, and a new one in its place.
	// It kills only once some job took effect since its last kill: on a
	// machine slow enough that a worker takes longer to start than the
	// killer takes to come back, the pool would otherwise never finish.
	stopKilling := make(chan struct{})
	killing := make(chan error, 1)
	go func() {
		last := -1 // jobs with an effect at the last kill
		for kill > 0 {
			select {
			case <-stopKilling:
				killing <- nil
				return
			case <-time.After(rand.N(2 * kill)):
			}
			n, err := appliedIn(dir)
			if err != nil {
				killing <- err
				return
			}
			if n == last {
				continue
			}
			last = n
			mu.Lock()
			i := rand.IntN(len(workers))
			wk := workers[i]
			wk.cmd.Process.Kill()
			<-wk.done
			again.Write(wk.out.Bytes())
			killed++
			err = startWorker(i)
			mu.Unlock()
			if err != nil {
				killing <- err
				return
			}
		}
		killing <- nil
	}()

	for i, cmd := range producers {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("producer %d: %w", i+1, err)
		}
	}
	// The producers are done: end the stream, once, through a second
	// handle, keeping w attached until the workers are done. A worker
	// started after the last job was acknowledged (in place of one killed
	// at the very end) then still belongs to this run and gets its end;
	// with no writer attached it would take the ended, drained stream for
	// a past run and wait for the next one.
	end, err := scb.OpenWriter("jobs", opts)
	if err != nil {
		return err
	}
	if err := end.CloseWrite(); err != nil {
		return err
	}
	// Kill on while the workers work, until every job has its effect. A
	// pool that stops making progress says where it stands, on stderr.
	progress, seen, told := time.Now(), -1, false
	for {
		n, err := appliedIn(dir)
		if err != nil {
			return err
		}
		if n >= 2*jobs {
			break
		}
		if n != seen {
			progress, seen, told = time.Now(), n, false
		}
		if !told && time.Since(progress) > 20*time.Second {
			info, err := scb.Stat("jobs", opts)
			mu.Lock()
			k := killed
			mu.Unlock()
			fmt.Fprintf(os.Stderr, "coordinator: no job took effect for 20 s: %d of %d applied, %d killed; buffer: %+v (%v)\n",
				n, 2*jobs, k, info, err)
			told = true
		}
		time.Sleep(time.Millisecond)
	}
	close(stopKilling)
	if err := <-killing; err != nil {
		return err
	}
	for i, wk := range workers {
		if err := <-wk.done; err != nil {
			return fmt.Errorf("worker %d: %w", i+1, err)
		}
		again.Write(wk.out.Bytes())
	}
	for p := 1; p <= 2; p++ {
		if out := outs[p-1].String(); out != fmt.Sprintf("pushed %d\n", jobs) {
			return fmt.Errorf("producer %d said %q", p, out)
		}
		fmt.Printf("producer %d: pushed %d jobs\n", p, jobs)
	}

	// Every position has its effect, once, and it is the job pushed
	// there: each producer's jobs in order, the two interleaved.
	total := 2 * jobs
	next := map[uint64]uint64{1: 1 * perProducer, 2: 2 * perProducer}
	for pos := range total {
		data, err := os.ReadFile(filepath.Join(effects(dir), strconv.Itoa(pos)))
		if err != nil {
			return fmt.Errorf("job at position %d: no effect: %w", pos, err)
		}
		job, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			return err
		}
		p := job / perProducer
		if job != next[p] {
			return fmt.Errorf("position %d has job %d, want producer %d's job %d", pos, job, p, next[p]%perProducer)
		}
		next[p]++
	}
	if entries, err := os.ReadDir(effects(dir)); err != nil || applied(entries) != total {
		return fmt.Errorf("%d effects for %d jobs (%v)", applied(entries), total, err)
	}
	redelivered := strings.Count(again.String(), "again")
	fmt.Printf("workers: %d jobs, each applied once, by position (%d workers killed, %d jobs delivered again)\n",
		total, killed, redelivered)
	return nil
}

// appliedIn counts the effects in dir's effects directory (none before
// the first).
func appliedIn(dir string) (int, error) {
	entries, err := os.ReadDir(effects(dir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	return applied(entries), nil
}

// applied counts the effects among entries (not the temporary files of
// workers that died writing one).
func applied(entries []os.DirEntry) int {
	n := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}
