package main

// The peek command: the next items of a buffer, without taking them.

import (
	"bufio"
	"fmt"
	"strconv"

	"github.com/sharedcbuff/scb"
)

var peekCommand = &command{
	name:    "peek",
	usage:   "NAME [-n N] [--bytes] [--pos]",
	summary: "print the next items without consuming them",
	help: `
Peek prints the next N items of the buffer NAME (one by default) as pop
would print them, without consuming anything and without attaching: no role
is taken and no lock is held, so it works beside a worker pool's readers
and an Atomic queue's one reader, and stops none of them. For a queue these
are the unread items from the next one a reader takes on (items leased and
not yet acknowledged included); for a broadcast buffer, the oldest items
the buffer holds, where a new reader starts. With --pos each line starts
with the item's position (its number since the buffer was created) and a
tab. An item consumed or overwritten while peek copies it is left out.

When there is nothing to print, peek prints nothing and exits with status 3,
as pop does.`,
	examples: `
scb peek jobs
scb peek jobs -n 10 --pos
scb peek --bytes lines -n 5`,
	run: runPeek,
}

// runPeek prints the next items of one buffer.
func runPeek(c *call) error {
	n := c.intFlag("n", 1, "print up to `N` items", 1, "item")
	asBytes := c.flags.Bool("bytes", false, "print each item's raw bytes instead of an integer")
	withPos := c.flags.Bool("pos", false, "start each line with the item's position and a tab")
	other := c.otherOwnerFlag()
	if err := c.parse("NAME"); err != nil {
		return err
	}
	name := c.args[0]
	items, err := scb.Look(name, *n, &scb.Options{Dir: c.dir, AllowOtherOwner: *other})
	if err != nil {
		return c.fail(name, err)
	}
	if len(items) == 0 {
		return exitStatus(exitEmpty)
	}
	out := bufio.NewWriter(c.stdout)
	for _, it := range items {
		if *withPos {
			out.WriteString(strconv.FormatUint(it.Pos, 10))
			out.WriteByte('\t')
		}
		if *asBytes {
			out.Write(it.Data)
		} else {
			v, ok := decodeUint(it.Data)
			if !ok {
				out.Flush()
				return c.fail(name, fmt.Errorf("%w: item %d has %d bytes that do not hold a uint64 (read it with --bytes)", scb.ErrRange, it.Pos, len(it.Data)))
			}
			out.WriteString(strconv.FormatUint(v, 10))
		}
		out.WriteByte('\n')
	}
	if err := out.Flush(); err != nil {
		return c.fail(name, fmt.Errorf("write standard output: %w", err))
	}
	return nil
}

// decodeUint reads an integer item as Reader.Pop does: big-endian in all
// its bytes, with any bytes before the last 8 zero.
func decodeUint(d []byte) (uint64, bool) {
	var v uint64
	for i, b := range d {
		if i < len(d)-8 && b != 0 {
			return 0, false
		}
		v = v<<8 | uint64(b)
	}
	return v, true
}
