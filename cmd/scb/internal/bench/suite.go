package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Config sets how much Run measures.
type Config struct {
	Runs     int    // measurements of every figure; the median is reported (default 5)
	Quick    bool   // a tenth of the items, for a smoke run
	Dir      string // where buffers and mappings go (default os.TempDir())
	Progress func(step, steps int, what string)
	Counts   Counts          // overrides the item counts where not zero
	Context  context.Context // when done, Run stops after the measurement under way
	// Only names the groups of figures to measure (see Groups); none means
	// all of them.
	Only []string
	// Start, if set, is called with the report's header (no rows yet)
	// before the first measurement, and Row with each row as soon as its
	// figure is measured, so that a caller can print the table as it goes.
	Start func(*Report)
	Row   func(Row)
}

// Counts are the items per measurement.
type Counts struct {
	Small      int `json:"small_items"`      // 8-byte items per throughput run
	Medium     int `json:"medium_items"`     // 1 KiB items per throughput run
	Large      int `json:"large_items"`      // 4 KiB items per throughput run
	Contended  int `json:"contended_items"`  // 8-byte items per MPMC or oversubscribed run (oversubscribed batches move Small)
	RoundTrips int `json:"round_trips"`      // per round-trip run
	Runs       int `json:"runs"`             // runs per figure
	LargeSize  int `json:"large_item_bytes"` // bytes per large item
	Load       int `json:"load_processes"`   // CPU-bound processes beside oversubscribed runs
}

// Report is the outcome of Run.
type Report struct {
	Date   time.Time `json:"date"`
	GOOS   string    `json:"goos"`
	GOARCH string    `json:"goarch"`
	CPUs   int       `json:"cpus"`
	Counts Counts    `json:"counts"`
	Rows   []Row     `json:"rows"`
}

// Row is one figure for one strategy, with the baselines measured in the
// same runs. Values maps a column ("scb", "pipe", "socket", "chan",
// "bare", "copy") to the median of the runs: items or bytes per second in
// the row's Unit for throughput, the median round trip for latency (whose
// P99 and P999 are in their own maps). Ratios divide scb's value by each
// baseline's. ID names the figure independently of its wording, the same
// for both strategies ("small", "mpmc2", "oversub-batch", ...), and Group
// is what Config.Only selects it by.
type Row struct {
	ID       string             `json:"id"`
	Group    string             `json:"group"`
	Figure   string             `json:"figure"`
	Strategy string             `json:"strategy"`
	Unit     string             `json:"unit"`
	Values   map[string]float64 `json:"values"`
	P99      map[string]float64 `json:"p99,omitempty"`
	P999     map[string]float64 `json:"p999,omitempty"`
	Ratios   map[string]float64 `json:"ratios"`
	Target   string             `json:"target,omitempty"`
	Met      *bool              `json:"met,omitempty"`
}

// columns in table order, with their headings.
var columns = []struct{ key, head string }{
	{"scb", "scb"}, {"pipe", "pipe"}, {"socket", "unix socket"}, {"chan", "chan"}, {"bare", "bare loop"}, {"copy", "copy"},
}

// Groups lists the groups of figures, in the order Run measures them, with
// what each holds.
var Groups = []struct{ Name, Holds string }{
	{"small", "8 B items, 1 per call"},
	{"batch", "8 B items, batches of 64"},
	{"1k", "1 KiB items, 1 per call, copied and zero-copy (in M items/s)"},
	{"4k", "4 KiB items, copied and zero-copy"},
	{"rt", "round trips: spinning, PopWait, sleeping"},
	{"mpmc", "2 writers + 2 readers and 4 + 4, each a process (Flock only)"},
	{"lease", "leased reads (TakeWait + Ack) against PopWait: Atomic 1 writer + 1 reader, Flock 1 + 3"},
	{"oversub", fmt.Sprintf("1 per call, batches, 2 + 2, beside %d CPU-bound processes", Load)},
}

