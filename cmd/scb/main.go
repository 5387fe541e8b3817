// Command scb makes, fills, drains and inspects the named shared circular
// buffers of package github.com/sharedcbuff/scb from the shell: for scripts
// that pass data between processes, for test harnesses, and for looking at
// a buffer another program made.
//
// Usage:
//
//	scb <command> [arguments] [flags]
//
// The commands are:
//
//	create NAME          make a new buffer
//	push NAME VALUE...   push integers (VALUE "-": read them from standard input)
//	push --bytes NAME    push each line of standard input as one item
//	pop NAME             pop items and print them, one per line
//	stat NAME            describe a buffer
//	ls                   list the buffers in the directory
//	rm NAME...           remove buffers
//	watch NAME           show fill level and rates, refreshed live
//	record NAME FILE     write a buffer's items to a file, with positions and times
//	replay FILE NAME     write the items of a recording into a buffer
//	demo                 run a producer and a consumer process and report
//	version              print the version of scb and of Go ("scb --version")
//
// Run "scb <command> --help" for a command's flags and examples. Flags may
// come before, between or after the arguments, spelled -flag or --flag; "--"
// ends them. Every command takes --dir D, the directory the buffers live in;
// without it, $SCB_DIR, else /dev/shm on Linux, else the system's temporary
// directory.
//
// Standard output carries only values, one per line, and the tables of stat
// and ls and the report of demo; errors, warnings and progress go to
// standard error, one line each, naming the buffer:
//
//	scb: pop "jobs": buffer does not exist in /dev/shm
//
// The exit status is 0 on success, 1 after a runtime error, 2 for a usage
// error (unknown flag, missing argument, bad value), 3 when a pop found
// nothing to print, and 130 when a wait was interrupted.
//
// A shell pipeline through a buffer:
//
//	scb create jobs --length 64
//	seq 1 100000 | scb push jobs --wait - &
//	scb pop jobs --follow | consume
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/cmd/scb/internal/bench"
)

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1   // a runtime error
	exitUsage       = 2   // a bad command line
	exitEmpty       = 3   // a pop found nothing to print
	exitInterrupted = 130 // a wait ended by Ctrl-C or SIGTERM (128+SIGINT)
)

// command is one subcommand. Adding a subcommand is adding one entry to
// commands and writing its run function.
type command struct {
	name     string
	usage    string // the arguments, one usage line each: "NAME [flags]"
	summary  string // one line for the command list
	help     string // what the command does, for "scb NAME --help"
	examples string // example command lines, one per line
	hidden   bool   // not listed in the help (internal commands)
	run      func(c *call) error
}

// commands is the command table, in the order the help lists them.
var commands = []*command{
	createCommand,
	pushCommand,
	popCommand,
	peekCommand,
	statCommand,
	lsCommand,
	rmCommand,
	watchCommand,
	recordCommand,
	replayCommand,
	benchCommand,
	demoCommand,
	versionCommand,
	demoConsumerCommand,
}

func main() {
	// scb bench starts this program again as the far end of each
	// measurement; such a process does its part and exits here.
	if code, ok := bench.RunChild(); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(args) > 1 {
			// "scb help pop" is "scb pop --help".
			name, args = args[1], []string{args[1], "--help"}
			break
		}
		printUsage(stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	cmd := lookup(name)
	if cmd == nil {
		msg := fmt.Sprintf("unknown command %q", name)
		if s := suggest(name); s != "" {
			return report(stderr, &usageError{msg: fmt.Sprintf("%s; did you mean %q?", msg, s), noHint: true})
		}
		return report(stderr, &usageError{msg: msg})
	}

	// The first Ctrl-C or SIGTERM cancels ctx, so that waits end, handles
	// are closed and buffered output is written; a second one kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()

	c := &call{
		cmd:    cmd,
		ctx:    ctx,
		stdin:  stdin,
		stdout: stdout,
		stderr: stderr,
		flags:  flag.NewFlagSet(cmd.name, flag.ContinueOnError),
		raw:    args[1:],
	}
	c.flags.SetOutput(io.Discard)
	c.flags.StringVar(&c.dir, "dir", "", "the buffers are in directory `D` (default $SCB_DIR, else "+defaultDirText()+")")
	return report(stderr, cmd.run(c))
}

func lookup(name string) *command {
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd
		}
	}
	return nil
}

