package main

// The commands that move items: push and pop.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sharedcbuff/scb"
)

var pushCommand = &command{
	name:    "push",
	usage:   "NAME VALUE... [--wait] [--timeout D]\nNAME - [--wait] [--timeout D]\n--bytes NAME [--wait] [--timeout D]",
	summary: "push integers, or lines of standard input, into a buffer",
	help: `
Push writes items into the buffer NAME, in order. Each VALUE is an unsigned
decimal integer that must fit in the buffer's item size (255 for one byte,
65535 for two, ...). A VALUE of "-" reads the integers from standard input
instead, separated by newlines or spaces.

With --bytes, each line of standard input is one item of raw bytes, without
its newline (and without a trailing carriage return); an empty line is an
empty item. A line longer than the item size is an error, after the lines
before it were pushed.

A full queue is an error (exit status 1) unless --wait or --timeout is given:
then push waits for a reader to make room, for at most --timeout D in all.
A broadcast buffer is never full: the oldest item is overwritten.

A buffer file of another user in a directory anyone can write to, such as
/dev/shm, is refused unless --allow-other-owner is given: whoever planted it
there controls what it holds.`,
	examples: `
scb push jobs 1 2 3
seq 1 100000 | scb push jobs --wait -
printf 'hello\nworld\n' | scb push --bytes lines
scb push jobs 42 --timeout 5s`,
	run: runPush,
}

// runPush pushes the integers of the command line or standard input, or
// the lines of standard input as byte items.
func runPush(c *call) error {
	asBytes := c.flags.Bool("bytes", false, "push each line of standard input as one item of bytes")
	wait := c.flags.Bool("wait", false, "wait for room while the buffer is full")
	timeout := c.flags.Duration("timeout", 0, "wait for room for at most `D` in all, such as 2s (implies --wait)")
	other := c.otherOwnerFlag()
	if err := c.parse("NAME", "[VALUE...]"); err != nil {
		return err
	}
	name, values := c.args[0], c.args[1:]
	fromStdin := len(values) == 1 && values[0] == "-"
	var nums []uint64
	switch {
	case *asBytes && len(values) > 0 && !fromStdin:
		return c.usagef("with --bytes the items come from standard input, not the command line")
	case *asBytes:
		fromStdin = true
	case len(values) == 0:
		return c.usagef("missing VALUE")
	case !fromStdin:
		for _, v := range values {
			n, err := parseValue(v)
			if err != nil {
				return c.usagef("%v", err)
			}
			nums = append(nums, n)
		}
	}
	if *timeout < 0 {
		return c.usagef("--timeout must not be negative")
	}

	w, err := scb.OpenWriter(name, &scb.Options{Dir: c.dir, AllowOtherOwner: *other})
	if err != nil {
		return c.fail(name, err)
	}
	defer w.Close()

	ctx := c.ctx
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	p := &pusher{w: w, ctx: ctx, wait: *wait || *timeout > 0, timeout: *timeout}

	// Values from the command line are checked before any is pushed.
	for _, n := range nums {
		if err := p.fits(n); err != nil {
			return c.fail(name, err)
		}
	}
	var pushErr error
	switch {
	case !fromStdin:
		for _, n := range nums {
			if pushErr = p.pushUint(n); pushErr != nil {
				break
			}
		}
		if pushErr != nil {
			pushErr = fmt.Errorf("%w (%d of %d values pushed)", pushErr, p.pushed, len(nums))
		}
	default:
		pushErr = p.pushLines(c.ctx, c.stdin, *asBytes)
	}
	if pushErr != nil {
		return c.fail(name, pushErr)
	}
	if err := w.Close(); err != nil {
		return c.fail(name, err)
	}
	return nil
}

// parseValue parses an unsigned decimal integer of the command line.
func parseValue(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid VALUE %q: want an unsigned decimal integer below 2^64", s)
	}
	return n, nil
}

// pusher pushes items through one Writer, waiting for room or not.
type pusher struct {
	w       *scb.Writer
	ctx     context.Context // the wait's deadline and interruption
	wait    bool
	timeout time.Duration
	pushed  int // items pushed so far
}

// fits reports whether n fits the buffer's item size, as Push would.
func (p *pusher) fits(n uint64) error {
	if size := p.w.ItemSize(); size < 8 && n>>(8*size) != 0 {
		return fmt.Errorf("%w: %d does not fit in %d bytes", scb.ErrRange, n, size)
	}
	return nil
}