// cell is one measured quantity: a transport moving a shape, or a round
// trip with a way of waiting; with writers and readers processes for an
// MPMC measurement, and beside load spinning processes.
type cell struct {
	via              Via
	shape            Shape
	rt               bool
	wait             Wait
	writers, readers int
	take             bool // MPMC readers take under leases (MPMCTake)
	load             int
}

// figure is a row before it is measured.
type figure struct {
	id, group string
	name      string
	strategy  Via
	rt        bool
	perItem   bool // items/s for byte items too
	scb       cell
	base      map[string]cell
}

func (c Config) counts() Counts {
	n := Counts{Small: 5_000_000, Large: 200_000, RoundTrips: 50_000, Runs: c.Runs, LargeSize: 4096, Load: Load}
	if c.Quick {
		n.Small, n.Large, n.RoundTrips = n.Small/10, n.Large/10, n.RoundTrips/10
	}
	if c.Counts.Small > 0 {
		n.Small = c.Counts.Small
	}
	n.Medium, n.Contended = max(n.Small/10, 1), max(n.Small/10, 1)
	if c.Counts.Medium > 0 {
		n.Medium = c.Counts.Medium
	}
	if c.Counts.Large > 0 {
		n.Large = c.Counts.Large
	}
	if c.Counts.Contended > 0 {
		n.Contended = c.Counts.Contended
	}
	if c.Counts.RoundTrips > 0 {
		n.RoundTrips = c.Counts.RoundTrips
	}
	if n.Runs <= 0 {
		n.Runs = 5
	}
	return n
}

