package main

import (
	"fmt"
	"strings"

	"github.com/sharedcbuff/scb/cmd/scb/internal/bench"
)

var benchCommand = &command{
	name:    "bench",
	usage:   "[--quick] [--runs N] [--items N] [--only GROUP,...] [--json]",
	summary: "measure scb against a pipe, a Unix socket and a bare loop",
	help: `
Bench measures scb between two processes (this program and a copy of it) and,
in the same run, what a program would otherwise use: an os.Pipe and a
Unix-domain SOCK_SEQPACKET socket pair (one write per message), a Go channel
between two goroutines, and a bare loop over two atomic counters in a shared
mapping with no API around it (the ceiling for scb's design). It measures
throughput with 8-byte items one per call and in batches of 64, with 1 KiB
items one per call, with 4 KiB items copied and zero-copy (against copy()'s
bandwidth too), and round trips spinning, with PopWait, and sleeping at
once, for the Atomic and the Flock strategy; then 2 writers + 2 readers and
4 + 4, each a process, sharing one Flock buffer, a pipe or a socket (MPMC is
Flock only: Atomic takes one writer and one Queue reader); then 8-byte items
one per call, in batches and 2 + 2 again, each transport beside 4 CPU-bound
processes (copies of this program spinning, killed after each measurement)
on the same cores. scb's buffers hold fixed-size items (scb create --fixed),
as integers and records would. Every figure is the median of several runs, with its
ratios to the pipe and to the bare loop, and the target it is held to where
it has one.

--only takes a comma-separated list of groups of figures:
` + groupList() + `
Progress goes to standard error; the table to standard output, a row as
soon as its figure is measured. With --json, the rows go to standard error
as they come, and standard output gets one JSON report at the end. A full
run takes several minutes; --quick moves a tenth of the items three times,
for a smoke run. The buffers go in a temporary directory inside the buffer
directory, removed as it goes.`,
	examples: `
scb bench
scb bench --quick
scb bench --runs 9 --json > bench.json
scb bench --runs 1 --items 20000
scb bench --only oversub,mpmc --runs 3`,
	run: runBench,
}

func runBench(c *call) error {
	quick := c.flags.Bool("quick", false, "a tenth of the items, three runs: a smoke run")
	runs := c.intFlag("runs", 0, "runs of every figure, the median is reported (default 5, 3 with --quick)", 1, "run")
	items := c.intFlag("items", 0, "8-byte items per throughput run (default 5000000); 4 KiB items and round trips are 1/25 and 1/100 of it", 1, "item")
	asJSON := c.flags.Bool("json", false, "print the report as JSON")
	only := c.flags.String("only", "", "comma-separated groups of figures to run (default all): "+groupNames())
	if err := c.parse(); err != nil {
		return err
	}
	var groups []string
	for g := range strings.SplitSeq(*only, ",") {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	for _, g := range groups {
		if !strings.Contains(","+groupNames()+",", ","+g+",") {
			return c.usagef("--only: no group of figures named %q (there are %s)", g, groupNames())
		}
	}
	n := *runs
	switch {
	case n == 0 && *quick:
		n = 3
	case n == 0:
		n = 5
	}
	var counts bench.Counts
	if *items > 0 {
		counts = bench.Counts{Small: *items, Large: max(*items/25, 1), RoundTrips: max(*items/100, 1)}
	}
	tty := isTerminal(c.stderr)
	// The table streams to standard output; with --json, to standard
	// error, so that standard output is the JSON document alone.
	table := c.stdout
	if *asJSON {
		table = c.stderr
	}
	rep, err := bench.Run(bench.Config{
		Runs:    n,
		Quick:   *quick,
		Dir:     c.bufferDir(),
		Context: c.ctx,
		Counts:  counts,
		Only:    groups,
		Start: func(rep *bench.Report) {
			if tty {
				fmt.Fprint(c.stderr, "\r\033[K")
			}
			rep.WriteHeader(table)
		},
		Row: func(r bench.Row) {
			if tty {
				fmt.Fprint(c.stderr, "\r\033[K") // clear the progress line first
			}
			bench.WriteRow(table, r)
		},
		Progress: func(step, steps int, what string) {
			if tty {
				fmt.Fprintf(c.stderr, "\r\033[K[%d/%d] %s", step, steps, what)
			} else {
				fmt.Fprintf(c.stderr, "[%d/%d] %s\n", step, steps, what)
			}
		},
	})
	if tty {
		fmt.Fprint(c.stderr, "\r\033[K")
	}
	if err != nil {
		return c.fail("", err)
	}
	if *asJSON {
		return writeJSON(c.stdout, rep)
	}
	return nil
}

// groupNames returns the names of the groups of figures, comma-separated.
func groupNames() string {
	var names []string
	for _, g := range bench.Groups {
		names = append(names, g.Name)
	}
	return strings.Join(names, ",")
}

// groupList returns the groups of figures, one a line, for the help.
func groupList() string {
	var b strings.Builder
	for _, g := range bench.Groups {
		fmt.Fprintf(&b, "  %-8s %s\n", g.Name, g.Holds)
	}
	return b.String()
}