// suggest returns the listed command (or help) nearest to name, a command
// that does not exist, if it is at most two edits away and fewer than
// name's length; else "".
func suggest(name string) string {
	best, bestD := "", 3
	for _, cmd := range commands {
		if cmd.hidden {
			continue
		}
		if d := editDistance(strings.ToLower(name), cmd.name); d < bestD && d < len(name) {
			best, bestD = cmd.name, d
		}
	}
	if d := editDistance(strings.ToLower(name), "help"); d < bestD && d < len(name) {
		best = "help"
	}
	return best
}

// editDistance returns the Levenshtein distance between a and b: the
// fewest single-byte insertions, deletions and substitutions that make one
// the other.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// defaultDirText describes where buffers live without --dir or $SCB_DIR.
func defaultDirText() string {
	return "/dev/shm on Linux, else the temporary directory"
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `scb: named shared circular buffers between processes

Usage:
  scb <command> [arguments] [flags]

Commands:
`)
	for _, cmd := range commands {
		if !cmd.hidden {
			fmt.Fprintf(w, "  %-8s %s\n", cmd.name, cmd.summary)
		}
	}
	fmt.Fprintf(w, `
Every command takes --dir D, the directory of the buffers: by default
$SCB_DIR, else %s.
Here that is %s.
Flags may come before, between or after the arguments; "--" ends them.

Exit status: 0 success, 1 runtime error, 2 usage error, 3 nothing to pop,
130 interrupted.

Examples:
  scb create jobs --length 64
  scb push jobs 1 2 3
  scb pop jobs -n 3
  seq 1 1000 | scb push jobs --wait -     # in one shell
  scb pop jobs --follow                  # in another; Ctrl-C to stop
  scb demo

Run 'scb <command> --help' for a command's flags and examples.
`, defaultDirText(), scb.DefaultDir())
}

// call is one run of a command: its flags, arguments and standard files.
type call struct {
	cmd    *command
	ctx    context.Context // canceled by the first Ctrl-C or SIGTERM
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	flags *flag.FlagSet // the command's flags; --dir is already defined
	raw   []string      // the arguments after the command name
	args  []string      // the positional arguments, once parsed
	dir   string        // --dir: empty means the library's default
}

// parse parses the flags and checks the positional arguments against
// want, a list of names like "NAME" (exactly one), "NAME..." (one or more),
// "[NAME]" (optional) and "[NAME...]" (any number). Every argument in a
// NAME place is checked with checkName. With -h or --help it prints the
// command's help and returns errHelp.
func (c *call) parse(want ...string) error {
	args, err := parseArgs(c.flags, c.raw)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp(c.stdout)
		return errHelp
	}
	if err != nil {
		return c.usagef("%v", err)
	}
	c.args = args
	n := 0
	for _, w := range want {
		optional := strings.HasPrefix(w, "[")
		many := strings.HasSuffix(strings.TrimSuffix(w, "]"), "...")
		label := strings.TrimSuffix(strings.Trim(w, "[]"), "...")
		start := n
		switch {
		case n >= len(args) && !optional:
			return c.usagef("missing %s", label)
		case many:
			n = len(args)
		case n < len(args):
			n++
		}
		if label != "NAME" {
			continue
		}
		for _, name := range args[start:n] {
			if err := c.checkName(name); err != nil {
				return err
			}
		}
	}
	if n < len(args) {
		return c.usagef("unexpected argument %q", args[n])
	}
	return nil
}

// bufferExt is the ending of a buffer's file name, which the library adds
// to the buffer's name.
const bufferExt = ".scb"