// figures lists the suite.
func figures() []figure {
	small, batch := Shape{Size: 8, Batch: 1}, Shape{Size: 8, Batch: 64}
	kib, kibZC := Shape{Size: 1024, Batch: 1}, Shape{Size: 1024, Batch: 1, ZeroCopy: true}
	large, zc := Shape{Size: 4096, Batch: 1}, Shape{Size: 4096, Batch: 1, ZeroCopy: true}
	streams := func(s Shape) map[string]cell {
		return map[string]cell{
			"pipe": {via: Pipe, shape: s}, "socket": {via: Socket, shape: s},
			"chan": {via: Chan, shape: s}, "bare": {via: Bare, shape: s},
		}
	}
	with := func(m map[string]cell, k string, c cell) map[string]cell {
		m[k] = c
		return m
	}
	rts := func() map[string]cell {
		return map[string]cell{
			"pipe": {via: Pipe, rt: true}, "socket": {via: Socket, rt: true},
			"chan": {via: Chan, rt: true}, "bare": {via: Bare, rt: true},
		}
	}
	// Under load: the pipe, the socket and the bare loop beside the same
	// spinning processes (a channel is one process, and not comparable).
	loaded := func(s Shape) map[string]cell {
		return map[string]cell{
			"pipe": {via: Pipe, shape: s, load: Load}, "socket": {via: Socket, shape: s, load: Load},
			"bare": {via: Bare, shape: s, load: Load},
		}
	}
	mpmc := func(k, load int) (cell, map[string]cell) {
		return cell{via: Flock, shape: small, writers: k, readers: k, load: load}, map[string]cell{
			"pipe":   {via: Pipe, shape: small, writers: k, readers: k, load: load},
			"socket": {via: Socket, shape: small, writers: k, readers: k, load: load},
		}
	}
	var fs []figure
	add := func(group string, f ...figure) {
		for i := range f {
			f[i].group = group
		}
		fs = append(fs, f...)
	}
	both := []Via{Atomic, Flock}
	for _, s := range both {
		add("small", figure{id: "small", name: "8 B items, 1 per call", strategy: s, scb: cell{via: s, shape: small}, base: streams(small)})
	}
	for _, s := range both {
		add("batch", figure{id: "batch", name: "8 B items, batches of 64", strategy: s, scb: cell{via: s, shape: batch},
			base: with(streams(small), "bare", cell{via: Bare, shape: batch})})
	}
	for _, s := range both {
		// Zero-copy first: its runs measure the copying path too,
		// interleaved with it, and the copying row reuses them.
		add("1k",
			figure{id: "1k-zerocopy", name: "1 KiB items, zero-copy", strategy: s, perItem: true, scb: cell{via: s, shape: kibZC},
				base: with(with(streams(kib), "copy", cell{via: Copy, shape: kib}), "copying", cell{via: s, shape: kib})},
			figure{id: "1k", name: "1 KiB items, 1 per call", strategy: s, perItem: true, scb: cell{via: s, shape: kib},
				base: with(streams(kib), "copy", cell{via: Copy, shape: kib})})
	}
	for _, s := range both {
		add("4k",
			figure{id: "4k", name: "4 KiB items, copied", strategy: s, scb: cell{via: s, shape: large},
				base: with(streams(large), "copy", cell{via: Copy, shape: large})},
			figure{id: "4k-zerocopy", name: "4 KiB items, zero-copy", strategy: s, scb: cell{via: s, shape: zc},
				base: with(streams(large), "copy", cell{via: Copy, shape: large})})
	}
	for _, s := range both {
		add("rt",
			figure{id: "rt-spin", name: "round trip, spinning", strategy: s, rt: true, scb: cell{via: s, rt: true, wait: Spin}, base: rts()},
			figure{id: "rt-block", name: "round trip, PopWait", strategy: s, rt: true, scb: cell{via: s, rt: true, wait: Block}, base: rts()},
			figure{id: "rt-sleep", name: "round trip, sleeping (Spin -1)", strategy: s, rt: true, scb: cell{via: s, rt: true, wait: Sleep}, base: rts()})
	}
	for _, k := range []int{2, 4} {
		c, base := mpmc(k, 0)
		add("mpmc", figure{id: fmt.Sprintf("mpmc%d", k), name: fmt.Sprintf("%d writers + %d readers, 8 B", k, k), strategy: Flock, scb: c, base: base})
	}
	for _, s := range both {
		readers := 1
		if s == Flock {
			readers = 3
		}
		plain := cell{via: s, shape: small, writers: 1, readers: readers}
		leased := plain
		leased.take = true
		add("lease", figure{id: "lease", name: fmt.Sprintf("1 writer + %s, TakeWait + Ack, 8 B", count(readers, "reader")), strategy: s, scb: leased,
			base: map[string]cell{
				"popwait": plain,
				"pipe":    {via: Pipe, shape: small, writers: 1, readers: readers},
				"socket":  {via: Socket, shape: small, writers: 1, readers: readers},
			}})
	}
	for _, s := range both {
		add("oversub", figure{id: "oversub-small", name: "8 B items, 1 per call, oversubscribed", strategy: s,
			scb: cell{via: s, shape: small, load: Load}, base: loaded(small)})
	}
	for _, s := range both {
		add("oversub", figure{id: "oversub-batch", name: "8 B items, batches of 64, oversubscribed", strategy: s,
			scb: cell{via: s, shape: batch, load: Load}, base: with(loaded(small), "bare", cell{via: Bare, shape: batch, load: Load})})
	}
	c, base := mpmc(2, Load)
	add("oversub", figure{id: "oversub-mpmc2", name: "2 writers + 2 readers, 8 B, oversubscribed", strategy: Flock, scb: c, base: base})
	return fs
}

// selectFigures returns the figures in the named groups, all for none.
func selectFigures(only []string) ([]figure, error) {
	all := figures()
	if len(only) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, g := range only {
		known := false
		for _, k := range Groups {
			known = known || k.Name == g
		}
		if !known {
			return nil, fmt.Errorf("bench: no group of figures named %q", g)
		}
		want[g] = true
	}
	var fs []figure
	for _, f := range all {
		if want[f.group] {
			fs = append(fs, f)
		}
	}
	return fs, nil
}

// result holds every run's measurement of a cell.
type result struct {
	tput []float64 // items/s
	p50  []float64 // seconds
	p99  []float64
	p999 []float64
	err  error
}

