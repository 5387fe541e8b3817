package record_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/record"
)

// BenchmarkReplayPace records a million items written at 5 M items a
// second (batches of 64, as BenchmarkRecordKeepsUp writes), replays the
// recording into a second buffer at the recorded pace, and reports how
// far from its recorded time each item arrives at a reader of the second
// buffer (one that polls and notes the time, to measure the replay rather
// than a second recorder's file writes or a sleeping reader's wake-up):
// the largest gap and the 99th and 99.9th percentiles, in microseconds,
// taken from the median one (a constant offset is no error of pace). Run it with -benchtime 1x -count 5 on an
// idle machine.
func BenchmarkReplayPace(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		dir := b.TempDir()
		o := &scb.Options{Dir: dir, Mode: scb.Queue, Length: 4096, ItemSize: 8, FixedSize: true}
		first := recordBuffer(b, "a", o, func(w *scb.Writer) error {
			_, err := pacedWrite(w, n, 5_000_000, 64)
			return err
		})
		_, x, _, err := readAll(b, first)
		if err != nil {
			b.Fatal(err)
		}
		w, err := scb.Create("b", o)
		if err != nil {
			b.Fatal(err)
		}
		r, err := scb.OpenReader("b", &scb.Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		arrived := make([]time.Time, n)
		dst := make([]uint64, 1024)
		// Touch every page of arrived now: faulting them in while the
		// items come would slow the reader, not the replay.
		for i := range arrived {
			arrived[i] = time.Unix(1, 0)
		}
		runtime.GC() // not during the replay: readAll allocated plenty
		replayed := make(chan error, 1)
		go func() {
			rd, err := record.NewReader(bytes.NewReader(first))
			if err == nil {
				_, err = record.Replay(context.Background(), rd, w, record.Pace{Recorded: true})
			}
			w.Close()
			replayed <- err
		}()
		for got := 0; got < n; {
			// Polling, never asleep: a sleeping reader is woken by the
			// replay's next write, and on a virtual machine an idle vCPU
			// can take a millisecond to run again, which is the
			// machine's lateness, not the replay's.
			k, err := r.PopInto(dst)
			if errors.Is(err, scb.ErrEmpty) {
				continue
			}
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			for j, v := range dst[:k] {
				if v != uint64(got+j) {
					b.Fatalf("item %d is %d", got+j, v)
				}
				arrived[got+j] = now
			}
			got += k
		}
		r.Close()
		if err := <-replayed; err != nil {
			b.Fatal(err)
		}
		d := make([]time.Duration, n)
		for i := range x {
			d[i] = arrived[i].Sub(arrived[0]) - (x[i].At - x[0].At)
		}
		sorted := slices.Sorted(slices.Values(d))
		median := sorted[n/2]
		skews := make([]time.Duration, n)
		for i := range d {
			skews[i] = max(d[i]-median, median-d[i])
		}
		slices.Sort(skews)
		b.Logf("skews from %v to %v around the median %v", sorted[0]-median, sorted[n-1]-median, median)
		b.ReportMetric(float64(skews[n-1].Microseconds()), "max-skew-µs")
		b.ReportMetric(float64(skews[n*99/100].Microseconds()), "p99-skew-µs")
		b.ReportMetric(float64(skews[n*999/1000].Microseconds()), "p99.9-skew-µs")
		b.ReportMetric(float64((x[n-1].At - x[0].At).Milliseconds()), "span-ms")
	}
}

// BenchmarkRecordKeepsUp: a writer pushes 8-byte items into a Broadcast
// buffer of 65536 slots at 5 M items a second, in batches of 64 (a batch
// every 12.8 µs, timed by spinning), for a second; the recorder follows it.
// It reports the items the recorder missed (counted in its file) and the
// writer's achieved rate.
func BenchmarkRecordKeepsUp(b *testing.B) {
	const (
		rate  = 5_000_000
		batch = 64
		n     = rate // one second
	)
	for b.Loop() {
		o := &scb.Options{Dir: b.TempDir(), Mode: scb.Broadcast, Length: 65536, ItemSize: 8, FixedSize: true}
		var took time.Duration
		f := recordBuffer(b, "tap", o, func(w *scb.Writer) error {
			var err error
			took, err = pacedWrite(w, n, rate, batch)
			return err
		})
		_, items, lost, err := readAll(b, f)
		if err != nil {
			b.Fatal(err)
		}
		if uint64(len(items))+lost != n {
			b.Fatalf("%d recorded and %d missed, want %d in all", len(items), lost, n)
		}
		b.ReportMetric(float64(lost), "missed")
		b.ReportMetric(float64(n)/took.Seconds()/1e6, "M-items/s-written")
		b.ReportMetric(float64(len(f))/float64(n), "file-bytes/item")
	}
}

// pacedWrite pushes n items (the values 0 to n-1) into w at rate items a
// second, in batches, each pushed when it is due (timed by spinning), and
// returns how long it took.
func pacedWrite(w *scb.Writer, n, rate, batch int) (time.Duration, error) {
	vs := make([]uint64, batch)
	start := time.Now()
	for i := 0; i < n; i += batch {
		vs = vs[:min(batch, n-i)]
		due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		for time.Now().Before(due) {
		}
		for j := range vs {
			vs[j] = uint64(i + j)
		}
		if _, err := w.PushManyWait(context.Background(), vs); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}
