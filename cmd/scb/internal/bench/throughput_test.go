package bench_test

// Benchmarks across two real processes, with the baselines a user would
// otherwise pick. `go test ./...` does not run them; run them with
//
//	go test -run '^$' -bench . -count 5 ./cmd/scb/internal/bench | tee new.txt   (then benchstat new.txt)
//
// Each reports the figure users quote as a custom metric (items/s, MB/s, or
// round-trip percentiles); ns/op also counts starting the second process.
// `go run ./cmd/scb bench` runs the same measurements as one suite and
// prints medians and ratios.

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sharedcbuff/scb/cmd/scb/internal/bench"
)

func BenchmarkThroughput(b *testing.B) {
	shapes := []struct {
		name  string
		shape bench.Shape
	}{
		{"8B", bench.Shape{Size: 8, Batch: 1}},
		{"8Bx64", bench.Shape{Size: 8, Batch: 64}},
		{"1KiB", bench.Shape{Size: 1024, Batch: 1}},
		{"1KiB-zerocopy", bench.Shape{Size: 1024, Batch: 1, ZeroCopy: true}},
		{"4KiB", bench.Shape{Size: 4096, Batch: 1}},
		{"4KiB-zerocopy", bench.Shape{Size: 4096, Batch: 1, ZeroCopy: true}},
	}
	for _, s := range shapes {
		for _, via := range []bench.Via{bench.Atomic, bench.Flock, bench.Pipe, bench.Socket, bench.Chan, bench.Bare, bench.Copy} {
			if s.shape.ZeroCopy && via != bench.Atomic && via != bench.Flock {
				continue
			}
			if via == bench.Copy && s.shape.Size == 8 {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", s.name, via), func(b *testing.B) {
				d, err := bench.Throughput(via, s.shape, b.N, b.TempDir())
				if errors.Is(err, bench.ErrUnsupported) {
					b.Skip(err)
				}
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/d.Seconds(), "items/s")
				if s.shape.Size > 8 {
					b.ReportMetric(float64(b.N)*float64(s.shape.Size)/d.Seconds()/1e6, "MB/s")
				}
			})
		}
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	cases := []struct {
		via  bench.Via
		wait bench.Wait
	}{
		{bench.Atomic, bench.Spin}, {bench.Atomic, bench.Block}, {bench.Atomic, bench.Sleep},
		{bench.Flock, bench.Spin}, {bench.Flock, bench.Block}, {bench.Flock, bench.Sleep},
		{bench.Pipe, ""}, {bench.Socket, ""}, {bench.Chan, ""}, {bench.Bare, ""},
	}
	for _, c := range cases {
		name := string(c.via)
		if c.wait != "" {
			name += "/" + string(c.wait)
		}
		b.Run(name, func(b *testing.B) {
			rtts, err := bench.RoundTrip(c.via, c.wait, b.N, b.TempDir())
			if errors.Is(err, bench.ErrUnsupported) {
				b.Skip(err)
			}
			if err != nil {
				b.Fatal(err)
			}
			p := bench.Summarize(rtts)
			b.ReportMetric(float64(p.P50.Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(p.P99.Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(p.P999.Nanoseconds()), "p999-ns")
		})
	}
}

// BenchmarkLease compares reading under leases (TakeWait, then Ack) with
// PopWait on the same processes: one Atomic reader, or three Flock readers
// of one writer.
func BenchmarkLease(b *testing.B) {
	cases := []struct {
		via     bench.Via
		readers int
	}{
		{bench.Atomic, 1},
		{bench.Flock, 3},
	}
	for _, c := range cases {
		for _, take := range []bool{false, true} {
			read, run := "PopWait", bench.MPMC
			if take {
				read, run = "TakeWait+Ack", bench.MPMCTake
			}
			b.Run(fmt.Sprintf("%s/1+%d/%s", c.via, c.readers, read), func(b *testing.B) {
				d, err := run(c.via, 1, c.readers, max(b.N, 1), b.TempDir())
				if errors.Is(err, bench.ErrUnsupported) {
					b.Skip(err)
				}
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/d.Seconds(), "items/s")
			})
		}
	}
}

// BenchmarkMPMC: N writers and N readers, each a process, on one Flock
// Queue, 8-byte items one per call (PushWait, PopWait).
func BenchmarkMPMC(b *testing.B) {
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("flock/%d+%d", n, n), func(b *testing.B) {
			d, err := bench.MPMC(bench.Flock, n, n, max(b.N, n), b.TempDir())
			if errors.Is(err, bench.ErrUnsupported) {
				b.Skip(err)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/d.Seconds(), "items/s")
		})
	}
}
