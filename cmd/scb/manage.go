package main

// The commands that manage buffers: create, stat, ls, rm.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sharedcbuff/scb"
)

var createCommand = &command{
	name:    "create",
	usage:   "NAME [flags]",
	summary: "make a new buffer",
	help: `
Create makes a new, empty buffer called NAME: the file NAME.scb in the
directory. A name is 1 to 200 characters of A-Z a-z 0-9 . _ - and does not
start with a dot; it does not end in .scb either, in any command: the buffer
whose file is jobs.scb is called jobs. Nothing is printed. Creating a buffer
that exists fails and leaves it alone.

A queue delivers each item to one reader, in order, and makes a writer wait
(or fail) when it is full. A broadcast buffer gives every reader every item
and overwrites the oldest item when it is full. The atomic strategy is
lock-free with one writer (and, for a queue, one reader) at a time; flock
allows any number of each: on Linux and Windows writers take turns through
a lock word in the buffer and readers take items without a lock (no system
call unless one waits); elsewhere it takes a file lock per operation.

The permission (--perm) is octal whether or not it starts with 0 or 0o:
660, 0660 and 0o660 are the same. A permission that lets the group or
others write, such as 0660 or 0666, is applied as asked, with a warning on
standard error: any of their processes can then change or empty the
buffer.`,
	examples: `
scb create jobs
scb create prices --mode broadcast --length 4096
scb create lines --item-size 256 --strategy flock --perm 0660`,
	run: runCreate,
}

// runCreate makes a buffer and detaches from it.
func runCreate(c *call) error {
	o := c.bufferOptions()
	c.intVar(&o.Length, "length", 1024, "the number of slots, `N` (at least 2)", 2, "slots")
	c.intVar(&o.ItemSize, "item-size", 8, "the largest item, `B` bytes (at least 1; 8 holds any integer)", 1, "byte")
	c.flags.BoolVar(&o.FixedSize, "fixed", false, "every item is exactly --item-size bytes: slots keep no length (faster for integers and records)")
	c.flags.Func("strategy", "atomic or flock (default atomic)", func(s string) (err error) {
		o.Strategy, err = scb.ParseStrategy(s)
		return causeOnly(err)
	})
	c.flags.Func("mode", "queue or broadcast (default queue)", func(s string) (err error) {
		o.Mode, err = scb.ParseMode(s)
		return causeOnly(err)
	})
	c.flags.Func("perm", "the files' permission, `P` in octal: 640 is 0640 (default 0600)", func(s string) (err error) {
		o.Perm, err = parsePerm(s)
		return err
	})
	if err := c.parse("NAME"); err != nil {
		return err
	}
	name := c.args[0]
	o.Dir = c.dir
	w, err := scb.Create(name, o)
	if err != nil {
		return c.fail(name, err)
	}
	if err := w.Close(); err != nil {
		return c.fail(name, err)
	}
	if o.Perm&0o022 != 0 {
		c.warn(name, fmt.Errorf("warning: --perm %#o lets %s write to the buffer", o.Perm, whoWrites(o.Perm)))
	}
	return nil
}

// parsePerm reads permission bits in octal, with or without a leading 0 or
// 0o: 640, 0640 and 0o640 are all rw-r-----.
func parsePerm(s string) (fs.FileMode, error) {
	p, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O"), 8, 32)
	if err != nil || p == 0 || p > 0o777 {
		return 0, errors.New("want octal permission bits such as 0640")
	}
	return fs.FileMode(p), nil
}

// whoWrites names who besides the owner may write under perm.
func whoWrites(perm fs.FileMode) string {
	switch perm & 0o022 {
	case 0o020:
		return "the group"
	case 0o002:
		return "other users"
	}
	return "the group and other users"
}

// causeOnly drops the "invalid options: " of a Parse error: in a flag's
// error message it only repeats what the message says.
func causeOnly(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	prefix := scb.ErrInvalidOptions.Error() + ": "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return errors.New(msg[len(prefix):])
	}
	return err
}