// checkName refuses a buffer name that ends in .scb (in any case): that is
// the file's name, and the library would make or look for NAME.scb.scb.
// The library judges everything else about a name.
func (c *call) checkName(name string) error {
	base := name
	for len(base) > len(bufferExt) && strings.EqualFold(base[len(base)-len(bufferExt):], bufferExt) {
		base = base[:len(base)-len(bufferExt)]
	}
	if base == name {
		return nil
	}
	return c.usagef("invalid buffer name %q: name the buffer without the %s ending: %s", name, bufferExt, base)
}

// parseArgs parses the flags defined in fs wherever they are among args and
// returns the other arguments, in order. "--" ends the flags; "-" alone is
// an argument. A flag is -name or --name; one that takes a value takes it
// as -name=value or from the next argument.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		if name == "" || name[0] == '-' {
			return nil, fmt.Errorf("bad flag syntax %q", a)
		}
		f := fs.Lookup(name)
		if f == nil {
			if name == "h" || name == "help" {
				return nil, flag.ErrHelp
			}
			if _, err := strconv.ParseFloat(a, 64); err == nil {
				return nil, fmt.Errorf("unknown flag %s (negative numbers are not accepted)", a)
			}
			return nil, fmt.Errorf("unknown flag %s", flagName(name))
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 == len(args) {
				return nil, fmt.Errorf("flag %s needs a value", flagName(name))
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, fmt.Errorf("invalid value %q for %s: %v", value, flagName(name), explainValue(f, err))
		}
	}
	return pos, nil
}

// explainValue words the flag package's "parse error" for a flag of a
// number or a duration.
func explainValue(f *flag.Flag, err error) error {
	g, ok := f.Value.(flag.Getter)
	if !ok || err.Error() != "parse error" {
		return err
	}
	switch g.Get().(type) {
	case time.Duration:
		return errors.New("want a duration such as 500ms, 2s or 1m")
	case bool:
		return errors.New("want true or false")
	}
	return err
}

// flagName spells a flag as the help shows it: -n, --length.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// decimalFlag is an int flag that reads decimal only (the flag package's
// Int would read --length 010 as 8 and accept 0x10) and refuses a value
// below min, saying what the flag takes.
type decimalFlag struct {
	p    *int
	min  int
	unit string // what the flag counts, for the error: "slots", "item"
}

func (i *decimalFlag) String() string {
	if i.p == nil {
		return "0"
	}
	return strconv.Itoa(*i.p)
}

func (i *decimalFlag) Get() any { return *i.p }

func (i *decimalFlag) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("want a decimal integer")
	}
	if v < i.min {
		return fmt.Errorf("want at least %d %s", i.min, i.unit)
	}
	*i.p = v
	return nil
}

// intVar defines a decimal int flag that takes at least min of unit, as
// in "at least 2 slots". The rule for every flag: an explicit value that
// means nothing, 0 included, is refused; a default that stands for "not
// given" (such as watch's --count 0, run until interrupted) is only ever
// the default, never a value the command line can give.
func (c *call) intVar(p *int, name string, value int, usage string, min int, unit string) {
	*p = value
	c.flags.Var(&decimalFlag{p: p, min: min, unit: unit}, name, usage)
}

// intFlag defines a decimal int flag, as intVar, and returns where its
// value goes.
func (c *call) intFlag(name string, value int, usage string, min int, unit string) *int {
	p := new(int)
	c.intVar(p, name, value, usage, min, unit)
	return p
}

// durationFlag is a duration flag that takes only a duration above 0.
type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }
func (d *durationFlag) Get() any       { return time.Duration(*d) }

func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 500ms, 2s or 1m")
	}
	if v <= 0 {
		return errors.New("want a duration above 0, such as 500ms, 2s or 1m")
	}
	*d = durationFlag(v)
	return nil
}

