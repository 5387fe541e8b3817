package main

// The commands that move items: push and pop.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/sharedcbuff/scb"
)

var pushCommand = &command{
	name:    "push",
	usage:   "NAME VALUE... [--wait] [--timeout D] [--grace D] [--end]\nNAME - [--wait] [--timeout D] [--grace D] [--end]\n--bytes NAME [--wait] [--timeout D] [--grace D] [--end]\nNAME --end",
	summary: "push integers, or lines of standard input, into a buffer",
	help: `
Push writes items into the buffer NAME, in order. Each VALUE is an unsigned
decimal integer that must fit in the buffer's item size (255 for one byte,
65535 for two, ...). A VALUE of "-" reads the integers from standard input
instead, separated by newlines, spaces or tabs; more than 64 characters
without one is an error.

With --bytes, each line of standard input is one item of raw bytes, without
its newline (and without a trailing carriage return); an empty line is an
empty item. A line longer than the item size is an error, after the lines
before it were pushed; push reads no further, and never holds more of the
input than an item's worth. A buffer made with --fixed takes only lines of
exactly its item size.

A full queue is an error (exit status 1) unless --wait or --timeout is given:
then push waits for a reader to make room, for at most --timeout D in all;
with --grace D it gives up (exit status 1, "every reader is gone") once
every reader of the queue has been gone for D.
A broadcast buffer is never full: the oldest item is overwritten.

With --end, push ends the stream once every item is pushed: readers read the
rest and then get end of stream, and pop --follow exits with status 0. The
next writer to attach opens the stream again.

A buffer file of another user in a directory anyone can write to, such as
/dev/shm, is refused unless --allow-other-owner is given: whoever planted it
there controls what it holds.`,
	examples: `
scb push jobs 1 2 3
seq 1 100000 | scb push jobs --wait -
printf 'hello\nworld\n' | scb push --bytes lines
scb push jobs 42 --timeout 5s
seq 1 100 | scb push jobs --wait --end -     # and pop --follow ends after 100
scb push jobs --end                          # end the stream, pushing nothing`,
	run: runPush,
}

// runPush pushes the integers of the command line or standard input, or
// the lines of standard input as byte items.
func runPush(c *call) error {
	asBytes := c.flags.Bool("bytes", false, "push each line of standard input as one item of bytes")
	wait := c.flags.Bool("wait", false, "wait for room while the buffer is full")
	timeout := c.durationFlag("timeout", 0, "wait for room for at most `D` in all, such as 2s (implies --wait)")
	end := c.flags.Bool("end", false, "end the stream after the last item: readers then get end of stream (pop --follow exits)")
	grace := c.durationFlag("grace", 0, "waiting, fail once every reader has been gone for `D` (default: wait for the next reader)")
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
	case len(values) == 0 && !*end:
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

	w, err := scb.OpenWriter(name, &scb.Options{Dir: c.dir, AllowOtherOwner: *other, Grace: graceOf(*grace)})
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
	closeW := w.Close
	if *end {
		closeW = w.CloseWrite
	}
	if err := closeW(); err != nil {
		return c.fail(name, err)
	}
	return nil
}

// parseValue parses an unsigned decimal integer.
func parseValue(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, invalidValue([]byte(s))
	}
	return n, nil
}

// quotedLen is the most of a value that an error message quotes.
const quotedLen = 32

