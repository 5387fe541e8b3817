package main

// The record and replay commands: a buffer's items to a file and back
// (package record has the file format).

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/record"
)

var recordCommand = &command{
	name:    "record",
	usage:   "NAME FILE [--take] [--grace D] [--spin]",
	summary: "write a buffer's items to a file, with positions and times",
	help: `
Record follows the buffer NAME and writes every item it reads to FILE ("-"
for standard output), with the item's position and the time it arrived, in
the format of package github.com/sharedcbuff/scb/record (version 1). It
waits for the buffer to appear, and stops when the stream ends (a writer
ran "scb push --end" or called CloseWrite), or at Ctrl-C or SIGTERM; either
way the file is complete, and the counts go to standard error.

A Broadcast buffer is followed as one more reader: the others lose nothing,
and if the writer overwrites items before record reads them, the file says
how many it missed, and where. A Queue buffer's items would be taken from
its other readers: record refuses one unless --take says so.

An item's time is when record read it. While the buffer is empty record
sleeps, and a sleeping reader wakes some microseconds after an item
arrives, up to a millisecond or more on an idle virtual machine. --spin
polls instead, keeping a core busy: the times are then within
microseconds of the writes, as "scb replay --pace recorded" needs to
reproduce timing within a millisecond.

A recording replays with "scb replay", and in Go tests with
scbtest.Replay, so a recorded stream can be a test's fixture.`,
	examples: `
scb record telemetry telemetry.scbrec
scb record jobs jobs.scbrec --take`,
	run: runRecord,
}

