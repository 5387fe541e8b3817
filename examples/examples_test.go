package examples_test

// These tests build each example with go build and run its roles as
// separate processes (with package scbtest, each bounded by its Timeout),
// in a t.TempDir(): the programs users copy are checked to run, and their
// output line by line.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/scbtest"
)

// build compiles the example ./name into a temporary directory.
func build(t *testing.T, name string) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), name)
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", exe, "./"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build ./%s: %v\n%s", name, err, out)
	}
	return exe
}

// proc is a running example process.
type proc struct{ *scbtest.Proc }

// start starts exe with args (scbtest kills it if it outlives its
// Timeout, and fails the test if it outlives the test).
func start(t *testing.T, exe string, args ...string) *proc {
	t.Helper()
	return &proc{scbtest.StartCmd(t, func() *exec.Cmd { return exec.Command(exe, args...) })}
}

// wait waits for p to exit and returns what it printed on stdout; it fails
// the test if p failed.
func (p *proc) wait(t *testing.T) string {
	t.Helper()
	rest, err := p.Result()
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(p.Cmd.Args[1:], " "), err, strings.Join(rest, "\n"), p.Stderr())
	}
	if len(rest) == 0 {
		return ""
	}
	return strings.Join(rest, "\n") + "\n"
}

// run runs exe with args to the end and returns its stdout.
func run(t *testing.T, exe string, args ...string) string {
	t.Helper()
	return start(t, exe, args...).wait(t)
}

func check(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s printed\n%s\nwant\n%s", what, got, want)
	}
}

// logLines is what the logpipe consumer prints for n records.
func logLines(n int) string {
	var b strings.Builder
	for i := range n {
		level := "info"
		if i%4 == 3 {
			level = "warn"
		}
		fmt.Fprintf(&b, "%s %s request %d served\n", time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC).Format(time.TimeOnly), level, i)
	}
	fmt.Fprintf(&b, "consumer: decoded %d records\n", n)
	return b.String()
}

func TestLogpipe(t *testing.T) {
	exe := build(t, "logpipe")
	t.Run("both", func(t *testing.T) {
		check(t, "logpipe", run(t, exe, "-dir", t.TempDir()), "producer: wrote 5 records\n"+logLines(5))
	})
	for _, consumerFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("consumerFirst=%v", consumerFirst), func(t *testing.T) {
			dir := t.TempDir()
			n := 3000 // more than the buffer's 1024 slots: the producer waits for room
			if !consumerFirst {
				n = 1000 // all of it fits: the producer ends the stream and exits first
				check(t, "producer", run(t, exe, "-dir", dir, "-n", fmt.Sprint(n), "producer"), "producer: wrote 1000 records\n")
			}
			consumer := start(t, exe, "-dir", dir, "consumer")
			if consumerFirst {
				check(t, "producer", run(t, exe, "-dir", dir, "-n", fmt.Sprint(n), "producer"), "producer: wrote 3000 records\n")
			}
			check(t, "consumer", consumer.wait(t), logLines(n))
			if _, err := scb.Stat("logs", &scb.Options{Dir: dir}); !errors.Is(err, scb.ErrNotExist) {
				t.Errorf("after the consumer: Stat: %v, want ErrNotExist (the consumer removes the buffer)", err)
			}
		})
	}
}