// invalidValue is the error for v, which is not an integer: it quotes the
// first quotedLen bytes of v.
func invalidValue(v []byte) error {
	q := strconv.Quote(string(v[:min(len(v), quotedLen)]))
	if len(v) > quotedLen {
		q += "..."
	}
	return fmt.Errorf("invalid VALUE %s: want an unsigned decimal integer below 2^64", q)
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
// push that is waiting for input. It hands over the items in batches of
// those already read, so that a fast producer is not held back by the
// hand-over and a slow one's items are pushed as they come. A batch holds
// at most batchItems items and, but for its last item, batchBytes bytes.
func (p *pusher) pushLines(ctx context.Context, stdin io.Reader, asBytes bool) error {
	batches := make(chan *batch, 4)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(batches)
		in := &input{br: bufio.NewReaderSize(stdin, 64<<10), lines: asBytes, limit: p.w.ItemSize() + 1}
		b := new(batch)
		for {
			item, err := in.next()
			if err == nil {
				b.add(item, in.line)
			}
			if len(b.lines) > 0 && (len(b.lines) == batchItems || len(b.data) >= batchBytes || in.br.Buffered() == 0 || err != nil) {
				select {
				case batches <- b:
					b = new(batch)
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
	for {
		var b *batch
		var ok bool
		select {
		case b, ok = <-batches:
		case <-ctx.Done():
			return fmt.Errorf("%w (%d items pushed)", errInterrupted, p.pushed)
		}
		if !ok {
			select {
			case err := <-readErr:
				var le *lineError
				if errors.As(err, &le) {
					return p.lineFailed(le.line, le.err, asBytes)
				}
				return fmt.Errorf("read standard input: %w (%d items pushed)", err, p.pushed)
			default:
				return nil
			}
		}
		start := 0
		for i, end := range b.ends {
			if err := p.pushItem(b.data[start:end], asBytes); err != nil {
				return p.lineFailed(b.lines[i], err, asBytes)
			}
			start = end
		}
	}
}

// lineFailed words the error err about line n of standard input.
func (p *pusher) lineFailed(n int, err error, asBytes bool) error {
	what := "values"
	if asBytes {
		what = "lines"
	}
	return fmt.Errorf("line %d: %w (%d %s pushed)", n, err, p.pushed, what)
}

// pushItem pushes one item of standard input: a line as a byte item, or an
// integer.
func (p *pusher) pushItem(item []byte, asBytes bool) error {
	if asBytes {
		item = bytes.TrimSuffix(item, []byte("\r"))
		if len(item) > p.w.ItemSize() {
			return fmt.Errorf("%w: %d bytes, item size is %d", scb.ErrTooLarge, len(item), p.w.ItemSize())
		}
		return p.pushBytes(item)
	}
	n, err := parseValue(string(item))
	if err == nil {
		err = p.fits(n)
	}
	if err == nil {
		err = p.pushUint(n)
	}
	return err
}

// The limits of a batch of items handed from the goroutine that reads
// standard input to the one that pushes.
const (
	batchItems = 256
	batchBytes = 64 << 10
)

// batch is items of standard input, copied out of the reader's buffer.
type batch struct {
	data  []byte // the items, one after the other
	ends  []int  // where each item ends in data
	lines []int  // the line each item is on
}

func (b *batch) add(item []byte, line int) {
	b.data = append(b.data, item...)
	b.ends = append(b.ends, len(b.data))
	b.lines = append(b.lines, line)
}

// maxValueBytes bounds an integer of standard input: 20 digits hold any
// uint64, and leading zeros are allowed up to this.
const maxValueBytes = 64

// input reads the items of standard input for push, one at a time, and
// never holds more of the input than one item's worth: a line of at most
// limit bytes, or an integer of at most maxValueBytes. A longer one ends
// the reading with a *lineError at once; the rest of the input is not read.
type input struct {
	br    *bufio.Reader
	lines bool // an item is a line; else a field of an integer
	limit int  // the longest line, without its newline
	line  int  // the line of the last item, from 1
	nl    int  // the newlines read
	buf   []byte
}

// lineError is about a line of standard input.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

// next returns the next item, which is valid until the next call; at the
// end of the input, io.EOF.
func (in *input) next() ([]byte, error) {
	if in.lines {
		return in.nextLine()
	}
	return in.nextField()
}

// nextLine returns the next line without its newline. The last line may
// lack a newline; an empty input has no line.
func (in *input) nextLine() ([]byte, error) {
	in.nl++
	in.line = in.nl
	in.buf = in.buf[:0]
	for {
		chunk, err := in.br.ReadSlice('\n')
		if err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		if len(in.buf)+len(chunk) > in.limit {
			return nil, &lineError{in.line, fmt.Errorf("%w: more than %d bytes, item size is %d",
				scb.ErrTooLarge, in.limit, in.limit-1)}
		}
		switch {
		case err == nil && len(in.buf) == 0:
			return chunk, nil // the whole line is in the reader's buffer
		case err == bufio.ErrBufferFull:
			in.buf = append(in.buf, chunk...)
			continue
		case err == io.EOF && len(in.buf)+len(chunk) == 0:
			return nil, io.EOF
		case err != nil && err != io.EOF:
			return nil, err
		}
		return append(in.buf, chunk...), nil
	}
}

// nextField returns the next integer's digits (or whatever stands where
// one should): the bytes up to a space, a tab, a newline or a carriage
// return.
func (in *input) nextField() ([]byte, error) {
	for {
		c, err := in.br.ReadByte()
		if err != nil {
			return nil, err
		}
		if c == '\n' {
			in.nl++
		}
		if !isSpace(c) {
			in.br.UnreadByte()
			break
		}
	}
	in.line = in.nl + 1
	in.buf = in.buf[:0]
	for {
		c, err := in.br.ReadByte()
		switch {
		case err == io.EOF:
			return in.buf, nil
		case err != nil:
			return nil, err
		case isSpace(c):
			in.br.UnreadByte() // the next call counts a newline
			return in.buf, nil
		case len(in.buf) == maxValueBytes:
			return nil, &lineError{in.line, invalidValue(in.buf)}
		}
		in.buf = append(in.buf, c)
	}
}

// isSpace reports whether c separates integers.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

var popCommand = &command{
	name:    "pop",
	usage:   "NAME [-n N] [--wait] [--timeout D] [--grace D] [--follow] [--bytes] [--lease [-- COMMAND...]]",
	summary: "pop items and print them, one per line",
	help: `
Pop reads items from the buffer NAME and prints them on standard output, one
per line: integers in decimal, or with --bytes each item's raw bytes followed
by a newline.

Without --wait, pop prints up to N items that are ready (one by default) and
never waits. With --wait it waits until it has printed N; with --timeout D it
waits at most D in all and prints what arrived. With --follow it keeps
printing items as they arrive until the writer ends the stream (push --end,
or Writer.CloseWrite) or it is interrupted (Ctrl-C), either of which exits
with status 0 and releases the reader's role, or until --timeout. Waiting,
pop also waits for the buffer to be created, and for an Atomic queue's
reader role while another reader holds it. If the buffer
is removed, or replaced by a new buffer of the same name, a waiting pop
prints the items it can still read, says "buffer was removed" and exits
with status 1. A writer that comes and goes (scb push is one) leaves the
stream open, and a waiting pop waits for the next; with --grace D it
instead says so ("every writer is gone") and exits with status 1 once every
writer has been gone for D without ending the stream (closed, or killed),
where the platform can tell (Linux, Windows).

When there was nothing to print (the buffer was empty, or the stream ended),
pop prints nothing and exits with status 3, so that a script can loop on it.

A queue's items are consumed: the next pop continues after them, and what
pop has taken is gone even if the program reading its output stops early
(to take N items, use -n N rather than piping into head). On a
broadcast buffer nothing is consumed: each pop starts at the oldest item the
buffer still holds. If the writer overwrites items before pop reads them, pop
says how many were lost on standard error and goes on.

With --lease (a queue only) pop takes each item under a lease and
acknowledges it only once it has written it out, so an item is not lost
when pop is killed or its output cannot be written: it goes, first, to the
next reader that takes. With a command after --, pop runs the command once
per item instead of printing it, with the item on the command's standard
input (as pop would print it) and its position and deliveries in the
environment (SCB_POS, SCB_DELIVERIES); the item is acknowledged when the
command exits with status 0, and given back otherwise, and pop then stops
with status 1, naming the command's status. An item delivered again (its first holder died
or gave it back) has SCB_DELIVERIES above 1 and the same SCB_POS.

A buffer file of another user in a directory anyone can write to, such as
/dev/shm, is refused unless --allow-other-owner is given: whoever planted it
there controls what it holds.`,
	examples: `
scb pop jobs
scb pop jobs -n 100
scb pop jobs --wait --timeout 10s
scb pop jobs --follow | while read v; do echo "got $v"; done
scb pop jobs --follow --grace 1s     # and exit 1 if the producer dies
while v=$(scb pop jobs); do echo "$v"; done     # drain a queue
scb pop --bytes lines -n 10
scb pop jobs --follow --lease -- sh -c 'process "$(cat)"'   # each job done, or given back`,
	run: runPop,
}

// graceOf turns --grace into Options.Grace: the command's default is to
// wait for the next writer (or reader) for ever, as its own push and pop
// come and go.
func graceOf(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// runPop prints items of one buffer.
func runPop(c *call) error {
	n := c.intFlag("n", 1, "print up to `N` items (with --wait, exactly N)", 1, "item")
	wait := c.flags.Bool("wait", false, "wait for items while the buffer is empty")
	timeout := c.durationFlag("timeout", 0, "wait at most `D` in all, such as 2s (implies --wait)")
	follow := c.flags.Bool("follow", false, "keep printing items as they arrive, until interrupted")
	asBytes := c.flags.Bool("bytes", false, "print each item's raw bytes instead of an integer")
	lease := c.flags.Bool("lease", false, "take each item under a lease, acknowledged once written out (or once the command after -- succeeds)")
	grace := c.durationFlag("grace", 0, "waiting, fail once every writer has been gone for `D` without ending the stream (default: wait for the next writer)")
	other := c.otherOwnerFlag()
	if err := c.parse("NAME", "[COMMAND...]"); err != nil {
		return err
	}
	name, command := c.args[0], c.args[1:]
	if *follow && c.isSet("n") {
		return c.usagef("--follow prints every item; it takes no -n")
	}
	if len(command) > 0 && !*lease {
		return c.usagef("a command after -- needs --lease")
	}

	ctx := c.ctx
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	waiting := *wait || *timeout > 0 || *follow

	// Waiting, pop also waits for the buffer to appear (and for the reader
	// role, which an Atomic queue gives one reader at a time).
	opts := &scb.Options{Dir: c.dir, AllowOtherOwner: *other, Grace: graceOf(*grace)}
	var r *scb.Reader
	var err error
	if waiting {
		r, err = scb.OpenReaderWait(ctx, name, opts)
	} else {
		r, err = scb.OpenReader(name, opts)
	}
	if err != nil {
		if *follow && c.ctx.Err() != nil {
			return nil // interrupted while waiting for the buffer
		}
		return c.fail(name, err)
	}
	defer r.Close()
	var item []byte
	if *asBytes {
		item = make([]byte, r.ItemSize())
	}
	out := bufio.NewWriterSize(c.stdout, 64<<10)
	line := make([]byte, 0, 32)

	// pop reads one item into line, waiting or not; with --lease it keeps
	// the item's lease in held, for done.
	var held scb.Lease
	pop := func(wait bool) error {
		var v uint64
		var k int
		var err error
		switch {
		case *lease && *asBytes && wait:
			k, held, err = r.TakeBytesWait(ctx, item)
		case *lease && *asBytes:
			k, held, err = r.TakeBytes(item)
		case *lease && wait:
			v, held, err = r.TakeWait(ctx)
		case *lease:
			v, held, err = r.Take()
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
		if *lease {
			// The item is acknowledged only once it is written out (or
			// the command succeeded), and given back otherwise.
			if err := c.deliver(out, line, command, held); err != nil {
				held.GiveBack()
				return c.fail(name, err)
			}
			if err := held.Ack(); err != nil {
				return c.fail(name, err)
			}
			printed++
			continue
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
	case popErr == io.EOF && (*follow || printed > 0):
		return nil // the writer ended the stream: the normal end of --follow
	case popErr == io.EOF, popErr == scb.ErrEmpty, errors.Is(popErr, context.DeadlineExceeded):
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

// deliver hands a leased item on: it writes line out and flushes it, or,
// with a command, runs the command with line on its standard input and the
// lease's position and deliveries in its environment. It fails unless the
// item got out: then the caller gives the item back.
func (c *call) deliver(out *bufio.Writer, line []byte, command []string, l scb.Lease) error {
	if len(command) == 0 {
		if _, err := out.Write(line); err != nil {
			return fmt.Errorf("write standard output: %w", err)
		}
		if err := out.Flush(); err != nil {
			return fmt.Errorf("write standard output: %w", err)
		}
		return nil
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write standard output: %w", err)
	}
	cmd := exec.CommandContext(c.ctx, command[0], command[1:]...)
	cmd.Stdin = bytes.NewReader(line)
	cmd.Stdout, cmd.Stderr = c.stdout, c.stderr
	cmd.Env = append(os.Environ(),
		"SCB_POS="+strconv.FormatUint(l.Pos(), 10),
		"SCB_DELIVERIES="+strconv.Itoa(l.Deliveries()))
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("%s: %w (item at position %d given back)", command[0], err, l.Pos())
		}
		return err
	}
	return nil
}
