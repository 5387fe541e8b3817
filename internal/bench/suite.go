package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
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
}

// Counts are the items per measurement.
type Counts struct {
	Small      int `json:"small_items"`      // 8-byte items per throughput run
	Large      int `json:"large_items"`      // 4 KiB items per throughput run
	RoundTrips int `json:"round_trips"`      // per round-trip run
	Runs       int `json:"runs"`             // runs per figure
	LargeSize  int `json:"large_item_bytes"` // bytes per large item
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
// baseline's.
type Row struct {
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

// cell is one measured quantity: a transport moving a shape, or a round
// trip with a way of waiting.
type cell struct {
	via   Via
	shape Shape
	rt    bool
	wait  Wait
}

// figure is a row before it is measured.
type figure struct {
	name     string
	strategy Via
	rt       bool
	scb      cell
	base     map[string]cell
}

func (c Config) counts() Counts {
	n := Counts{Small: 5_000_000, Large: 200_000, RoundTrips: 50_000, Runs: c.Runs, LargeSize: 4096}
	if c.Quick {
		n.Small, n.Large, n.RoundTrips = n.Small/10, n.Large/10, n.RoundTrips/10
	}
	if c.Counts.Small > 0 {
		n.Small = c.Counts.Small
	}
	if c.Counts.Large > 0 {
		n.Large = c.Counts.Large
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
	var fs []figure
	for _, s := range []Via{Atomic, Flock} {
		fs = append(fs,
			figure{name: "8 B items, 1 per call", strategy: s, scb: cell{via: s, shape: small}, base: streams(small)},
			figure{name: "8 B items, batches of 64", strategy: s, scb: cell{via: s, shape: batch},
				base: with(streams(small), "bare", cell{via: Bare, shape: batch})},
			figure{name: "4 KiB items, copied", strategy: s, scb: cell{via: s, shape: large},
				base: with(streams(large), "copy", cell{via: Copy, shape: large})},
			figure{name: "4 KiB items, zero-copy", strategy: s, scb: cell{via: s, shape: zc},
				base: with(streams(large), "copy", cell{via: Copy, shape: large})},
			figure{name: "round trip, spinning", strategy: s, rt: true, scb: cell{via: s, rt: true, wait: Spin}, base: rts()},
			figure{name: "round trip, PopWait", strategy: s, rt: true, scb: cell{via: s, rt: true, wait: Block}, base: rts()},
			figure{name: "round trip, sleeping (Spin -1)", strategy: s, rt: true, scb: cell{via: s, rt: true, wait: Sleep}, base: rts()},
		)
	}
	return fs
}

// result holds every run's measurement of a cell.
type result struct {
	tput []float64 // items/s
	p50  []float64 // seconds
	p99  []float64
	p999 []float64
	err  error
}

// Run measures the suite cfg.Runs times, interleaving scb and the
// baselines within each run so that they share the machine's noise, and
// reports the medians.
func Run(cfg Config) (*Report, error) {
	n := cfg.counts()
	dir := cfg.Dir
	if dir == "" {
		dir = os.TempDir()
	}
	figs := figures()
	var order []cell
	seen := map[cell]bool{}
	for _, f := range figs {
		for _, c := range append([]cell{f.scb}, mapValues(f.base)...) {
			if !seen[c] {
				seen[c] = true
				order = append(order, c)
			}
		}
	}
	results := map[cell]*result{}
	for _, c := range order {
		results[c] = &result{}
	}
	steps, step := n.Runs*len(order), 0
	for run := range n.Runs {
		for _, c := range order {
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
	rep := &Report{Date: time.Now(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), Counts: n}
	for _, f := range figs {
		rep.Rows = append(rep.Rows, f.row(results, n))
	}
	return rep, nil
}

func mapValues(m map[string]cell) []cell {
	var cs []cell
	for _, c := range columns {
		if v, ok := m[c.key]; ok {
			cs = append(cs, v)
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
	return fmt.Sprintf("%s, %s", c.via, what)
}

func measure(c cell, n Counts, dir string, res *result) error {
	// Collect the previous measurement's garbage now, so that the collector
	// does not take a CPU from the two processes during this one.
	runtime.GC()
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
	if c.shape.Size > 8 {
		items = n.Large
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
	r := Row{Figure: f.name, Strategy: string(f.strategy), Values: map[string]float64{}, Ratios: map[string]float64{}}
	scale := 1e-6 // Mitem/s
	r.Unit = "M items/s"
	switch {
	case f.rt:
		scale, r.Unit = 1e6, "µs"
		r.P99, r.P999 = map[string]float64{}, map[string]float64{}
	case f.scb.shape.Size > 8:
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
	case f.strategy == Atomic && f.name == "8 B items, 1 per call":
		goals = []goal{{"pipe", true, 20}, {"bare", true, 0.7}}
	case f.strategy == Atomic && f.name == "8 B items, batches of 64":
		goals = []goal{{"pipe", true, 100}}
	case f.strategy == Flock && f.name == "8 B items, 1 per call":
		goals = []goal{{"pipe", true, 1}}
	case f.strategy == Flock && f.name == "8 B items, batches of 64":
		goals = []goal{{"pipe", true, 10}}
	case f.strategy == Atomic && strings.HasPrefix(f.name, "4 KiB"):
		goals = []goal{{"copy", true, 0.5}}
	case f.strategy == Atomic && f.name == "round trip, spinning":
		goals = []goal{{"bare", false, 1.5}}
	case f.strategy == Atomic && f.name == "round trip, sleeping (Spin -1)" && runtime.GOOS == "linux":
		goals = []goal{{"pipe", false, 0.5}}
	}
	if goals == nil {
		return "", nil
	}
	met := true
	var parts []string
	for _, g := range goals {
		ratio, ok := r.Ratios[g.key]
		if g.min {
			parts = append(parts, fmt.Sprintf("≥%gx %s", g.want, g.key))
			met = met && ok && ratio >= g.want
		} else {
			parts = append(parts, fmt.Sprintf("≤%gx %s", g.want, g.key))
			met = met && ok && ratio <= g.want
		}
	}
	return strings.Join(parts, ", "), &met
}

// WriteTable prints the report as a table for people.
func (rep *Report) WriteTable(out io.Writer) error {
	fmt.Fprintf(out, "scb bench, %s, %s/%s, %d CPUs; median of %d runs; %d 8-byte items, %d %d-byte items, %d round trips per run\n",
		rep.Date.Format("2006-01-02"), rep.GOOS, rep.GOARCH, rep.CPUs, rep.Counts.Runs,
		rep.Counts.Small, rep.Counts.Large, rep.Counts.LargeSize, rep.Counts.RoundTrips)
	fmt.Fprintln(out, "Round trips: p50 in every column, then p99/p999 for scb; ratios are scb ÷ baseline (for round trips, lower is better).")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "figure\tstrategy\tunit\t")
	for _, c := range columns {
		fmt.Fprintf(tw, "%s\t", c.head)
	}
	fmt.Fprint(tw, "÷pipe\t÷bare\t÷copy\tp99/p999 scb\ttarget\t\n")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t", r.Figure, r.Strategy, r.Unit)
		for _, c := range columns {
			fmt.Fprintf(tw, "%s\t", num(r.Values, c.key))
		}
		for _, k := range []string{"pipe", "bare", "copy"} {
			if v, ok := r.Ratios[k]; ok {
				fmt.Fprintf(tw, "%s\t", ratio(v))
			} else {
				fmt.Fprint(tw, "-\t")
			}
		}
		if r.P99 != nil {
			fmt.Fprintf(tw, "%s/%s\t", num(r.P99, "scb"), num(r.P999, "scb"))
		} else {
			fmt.Fprint(tw, "\t")
		}
		switch {
		case r.Met == nil:
			fmt.Fprint(tw, "\t\n")
		case *r.Met:
			fmt.Fprintf(tw, "%s: met\t\n", r.Target)
		default:
			fmt.Fprintf(tw, "%s: MISSED\t\n", r.Target)
		}
	}
	return tw.Flush()
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
	}
	return fmt.Sprintf("%.2f", v)
}

func ratio(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fx", v)
	case v >= 10:
		return fmt.Sprintf("%.1fx", v)
	}
	return fmt.Sprintf("%.2fx", v)
}