// Run measures the selected figures one after the other, each cfg.Runs
// times, interleaving scb and the baselines within each run so that they
// share the machine's noise, and reports the medians. A baseline that an
// earlier figure measured already is not measured again.
func Run(cfg Config) (*Report, error) {
	n := cfg.counts()
	dir := cfg.Dir
	if dir == "" {
		dir = os.TempDir()
	}
	figs, err := selectFigures(cfg.Only)
	if err != nil {
		return nil, err
	}
	// Each figure measures the cells no earlier figure did.
	cells := make([][]cell, len(figs))
	seen := map[cell]bool{}
	results := map[cell]*result{}
	steps := 0
	for i, f := range figs {
		for _, c := range append([]cell{f.scb}, mapValues(f.base)...) {
			if !seen[c] {
				seen[c] = true
				cells[i] = append(cells[i], c)
				results[c] = &result{}
				steps += n.Runs
			}
		}
	}
	rep := &Report{Date: time.Now(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), Counts: n}
	if cfg.Start != nil {
		cfg.Start(rep)
	}
	step := 0
	for i, f := range figs {
		for run := range n.Runs {
			for _, c := range cells[i] {
				if cfg.Context != nil {
					if err := cfg.Context.Err(); err != nil {
						return nil, err
					}
				}
				step++
				if cfg.Progress != nil {
					cfg.Progress(step, steps, fmt.Sprintf("run %d/%d: %s", run+1, n.Runs, c.describe()))
				}
				res := results[c]
				if res.err != nil {
					continue
				}
				if err := measure(c, n, dir, res); err != nil {
					if !errors.Is(err, ErrUnsupported) {
						return nil, fmt.Errorf("bench: %s: %w", c.describe(), err)
					}
					res.err = err
				}
			}
		}
		r := f.row(results, n)
		rep.Rows = append(rep.Rows, r)
		if cfg.Row != nil {
			cfg.Row(r)
		}
	}
	return rep, nil
}