func (p *pusher) pushUint(n uint64) error {
	var err error
	if p.wait {
		err = p.w.PushWait(p.ctx, n)
	} else {
		err = p.w.Push(n)
	}
	return p.done(err)
}

func (p *pusher) pushBytes(b []byte) error {
	var err error
	if p.wait {
		err = p.w.PushBytesWait(p.ctx, b)
	} else {
		err = p.w.PushBytes(b)
	}
	return p.done(err)
}

// done counts a successful push and words the errors of waiting.
func (p *pusher) done(err error) error {
	if err == nil {
		p.pushed++
		return nil
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("timed out after %v waiting for room", p.timeout)
	case errors.Is(err, context.Canceled):
		return errInterrupted
	}
	return err
}

// pushLines pushes what stdin holds: lines as byte items, or integers.
// Standard input is read by another goroutine, so that an interrupt ends a
// push that is waiting for input. It hands over the lines in batches of
// those already read, so that a fast producer is not held back by the
// hand-over and a slow one's lines are pushed as they come.
func (p *pusher) pushLines(ctx context.Context, stdin io.Reader, asBytes bool) error {
	batches := make(chan [][]byte, 4)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(batches)
		br := bufio.NewReaderSize(stdin, 64<<10)
		var batch [][]byte
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				batch = append(batch, line)
			}
			if len(batch) > 0 && (len(batch) == 256 || br.Buffered() == 0 || err != nil) {
				select {
				case batches <- batch:
					batch = nil
				case <-stop:
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					readErr <- err
				}
				return
			}
		}
	}()
	lineNo := 0
	for {
		var batch [][]byte
		var ok bool
		select {
		case batch, ok = <-batches:
		case <-ctx.Done():
			return fmt.Errorf("%w (%d items pushed)", errInterrupted, p.pushed)
		}
		if !ok {
			select {
			case err := <-readErr:
				return fmt.Errorf("read standard input: %w (%d items pushed)", err, p.pushed)
			default:
				return nil
			}
		}
		for _, line := range batch {
			lineNo++
			if err := p.pushLine(line, lineNo, asBytes); err != nil {
				return err
			}
		}
	}
}

// pushLine pushes one line of standard input: as one byte item, or the
// integers on it.
func (p *pusher) pushLine(line []byte, lineNo int, asBytes bool) error {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if asBytes {
		if len(line) > p.w.ItemSize() {
			return fmt.Errorf("line %d: %w: %d bytes, item size is %d (%d lines pushed)",
				lineNo, scb.ErrTooLarge, len(line), p.w.ItemSize(), p.pushed)
		}
		if err := p.pushBytes(line); err != nil {
			return fmt.Errorf("line %d: %w (%d lines pushed)", lineNo, err, p.pushed)
		}
		return nil
	}
	for _, field := range bytes.Fields(line) {
		n, err := parseValue(string(field))
		if err == nil {
			err = p.fits(n)
		}
		if err == nil {
			err = p.pushUint(n)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w (%d values pushed)", lineNo, err, p.pushed)
		}
	}
	return nil
}

var popCommand = &command{
	name:    "pop",
	usage:   "NAME [-n N] [--wait] [--timeout D] [--follow] [--bytes]",
	summary: "pop items and print them, one per line",
	help: `
Pop reads items from the buffer NAME and prints them on standard output, one
per line: integers in decimal, or with --bytes each item's raw bytes followed
by a newline.

Without --wait, pop prints up to N items that are ready (one by default) and
never waits. With --wait it waits until it has printed N; with --timeout D it
waits at most D in all and prints what arrived. With --follow it keeps
printing items as they arrive until interrupted (Ctrl-C, which exits with
status 0 and releases the reader's role) or until --timeout.

When there was nothing to print, pop prints nothing and exits with status 3,
so that a script can loop on it.

A queue's items are consumed: the next pop continues after them, and what
pop has taken is gone even if the program reading its output stops early
(to take N items, use -n N rather than piping into head). On a
broadcast buffer nothing is consumed: each pop starts at the oldest item the
buffer still holds. If the writer overwrites items before pop reads them, pop
says how many were lost on standard error and goes on.

A buffer file of another user in a directory anyone can write to, such as
/dev/shm, is refused unless --allow-other-owner is given: whoever planted it
there controls what it holds.`,
	examples: `
scb pop jobs
scb pop jobs -n 100
scb pop jobs --wait --timeout 10s
scb pop jobs --follow | while read v; do echo "got $v"; done
while v=$(scb pop jobs); do echo "$v"; done     # drain a queue
scb pop --bytes lines -n 10`,
	run: runPop,
}