// durationFlag defines a flag of a duration above 0 and returns where its
// value goes; value is the default, which may be 0 for "not given".
func (c *call) durationFlag(name string, value time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	*p = value
	c.flags.Var((*durationFlag)(p), name, usage)
	return p
}

// otherOwnerFlag defines --allow-other-owner, for the commands that attach
// to a buffer.
func (c *call) otherOwnerFlag() *bool {
	return c.flags.Bool("allow-other-owner", false, "attach to a buffer file of another user in a shared directory such as /dev/shm")
}

// isSet reports whether the flag was given on the command line.
func (c *call) isSet(name string) bool {
	set := false
	c.flags.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// printHelp writes the command's help: usage, description, flags,
// examples.
func (c *call) printHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage:")
	for _, u := range strings.Split(c.cmd.usage, "\n") {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace("scb "+c.cmd.name+" "+u))
	}
	fmt.Fprintf(w, "\n%s\n\nFlags:\n", strings.TrimSpace(c.cmd.help))
	type row struct{ left, usage string }
	var rows []row
	width := 0
	c.flags.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		left := flagName(f.Name)
		if arg != "" {
			left += " " + arg
		}
		switch f.DefValue {
		case "", "0", "false", "0s":
		default:
			usage += " (default " + f.DefValue + ")"
		}
		rows = append(rows, row{left, usage})
		width = max(width, len(left))
	})
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.left, r.usage)
	}
	if c.cmd.examples != "" {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range strings.Split(strings.TrimSpace(c.cmd.examples), "\n") {
			fmt.Fprintf(w, "  %s\n", strings.TrimSpace(e))
		}
	}
}

// Errors and exit statuses.

// errHelp ends a command that printed its help: exit status 0.
var errHelp = errors.New("help printed")

// exitStatus ends a command with a status and no message: 3 for a pop that
// found nothing, or 1 after errors that were already reported.
type exitStatus int

func (e exitStatus) Error() string { return "exit status " + strconv.Itoa(int(e)) }

// usageError is a bad command line: exit status 2.
type usageError struct {
	cmd    string // the subcommand, or empty
	msg    string
	noHint bool // the message says what to do: no "(see ...)"
}

// Error returns "scb CMD: MSG (see 'scb CMD --help')", or without the hint
// "scb CMD: MSG".
func (e *usageError) Error() string {
	switch {
	case e.noHint && e.cmd == "":
		return "scb: " + e.msg
	case e.noHint:
		return "scb " + e.cmd + ": " + e.msg
	case e.cmd == "":
		return "scb: " + e.msg + " (see 'scb --help')"
	}
	return "scb " + e.cmd + ": " + e.msg + " (see 'scb " + e.cmd + " --help')"
}

func (c *call) usagef(format string, args ...any) error {
	return &usageError{cmd: c.cmd.name, msg: fmt.Sprintf(format, args...)}
}

// runError is a failure while acting on a buffer: exit status 1, or 130
// for an interrupted wait.
type runError struct {
	cmd    string
	name   string // the buffer, or empty
	err    error  // the cause
	status int
}

// Error returns "scb: CMD "NAME": CAUSE", or "scb: CMD: CAUSE" without a
// buffer name.
func (e *runError) Error() string {
	if e.name == "" {
		return "scb: " + e.cmd + ": " + e.err.Error()
	}
	return "scb: " + e.cmd + " " + strconv.Quote(e.name) + ": " + e.err.Error()
}

func (e *runError) Unwrap() error { return e.err }

// errInterrupted is the cause reported for a wait ended by a signal.
var errInterrupted = errors.New("interrupted")