// mapValues returns m's cells in column order, then those of baselines
// without a column (such as "popwait") in key order.
func mapValues(m map[string]cell) []cell {
	var cs []cell
	for _, c := range columns {
		if v, ok := m[c.key]; ok {
			cs = append(cs, v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.ContainsFunc(columns, func(c struct{ key, head string }) bool { return c.key == k }) {
			cs = append(cs, m[k])
		}
	}
	return cs
}

func (c cell) describe() string {
	if c.rt {
		if c.via == Atomic || c.via == Flock {
			return fmt.Sprintf("%s round trip (%s)", c.via, c.wait)
		}
		return fmt.Sprintf("%s round trip", c.via)
	}
	what := fmt.Sprintf("%d B items", c.shape.Size)
	if c.shape.Batch > 1 {
		what += fmt.Sprintf(", batches of %d", c.shape.Batch)
	}
	if c.shape.ZeroCopy {
		what += ", zero-copy"
	}
	if c.writers > 0 {
		what = fmt.Sprintf("%s + %s, %s", count(c.writers, "writer"), count(c.readers, "reader"), what)
	}
	if c.take {
		what += ", TakeWait + Ack"
	}
	if c.load > 0 {
		what += fmt.Sprintf(", beside %d spinning processes", c.load)
	}
	return fmt.Sprintf("%s, %s", c.via, what)
}

// count says n things: "1 reader", "3 readers".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func measure(c cell, n Counts, dir string, res *result) error {
	// Collect the previous measurement's garbage now, so that the collector
	// does not take a CPU from the two processes during this one.
	runtime.GC()
	if c.load > 0 {
		stop, err := startLoad(c.load)
		if err != nil {
			return err
		}
		defer stop()
	}
	if c.writers > 0 {
		run := MPMC
		if c.take {
			run = MPMCTake
		}
		d, err := run(c.via, c.writers, c.readers, n.Contended, dir)
		if err != nil {
			return err
		}
		res.tput = append(res.tput, float64(n.Contended)/d.Seconds())
		return nil
	}
	if c.rt {
		rtts, err := RoundTrip(c.via, c.wait, n.RoundTrips, dir)
		if err != nil {
			return err
		}
		p := percentiles(rtts)
		res.p50 = append(res.p50, p.P50.Seconds())
		res.p99 = append(res.p99, p.P99.Seconds())
		res.p999 = append(res.p999, p.P999.Seconds())
		return nil
	}
	items := n.Small
	switch {
	case c.load > 0 && c.shape.Batch > 1:
		// Batches move a tenth of the items in a few milliseconds, within
		// one scheduler time slice: such a run could miss the load
		// altogether (a Boost peer's run once read 183 M items/s
		// oversubscribed against 10 in the next). All of them take many
		// slices.
	case c.load > 0:
		items = n.Contended
	case c.shape.Size > 1024:
		items = n.Large
	case c.shape.Size > 8:
		items = n.Medium
	}
	d, err := Throughput(c.via, c.shape, items, dir)
	if err != nil {
		return err
	}
	tput, err := throughput(items, d)
	if err != nil {
		return err
	}
	res.tput = append(res.tput, tput)
	return nil
}

// throughput returns items a second, or an error when the clock did not
// advance: items/0 is +Inf, which no report can carry (JSON refuses it).
func throughput(items int, d time.Duration) (float64, error) {
	if d <= 0 {
		return 0, fmt.Errorf("%d items took %v by the clock: too few to measure", items, d)
	}
	return float64(items) / d.Seconds(), nil
}

// row turns a figure's measurements into medians, ratios and a verdict.
func (f figure) row(results map[cell]*result, n Counts) Row {
	r := Row{ID: f.id, Group: f.group, Figure: f.name, Strategy: string(f.strategy), Values: map[string]float64{}, Ratios: map[string]float64{}}
	scale := 1e-6 // Mitem/s
	r.Unit = "M items/s"
	switch {
	case f.rt:
		scale, r.Unit = 1e6, "µs"
		r.P99, r.P999 = map[string]float64{}, map[string]float64{}
	case f.scb.shape.Size > 8 && !f.perItem:
		scale, r.Unit = float64(f.scb.shape.Size)/1e9, "GB/s"
	}
	put := func(key string, res *result) {
		if res == nil || res.err != nil {
			return
		}
		if f.rt {
			r.Values[key] = median(res.p50) * scale
			r.P99[key] = median(res.p99) * scale
			r.P999[key] = median(res.p999) * scale
			return
		}
		r.Values[key] = median(res.tput) * scale
	}
	put("scb", results[f.scb])
	for k, c := range f.base {
		put(k, results[c])
	}
	for k, v := range r.Values {
		if k != "scb" && v > 0 {
			r.Ratios[k] = r.Values["scb"] / v
		}
	}
	r.Target, r.Met = f.target(r)
	return r
}

// target states the goal for a row and whether it was met.
func (f figure) target(r Row) (string, *bool) {
	type goal struct {
		key  string
		min  bool // at least (throughput) or at most (latency)
		want float64
	}
	var goals []goal
	switch {
	case f.strategy == Atomic && f.id == "small":
		goals = []goal{{"pipe", true, 20}, {"bare", true, 0.7}}
	case f.strategy == Atomic && f.id == "batch":
		goals = []goal{{"pipe", true, 100}, {"bare", true, 0.9}}
	case f.id == "1k-zerocopy":
		goals = []goal{{"copying", true, 1}}
	case f.strategy == Flock && f.id == "small":
		goals = []goal{{"pipe", true, 1}}
	case f.strategy == Flock && f.id == "batch":
		goals = []goal{{"pipe", true, 10}}
	case f.strategy == Atomic && f.group == "4k":
		goals = []goal{{"copy", true, 0.5}}
	case f.strategy == Atomic && f.id == "rt-spin":
		goals = []goal{{"bare", false, 1.5}}
	case f.strategy == Atomic && f.id == "rt-sleep" && runtime.GOOS == "linux":
		goals = []goal{{"pipe", false, 0.5}}
	case f.id == "lease":
		goals = []goal{{"popwait", true, 0.5}}
	}
	if goals == nil {
		return "", nil
	}
	met := true
	var parts []string
	for _, g := range goals {
		ratio, ok := r.Ratios[g.key]
		part := fmt.Sprintf("≤%gx %s", g.want, g.key)
		if g.min {
			part = fmt.Sprintf("≥%gx %s", g.want, g.key)
			met = met && ok && ratio >= g.want
		} else {
			met = met && ok && ratio <= g.want
		}
		if !slices.Contains(ratioColumns, g.key) && ok {
			// A baseline with no column of its own: its ratio here.
			part += fmt.Sprintf(" (%s)", fmtRatio(ratio))
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", "), &met
}

// ratioColumns are the baselines whose ratios the table has columns for.
var ratioColumns = []string{"pipe", "bare", "copy"}

// WriteTable prints the report as a table for people: WriteHeader, then
// WriteRow for each row.
func (rep *Report) WriteTable(out io.Writer) error {
	if err := rep.WriteHeader(out); err != nil {
		return err
	}
	for _, r := range rep.Rows {
		if err := WriteRow(out, r); err != nil {
			return err
		}
	}
	return nil
}

// The table has fixed widths, so that its rows can be printed one by one
// as their figures are measured.
const (
	figureWidth = 44
	cellWidth   = 11
)

// WriteHeader prints the table's title, notes and column headings.
func (rep *Report) WriteHeader(out io.Writer) error {
	c := rep.Counts
	fmt.Fprintf(out, "scb bench, %s, %s/%s, %d CPUs; median of %d runs; per run %d 8-byte items, %d 1 KiB items, %d %d-byte items, %d round trips, %d items MPMC or oversubscribed (%d in batches)\n",
		rep.Date.Format("2006-01-02"), rep.GOOS, rep.GOARCH, rep.CPUs, c.Runs,
		c.Small, c.Medium, c.Large, c.LargeSize, c.RoundTrips, c.Contended, c.Small)
	fmt.Fprintln(out, "Round trips: p50 in every column, then p99/p999 for scb; ratios are scb ÷ baseline (for round trips, lower is better).")
	fmt.Fprintln(out, "MPMC rows (N writers + N readers, each a process) are Flock only: Atomic allows one writer and one Queue reader.")
	fmt.Fprintln(out, "Lease rows take and acknowledge each item; their target compares them with PopWait on the same processes (popwait).")
	fmt.Fprintf(out, "Oversubscribed rows run scb and each baseline beside %d CPU-bound processes on the same cores.\n", c.Load)
	fmt.Fprintf(out, "%-*s %-8s %-9s", figureWidth, "figure", "strategy", "unit")
	for _, col := range columns {
		fmt.Fprintf(out, " %*s", cellWidth, col.head)
	}
	_, err := fmt.Fprintf(out, " %7s %7s %7s %13s  %s\n", "÷pipe", "÷bare", "÷copy", "p99/p999 scb", "target")
	return err
}

// WriteRow prints one row of the table.
func WriteRow(out io.Writer, r Row) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s %-8s %-9s", figureWidth, r.Figure, r.Strategy, r.Unit)
	for _, c := range columns {
		fmt.Fprintf(&b, " %*s", cellWidth, num(r.Values, c.key))
	}
	for _, k := range ratioColumns {
		v := "-"
		if x, ok := r.Ratios[k]; ok {
			v = fmtRatio(x)
		}
		fmt.Fprintf(&b, " %7s", v)
	}
	pp := ""
	if r.P99 != nil {
		pp = num(r.P99, "scb") + "/" + num(r.P999, "scb")
	}
	fmt.Fprintf(&b, " %13s", pp)
	switch {
	case r.Met == nil:
	case *r.Met:
		fmt.Fprintf(&b, "  %s: met", r.Target)
	default:
		fmt.Fprintf(&b, "  %s: MISSED", r.Target)
	}
	_, err := fmt.Fprintln(out, strings.TrimRight(b.String(), " "))
	return err
}

func num(m map[string]float64, k string) string {
	v, ok := m[k]
	if !ok {
		return "-"
	}
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v < 0.1:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtRatio(v float64) string {
	switch {
	case v < 0.1:
		return fmt.Sprintf("%.3fx", v)
	case v >= 100:
		return fmt.Sprintf("%.0fx", v)
	case v >= 10:
		return fmt.Sprintf("%.1fx", v)
	}
	return fmt.Sprintf("%.2fx", v)
}