func TestSensors(t *testing.T) {
	exe := build(t, "sensors")
	all := func(i int) string {
		return fmt.Sprintf("subscriber %d: 1000 readings, sum 249750, 0 lost in 0 overruns\n", i)
	}
	t.Run("all", func(t *testing.T) {
		check(t, "sensors", run(t, exe, "-dir", t.TempDir()), "publisher: 1000 readings\n"+all(1)+all(2)+all(3))
	})
	t.Run("roles", func(t *testing.T) {
		dir := t.TempDir()
		var subs []*proc
		for i := 1; i <= 3; i++ {
			subs = append(subs, start(t, exe, "-dir", dir, "subscriber", fmt.Sprint(i)))
		}
		check(t, "publisher", run(t, exe, "-dir", dir, "publisher"), "publisher: 1000 readings\n")
		for i, sub := range subs {
			check(t, "subscriber", sub.wait(t), fmt.Sprintf("subscriber %d: subscribed\n", i+1)+all(i+1))
		}
	})
	t.Run("overrun", func(t *testing.T) {
		// 16 slots and a subscriber 3 that takes 1ms a reading: it loses
		// most of them, and every reading is either seen or counted lost.
		out := run(t, exe, "-dir", t.TempDir(), "-length", "16", "-slow", "1ms")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 4 || lines[0] != "publisher: 1000 readings" {
			t.Fatalf("sensors printed\n%s", out)
		}
		for i, line := range lines[1:] {
			var id, got, overruns int
			var sum float64
			var lost uint64
			_, err := fmt.Sscanf(line, "subscriber %d: %d readings, sum %g, %d lost in %d overruns", &id, &got, &sum, &lost, &overruns)
			switch {
			case err != nil || id != i+1:
				t.Errorf("line %q: %v", line, err)
			case uint64(got)+lost != 1000:
				t.Errorf("subscriber %d: %d readings and %d lost, want 1000 in all", id, got, lost)
			case lost == 0 && (sum != 249750 || overruns != 0):
				t.Errorf("subscriber %d: %q, want the sum 249750 and no overruns", id, line)
			case lost > 0 && overruns == 0:
				t.Errorf("subscriber %d: lost %d readings in no overrun", id, lost)
			case id == 3 && lost == 0:
				t.Errorf("slow subscriber 3 lost nothing: %q", line)
			}
		}
	})
}

func TestWorkerpool(t *testing.T) {
	exe := build(t, "workerpool")
	t.Run("coordinator", func(t *testing.T) {
		// A kill every 3 ms on average; with -short (the emulated lanes,
		// where a worker takes tens of milliseconds to start, and one
		// killed every 3 ms rarely gets to work), every 15 ms.
		kill := "3ms"
		if testing.Short() {
			kill = "15ms"
		}
		out := run(t, exe, "-dir", t.TempDir(), "-jobs", "500", "-kill", kill)
		var total, killed, again int
		_, err := fmt.Sscanf(out, "producer 1: pushed 500 jobs\nproducer 2: pushed 500 jobs\nworkers: %d jobs, each applied once, by position (%d workers killed, %d jobs delivered again)\n",
			&total, &killed, &again)
		if err != nil || total != 1000 || killed == 0 {
			t.Errorf("workerpool printed\n%s(%v)", out, err)
		}
		t.Logf("%d workers killed, %d jobs delivered again", killed, again)
	})
	t.Run("roles", func(t *testing.T) {
		dir := t.TempDir()
		const jobs = 3000 // per producer: more than the 1024 slots, so producers wait for room
		var workers, producers []*proc
		for range 3 {
			workers = append(workers, start(t, exe, "-dir", dir, "worker"))
		}
		for p := 1; p <= 2; p++ {
			producers = append(producers, start(t, exe, "-dir", dir, "-jobs", fmt.Sprint(jobs), "producer", fmt.Sprint(p)))
		}
		for _, p := range producers {
			check(t, "producer", p.wait(t), fmt.Sprintf("pushed %d\n", jobs))
		}
		run(t, exe, "-dir", dir, "end")
		for _, w := range workers {
			check(t, "worker", w.wait(t), "") // nothing delivered again: nobody died
		}
		seen := map[string]bool{}
		for pos := range 2 * jobs {
			data, err := os.ReadFile(filepath.Join(dir, "jobs.effects", fmt.Sprint(pos)))
			if err != nil {
				t.Fatalf("position %d: %v", pos, err)
			}
			job := strings.TrimSpace(string(data))
			if seen[job] {
				t.Fatalf("job %s applied twice", job)
			}
			seen[job] = true
		}
		for p := 1; p <= 2; p++ {
			for i := range jobs {
				if job := fmt.Sprint(p*1_000_000_000 + i); !seen[job] {
					t.Errorf("job %s not applied", job)
				}
			}
		}
	})
}