// fail returns the error to report for err, which came from acting on the
// buffer name (empty if none). The cause is taken out of an *scb.Error so
// that the library's operation name does not appear beside the command's.
// A bad buffer name or bad options are usage errors; a wait ended by a
// signal is reported as interrupted. A size of a mebibyte or more in the
// cause ("reserve 1600000000004096 bytes") gets a human reading beside it.
func (c *call) fail(name string, err error) error {
	var se *scb.Error
	if errors.As(err, &se) {
		err = se.Err
	}
	// ErrFull and ErrEmpty, returned bare, say "scb: " themselves, also
	// where the command wrapped them ("line 3: ..."): it says it first.
	msg := err.Error()
	for _, s := range []error{scb.ErrFull, scb.ErrEmpty} {
		msg = strings.ReplaceAll(msg, s.Error(), strings.TrimPrefix(s.Error(), "scb: "))
	}
	if msg = withHumanSizes(msg); msg != err.Error() {
		err = &reworded{msg: msg, err: err}
	}
	switch {
	case errors.Is(err, scb.ErrInvalidName):
		detail := strings.TrimPrefix(err.Error(), scb.ErrInvalidName.Error())
		return c.usagef("invalid buffer name %q%s", name, detail)
	case errors.Is(err, scb.ErrInvalidOptions):
		return c.usagef("%v", err)
	case errors.Is(err, errInterrupted):
		return &runError{cmd: c.cmd.name, name: name, err: err, status: exitInterrupted}
	case c.ctx.Err() != nil && errors.Is(err, context.Canceled):
		return &runError{cmd: c.cmd.name, name: name, err: errInterrupted, status: exitInterrupted}
	case errors.Is(err, scb.ErrUntrusted):
		// The library's advice names the Go option; give the flag's.
		err = errors.New(strings.Replace(err.Error(), "set Options.AllowOtherOwner", "pass --allow-other-owner", 1))
	}
	return &runError{cmd: c.cmd.name, name: name, err: err, status: exitError}
}

// reworded is err with another message.
type reworded struct {
	msg string
	err error
}

func (e *reworded) Error() string { return e.msg }
func (e *reworded) Unwrap() error { return e.err }

// bytesCount matches a count of bytes in an error message.
var bytesCount = regexp.MustCompile(`\b(\d+) bytes\b`)

// withHumanSizes adds to every "N bytes" in msg, with N at least a
// mebibyte, N in binary units: "1600000000004096 bytes (1.4 PiB)". One that
// is followed by a parenthesis already is left alone.
func withHumanSizes(msg string) string {
	var b strings.Builder
	last := 0
	for _, m := range bytesCount.FindAllStringSubmatchIndex(msg, -1) {
		n, err := strconv.ParseInt(msg[m[2]:m[3]], 10, 64)
		if err != nil || n < 1<<20 || strings.HasPrefix(msg[m[1]:], " (") {
			continue
		}
		b.WriteString(msg[last:m[1]])
		b.WriteString(" (" + humanBytes(n) + ")")
		last = m[1]
	}
	if last == 0 {
		return msg
	}
	return b.String() + msg[last:]
}

// warn writes a one-line message about buffer name to standard error.
func (c *call) warn(name string, err error) {
	fmt.Fprintln(c.stderr, (&runError{cmd: c.cmd.name, name: name, err: err}).Error())
}

// report writes err to w, if it says anything, and returns the exit status
// for it.
func report(w io.Writer, err error) int {
	var (
		st exitStatus
		ue *usageError
		re *runError
	)
	switch {
	case err == nil, err == errHelp:
		return exitOK
	case errors.As(err, &st):
		return int(st)
	case errors.As(err, &ue):
		fmt.Fprintln(w, ue.Error())
		return exitUsage
	case errors.As(err, &re):
		fmt.Fprintln(w, re.Error())
		return re.status
	}
	fmt.Fprintln(w, "scb: "+err.Error())
	return exitError
}

// bufferOptions returns the options that find buffers in --dir.
func (c *call) bufferOptions() *scb.Options {
	return &scb.Options{Dir: c.dir}
}

// bufferDir returns the directory the buffers are in.
func (c *call) bufferDir() string {
	if c.dir != "" {
		return c.dir
	}
	return scb.DefaultDir()
}

// isTerminal reports whether w is a terminal (a character device), where
// output may be rewritten in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