var statCommand = &command{
	name:    "stat",
	usage:   "NAME [--json]",
	summary: "describe a buffer",
	help: `
Stat describes the buffer NAME: its geometry, mode and strategy, file and
size, how many items were ever written and read, and how many are unread
(for a broadcast buffer, how many the ring holds, and how many were
overwritten). For a queue it also shows the unread items readers have taken
and not yet consumed (being read, leased, or given back to be taken again)
and the leases outstanding by holder: a holder is a reader handle, numbered
by its holder slot in the buffer. A holder that died is counted until a
reader that takes finds it gone and takes its items back. Stat reads the
file without attaching to the buffer, so it works while other processes use
it; the counts are a snapshot.`,
	examples: `
scb stat jobs
scb stat jobs --json | jq .unread`,
	run: runStat,
}

// runStat prints one buffer's Info as a table or JSON.
func runStat(c *call) error {
	asJSON := c.flags.Bool("json", false, "print a JSON object")
	if err := c.parse("NAME"); err != nil {
		return err
	}
	name := c.args[0]
	info, err := scb.Stat(name, c.bufferOptions())
	if err != nil {
		return c.fail(name, err)
	}
	if *asJSON {
		return writeJSON(c.stdout, infoJSONOf(info))
	}
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(w, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("name", "%s", info.Name)
	row("path", "%s", info.Path)
	row("mode", "%s", info.Mode)
	row("strategy", "%s", info.Strategy)
	row("length", "%d slots", info.Length)
	if info.Type != "" {
		row("type", "%s (typed handles of other types are refused)", info.Type)
	}
	if info.FixedSize {
		row("item size", "%d bytes, every item (fixed)", info.ItemSize)
	} else {
		row("item size", "%d bytes", info.ItemSize)
	}
	row("file size", "%d bytes (%s)", info.Size, humanBytes(info.Size))
	row("perm", "%#o", info.Perm)
	row("created", "%s", info.Created.Format(time.RFC3339))
	row("written", "%d", info.Written)
	if info.Mode == scb.Broadcast {
		row("held", "%d of %d (%s)", info.Unread, info.Length, percent(info.Unread, info.Length))
		row("overwritten", "%d", overwritten(info))
	} else {
		row("consumed", "%d", info.Consumed)
		row("unread", "%d of %d (%s)", info.Unread, info.Length, percent(info.Unread, info.Length))
		row("taken", "%s", takenState(info))
		row("leases", "%s", leaseState(info))
	}
	row("stream", "%s", streamState(info))
	row("holders", "%s", holderSummary(info))
	for _, h := range info.Holders {
		row(fmt.Sprintf("  #%d", h.Token), "%s", holderState(info, h)) // the token: "holder N" of leases
	}
	row("asleep", "%d readers, %d writers", info.ReadersWaiting, info.WritersWaiting)
	return w.Flush()
}

// takenState says how many unread items readers have taken, and how many
// of those were given back (or taken back from a holder that died).
func takenState(i scb.Info) string {
	if i.Returned == 0 {
		return fmt.Sprintf("%d (being read or leased)", i.Taken)
	}
	return fmt.Sprintf("%d (%d given back, to be taken again first)", i.Taken, i.Returned)
}

// leaseState lists the leases outstanding by holder, in holder order.
func leaseState(i scb.Info) string {
	if len(i.Leases) == 0 {
		return "none"
	}
	holders := slices.Sorted(maps.Keys(i.Leases))
	var b strings.Builder
	n := 0
	for _, h := range holders {
		n += i.Leases[h]
	}
	fmt.Fprintf(&b, "%d:", n)
	for _, h := range holders {
		fmt.Fprintf(&b, " holder %d has %d;", h, i.Leases[h])
	}
	return strings.TrimSuffix(b.String(), ";")
}

// streamState says whether a writer ended the stream, and which run it
// is.
func streamState(i scb.Info) string {
	if i.Ended {
		return fmt.Sprintf("ended, run %d (readers get end of stream once they have read the rest; a writer that attaches starts run %d)", i.Generation, i.Generation+1)
	}
	return fmt.Sprintf("open, run %d", i.Generation)
}

// holdersKnown reports whether Stat can prove who is attached here: where
// there are holder locks (scb.Info.Holders).
const holdersKnown = runtime.GOOS == "linux" || runtime.GOOS == "windows"

// holderSummary counts the attached handles by role.
func holderSummary(i scb.Info) string {
	if !holdersKnown {
		return "not known on " + runtime.GOOS + " (no holder locks)"
	}
	if len(i.Holders) == 0 {
		return "none attached"
	}
	writers := 0
	for _, h := range i.Holders {
		if h.Writer {
			writers++
		}
	}
	return fmt.Sprintf("%s, %s", plural(writers, "writer"), plural(len(i.Holders)-writers, "reader"))
}

// holderState describes one attached handle.
func holderState(i scb.Info, h scb.Holder) string {
	var b strings.Builder
	b.WriteString("reader")
	if h.Writer {
		b.Reset()
		b.WriteString("writer")
	}
	if h.Pid != 0 {
		fmt.Fprintf(&b, ", pid %d", h.Pid)
	} else {
		b.WriteString(", process unknown")
	}
	fmt.Fprintf(&b, ", since %s", h.Since.Format(time.RFC3339))
	switch {
	case h.Writer:
	case i.Mode == scb.Broadcast:
		fmt.Fprintf(&b, ", %d behind, %d lost", h.Lag, h.Lost)
	default:
		fmt.Fprintf(&b, ", %s", plural(h.Leases, "lease"))
	}
	if h.Asleep > 0 {
		fmt.Fprintf(&b, ", %d asleep", h.Asleep)
	}
	return b.String()
}

// plural says "1 writer" or "2 writers".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// infoJSON is the JSON form of scb.Info, for stat and ls.
type infoJSON struct {
	Name        string    `json:"name"`
	Path        string    `json:"path"`
	Mode        string    `json:"mode"`
	Strategy    string    `json:"strategy"`
	Length      int       `json:"length"`
	ItemSize    int       `json:"item_size"`
	FixedSize   bool      `json:"fixed_size"`
	Type        string    `json:"type,omitempty"`
	Size        int64     `json:"size"`
	Perm        string    `json:"perm"`
	Created     time.Time `json:"created"`
	Written     uint64    `json:"written"`
	Consumed    uint64    `json:"consumed"`
	Unread      int       `json:"unread"`
	Overwritten uint64    `json:"overwritten"`
	Ended       bool      `json:"ended"`
	Generation  int       `json:"generation"`
	WriterPid   int       `json:"writer_pid,omitempty"`
	ReaderPid   int       `json:"reader_pid,omitempty"`
	// Taken, Returned and Leases are scb.Info's (Queue only); JSON writes
	// Leases' holder keys as strings.
	Taken    int         `json:"taken"`
	Returned int         `json:"returned"`
	Leases   map[int]int `json:"leases,omitempty"`
	// Holders are scb.Info's: the attached handles.
	Holders []holderJSON `json:"holders"`
	// ReadersWaiting and WritersWaiting are scb.Info's sleeper counts.
	ReadersWaiting int `json:"readers_waiting"`
	WritersWaiting int `json:"writers_waiting"`
}

// holderJSON is the JSON form of scb.Holder.
type holderJSON struct {
	Token  int       `json:"token"`
	Role   string    `json:"role"`
	Pid    int       `json:"pid,omitempty"`
	Since  time.Time `json:"since"`
	Asleep int       `json:"asleep"`
	Leases int       `json:"leases,omitempty"`
	Lag    uint64    `json:"lag,omitempty"`
	Lost   uint64    `json:"lost,omitempty"`
}

func infoJSONOf(i scb.Info) infoJSON {
	return infoJSON{
		Name:        i.Name,
		Path:        i.Path,
		Mode:        i.Mode.String(),
		Strategy:    i.Strategy.String(),
		Length:      i.Length,
		ItemSize:    i.ItemSize,
		FixedSize:   i.FixedSize,
		Type:        i.Type,
		Size:        i.Size,
		Perm:        fmt.Sprintf("%#o", i.Perm),
		Created:     i.Created,
		Written:     i.Written,
		Consumed:    i.Consumed,
		Unread:      i.Unread,
		Overwritten: overwritten(i),
		Ended:       i.Ended,
		Generation:  i.Generation,
		WriterPid:   i.WriterPid,
		ReaderPid:   i.ReaderPid,
		Taken:       i.Taken,
		Returned:    i.Returned,
		Leases:      i.Leases,

		Holders: holdersJSON(i),

		ReadersWaiting: i.ReadersWaiting,
		WritersWaiting: i.WritersWaiting,
	}
}

func holdersJSON(i scb.Info) []holderJSON {
	hs := []holderJSON{}
	for _, h := range i.Holders {
		role := "reader"
		if h.Writer {
			role = "writer"
		}
		hs = append(hs, holderJSON{Token: h.Token, Role: role, Pid: h.Pid, Since: h.Since, Asleep: h.Asleep, Leases: h.Leases, Lag: h.Lag, Lost: h.Lost})
	}
	return hs
}

// overwritten returns how many items a Broadcast buffer has overwritten
// since it was created: every item written beyond the first Length.
func overwritten(i scb.Info) uint64 {
	if i.Mode != scb.Broadcast || i.Written <= uint64(i.Length) {
		return 0
	}
	return i.Written - uint64(i.Length)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

var lsCommand = &command{
	name:    "ls",
	usage:   "[--json]",
	summary: "list the buffers in the directory",
	help: `
Ls prints a table of the buffers in the directory, sorted by name: mode,
strategy, length, item size, unread items (held items for a broadcast
buffer), items ever written, file size, and whether the stream is open or
ended. Nothing is printed when there are
none. A file with a buffer's name that cannot be read as one is reported on
standard error, and the exit status is then 1.`,
	examples: `
scb ls
scb ls --dir /tmp/buffers --json`,
	run: runLs,
}

// runLs lists the buffers in the directory.
func runLs(c *call) error {
	asJSON := c.flags.Bool("json", false, "print a JSON array")
	if err := c.parse(); err != nil {
		return err
	}
	infos, err := scb.List(c.dir)
	var joined interface{ Unwrap() []error }
	if err != nil && !errors.As(err, &joined) {
		// The directory itself could not be read.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &runError{cmd: c.cmd.name, err: fmt.Errorf("%s: %w", c.bufferDir(), err), status: exitError}
	}
	if *asJSON {
		out := []infoJSON{}
		for _, i := range infos {
			out = append(out, infoJSONOf(i))
		}
		if err := writeJSON(c.stdout, out); err != nil {
			return err
		}
	} else if len(infos) > 0 {
		w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tMODE\tSTRATEGY\tLENGTH\tITEM\tUNREAD\tWRITTEN\tSIZE\tSTREAM")
		for _, i := range infos {
			stream := "open"
			if i.Ended {
				stream = "ended"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n",
				i.Name, i.Mode, i.Strategy, i.Length, i.ItemSize, i.Unread, i.Written, humanBytes(i.Size), stream)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if joined == nil {
		return nil
	}
	for _, e := range joined.Unwrap() {
		var se *scb.Error
		if errors.As(e, &se) {
			c.warn(se.Name, se.Err)
		} else {
			c.warn("", e)
		}
	}
	return exitStatus(exitError)
}

var rmCommand = &command{
	name:    "rm",
	usage:   "NAME... [--force]",
	summary: "remove buffers",
	help: `
Rm removes the buffers named, with their lock files. Processes that have a
buffer open keep using it until they detach (on Windows, removing an open
buffer fails). Every name is tried; each failure is reported on standard
error, and the exit status is then 1.`,
	examples: `
scb rm jobs
scb rm --force jobs prices lines`,
	run: runRm,
}

// runRm removes each buffer named.
func runRm(c *call) error {
	force := c.flags.Bool("force", false, "ignore buffers that do not exist")
	if err := c.parse("NAME..."); err != nil {
		return err
	}
	status := exitOK
	for _, name := range c.args {
		err := scb.Remove(name, c.bufferOptions())
		if err == nil || *force && errors.Is(err, scb.ErrNotExist) {
			continue
		}
		// Report and go on with the other names; the exit status is the
		// worst seen (a bad name is a usage error).
		status = max(status, report(c.stderr, c.fail(name, err)))
	}
	return exitStatus(status)
}

// Formatting helpers shared by the commands.

// humanBytes formats n as 512 B, 20.0 KiB, 1.5 MiB, ...
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// percent formats part/whole as a whole percentage.
func percent(part, whole int) string {
	if whole <= 0 {
		return "0%"
	}
	return strconv.Itoa(part*100/whole) + "%"
}