func runRecord(c *call) error {
	take := c.flags.Bool("take", false, "record a Queue buffer, taking its items from its other readers")
	spin := c.flags.Bool("spin", false, "poll while the buffer is empty instead of sleeping: precise times, a core busy")
	grace := c.durationFlag("grace", 0, "stop once every writer has been gone for `D` without ending the stream (default: wait for the next writer)")
	other := c.otherOwnerFlag()
	if err := c.parse("NAME", "FILE"); err != nil {
		return err
	}
	name, file := c.args[0], c.args[1]
	// A queue is refused before its reader's role is taken, if it exists,
	// and once it does otherwise.
	stat := func() (scb.Mode, error) {
		info, err := scb.Stat(name, &scb.Options{Dir: c.dir, AllowOtherOwner: *other})
		if err != nil {
			return 0, c.fail(name, err)
		}
		if info.Mode == scb.Queue && !*take {
			return 0, c.usagef("%q is a Queue buffer: recording takes its items from its other readers; pass --take to do so", name)
		}
		return info.Mode, nil
	}
	if _, err := stat(); err != nil && !errors.Is(err, scb.ErrNotExist) {
		return err
	}
	// The file first, so that a bad path is said at once, not once the
	// buffer appears.
	out, f := c.stdout, (*os.File)(nil)
	if file != "-" {
		var err error
		if f, err = os.Create(file); err != nil {
			return c.fail(name, err)
		}
		defer f.Close()
		out = f
	}
	r, err := scb.OpenReaderWait(c.ctx, name, &scb.Options{Dir: c.dir, AllowOtherOwner: *other, Grace: graceOf(*grace), Spin: spinOf(*spin)})
	if err != nil {
		return c.fail(name, err)
	}
	defer r.Close()
	mode, err := stat()
	if err != nil {
		return err
	}
	w, err := record.NewWriter(out, record.Header{Mode: mode, ItemSize: r.ItemSize(), Name: name})
	if err != nil {
		return c.fail(name, err)
	}
	start := time.Now()
	err = record.Record(c.ctx, r, w)
	if c.ctx.Err() != nil && errors.Is(err, c.ctx.Err()) {
		err = nil // interrupted: the recording ends here
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if f != nil && err == nil {
		err = f.Close()
	}
	if err != nil {
		return c.fail(name, fmt.Errorf("recording to %s: %w", file, err))
	}
	fmt.Fprintf(c.stderr, "scb: record %q: %d items, %d missed, in %v, to %s\n",
		name, w.Items(), w.Lost(), time.Since(start).Round(time.Millisecond), file)
	return nil
}

var replayCommand = &command{
	name:    "replay",
	usage:   "FILE NAME [--pace recorded|RATE] [--end]",
	summary: "write the items of a recording into a buffer",
	help: `
Replay writes the items of FILE, a recording made by "scb record" ("-" for
standard input), into the buffer NAME, which must exist. It writes as fast
as the buffer takes them (waiting for room in a Queue), unless --pace says
otherwise: "recorded" keeps the gaps between the items as they were
recorded, and a number writes that many items a second. With --end it ends
the stream afterwards, as "scb push --end" does.

A recording cut short (its recorder was killed) is replayed up to the cut,
with a warning; a damaged one stops at the damage, with an error that says
where.`,
	examples: `
scb replay telemetry.scbrec telemetry --pace recorded
scb replay jobs.scbrec jobs --pace 10000 --end`,
	run: runReplay,
}

func runReplay(c *call) error {
	paceFlag := c.flags.String("pace", "", "write at pace `P`: recorded (the gaps as recorded) or a number of items a second (default: as fast as possible)")
	end := c.flags.Bool("end", false, "end the stream once every item is written")
	other := c.otherOwnerFlag()
	if err := c.parse("FILE", "NAME"); err != nil {
		return err
	}
	file, name := c.args[0], c.args[1]
	var pace record.Pace
	switch *paceFlag {
	case "":
	case "recorded":
		pace.Recorded = true
	default:
		rate, err := strconv.ParseFloat(*paceFlag, 64)
		if err != nil || !(rate > 0) || rate > 1e12 {
			return c.usagef("--pace %q: want recorded, or a number of items a second", *paceFlag)
		}
		pace.Rate = rate
	}
	in := c.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return c.fail(name, err)
		}
		defer f.Close()
		in = f
	}
	rd, err := record.NewReader(in)
	if err != nil {
		return c.fail(name, fmt.Errorf("%s: %w", file, err))
	}
	w, err := scb.OpenWriter(name, &scb.Options{Dir: c.dir, AllowOtherOwner: *other})
	if err != nil {
		return c.fail(name, err)
	}
	defer w.Close()
	if h := rd.Header(); h.ItemSize > w.ItemSize() {
		c.warn(name, fmt.Errorf("%s was recorded from %q, of items up to %d bytes; this buffer takes up to %d: replay stops at the first item that does not fit", file, h.Name, h.ItemSize, w.ItemSize()))
	}
	n, err := record.Replay(c.ctx, rd, w, pace)
	if errors.Is(err, record.ErrTruncated) {
		c.warn(name, fmt.Errorf("%s: %w; replayed the %d items before the cut", file, err, n))
		err = nil
	}
	if err != nil {
		if errors.Is(err, c.ctx.Err()) {
			err = fmt.Errorf("%w (%d items replayed)", errInterrupted, n)
		} else {
			err = fmt.Errorf("%s: after %d items: %w", file, n, err)
		}
		return c.fail(name, err)
	}
	if *end {
		if err := w.CloseWrite(); err != nil {
			return c.fail(name, err)
		}
	}
	if err := w.Close(); err != nil {
		return c.fail(name, err)
	}
	if rd.Lost() > 0 {
		c.warn(name, fmt.Errorf("%s says its recorder missed %d items; replayed the %d it has", file, rd.Lost(), n))
	}
	fmt.Fprintf(c.stderr, "scb: replay %q: %d items from %s\n", name, n, file)
	return nil
}

// spinOf returns Options.Spin for --spin: poll for ever (waits still end
// for a signal and the end of the stream), or the default.
func spinOf(spin bool) int {
	if spin {
		return math.MaxInt
	}
	return 0
}