// runPop prints items of one buffer.
func runPop(c *call) error {
	n := c.intFlag("n", 1, "print up to `N` items (with --wait, exactly N)")
	wait := c.flags.Bool("wait", false, "wait for items while the buffer is empty")
	timeout := c.flags.Duration("timeout", 0, "wait at most `D` in all, such as 2s (implies --wait)")
	follow := c.flags.Bool("follow", false, "keep printing items as they arrive, until interrupted")
	asBytes := c.flags.Bool("bytes", false, "print each item's raw bytes instead of an integer")
	other := c.otherOwnerFlag()
	if err := c.parse("NAME"); err != nil {
		return err
	}
	name := c.args[0]
	switch {
	case *n < 1:
		return c.usagef("-n must be at least 1")
	case *follow && c.isSet("n"):
		return c.usagef("--follow prints every item; it takes no -n")
	case *timeout < 0:
		return c.usagef("--timeout must not be negative")
	}

	r, err := scb.OpenReader(name, &scb.Options{Dir: c.dir, AllowOtherOwner: *other})
	if err != nil {
		return c.fail(name, err)
	}
	defer r.Close()

	ctx := c.ctx
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	waiting := *wait || *timeout > 0 || *follow
	var item []byte
	if *asBytes {
		item = make([]byte, r.ItemSize())
	}
	out := bufio.NewWriterSize(c.stdout, 64<<10)
	line := make([]byte, 0, 32)

	// pop reads one item into line, waiting or not.
	pop := func(wait bool) error {
		var v uint64
		var k int
		var err error
		switch {
		case *asBytes && wait:
			k, err = r.PopBytesWait(ctx, item)
		case *asBytes:
			k, err = r.PopBytes(item)
		case wait:
			v, err = r.PopWait(ctx)
		default:
			v, err = r.Pop()
		}
		if err != nil {
			return err
		}
		if *asBytes {
			line = append(line[:0], item[:k]...)
		} else {
			line = strconv.AppendUint(line[:0], v, 10)
		}
		line = append(line, '\n')
		return nil
	}

	printed := 0
	var popErr error
	for *follow || printed < *n {
		if printed%256 == 255 && ctx.Err() != nil {
			// A stream that never runs dry never waits, where an
			// interrupt or the timeout would be noticed.
			popErr = ctx.Err()
			break
		}
		err := pop(false)
		if err == scb.ErrEmpty && waiting {
			// Show what was popped before going to sleep.
			if err := out.Flush(); err != nil {
				return c.fail(name, fmt.Errorf("write standard output: %w", err))
			}
			err = pop(true)
		}
		var over *scb.OverrunError
		if errors.As(err, &over) {
			if err := out.Flush(); err != nil {
				return c.fail(name, fmt.Errorf("write standard output: %w", err))
			}
			c.warn(name, over)
			continue
		}
		if err != nil {
			popErr = err
			break
		}
		if _, err := out.Write(line); err != nil {
			return c.fail(name, fmt.Errorf("write standard output: %w", err))
		}
		printed++
	}
	if err := out.Flush(); err != nil {
		return c.fail(name, fmt.Errorf("write standard output: %w", err))
	}

	switch {
	case popErr == nil:
		return nil
	case popErr == scb.ErrEmpty, errors.Is(popErr, context.DeadlineExceeded):
		// Nothing more to read now, or not within the timeout.
		if printed == 0 && !*follow {
			return exitStatus(exitEmpty)
		}
		return nil
	case *follow && c.ctx.Err() != nil:
		return nil // interrupted: the normal end of --follow
	case errors.Is(popErr, scb.ErrRange):
		return c.fail(name, fmt.Errorf("%w (read it with --bytes)", unwrapScb(popErr)))
	}
	return c.fail(name, popErr)
}

// unwrapScb returns the cause of an *scb.Error, or err.
func unwrapScb(err error) error {
	var se *scb.Error
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}
