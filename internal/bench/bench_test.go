package bench_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb/internal/bench"
	"github.com/sharedcbuff/scb/internal/child/childtest"
)

func TestMain(m *testing.M) { os.Exit(childtest.Main(m)) }

// TestEveryTransport takes one small measurement with each transport and
// shape: each far end checks every item's number, so a harness that lost
// or reordered items would fail here.
func TestEveryTransport(t *testing.T) {
	shapes := []bench.Shape{
		{Size: 8, Batch: 1}, {Size: 8, Batch: 64}, {Size: 4096, Batch: 1}, {Size: 4096, Batch: 1, ZeroCopy: true},
	}
	for _, via := range []bench.Via{bench.Atomic, bench.Flock, bench.Pipe, bench.Socket, bench.Chan, bench.Bare, bench.Copy} {
		for _, s := range shapes {
			if s.ZeroCopy && via != bench.Atomic && via != bench.Flock {
				continue
			}
			t.Run(string(via)+"/"+describe(s), func(t *testing.T) {
				d, err := bench.Throughput(via, s, 3000, t.TempDir())
				if errors.Is(err, bench.ErrUnsupported) {
					t.Skipf("%s is not available on %s", via, runtime.GOOS)
				}
				require.NoError(t, err)
				assert.Positive(t, d)
			})
		}
	}
	for _, via := range []bench.Via{bench.Atomic, bench.Flock, bench.Pipe, bench.Socket, bench.Chan, bench.Bare} {
		for _, w := range []bench.Wait{bench.Spin, bench.Block, bench.Sleep} {
			if w != bench.Spin && via != bench.Atomic && via != bench.Flock {
				continue
			}
			t.Run(string(via)+"/roundtrip-"+string(w), func(t *testing.T) {
				rtts, err := bench.RoundTrip(via, w, 300, t.TempDir())
				if errors.Is(err, bench.ErrUnsupported) {
					t.Skipf("%s is not available on %s", via, runtime.GOOS)
				}
				require.NoError(t, err)
				require.Len(t, rtts, 300)
				for _, d := range rtts {
					require.Positive(t, d)
				}
			})
		}
	}
}

func describe(s bench.Shape) string {
	var b strings.Builder
	b.WriteString(map[int]string{8: "8B", 4096: "4KiB"}[s.Size])
	if s.Batch > 1 {
		b.WriteString("x64")
	}
	if s.ZeroCopy {
		b.WriteString("-zc")
	}
	return b.String()
}

// TestRunReport runs the whole suite with tiny counts and checks the
// report's shape: every row has scb and its baselines, and the table and
// JSON render.
func TestRunReport(t *testing.T) {
	steps := 0
	rep, err := bench.Run(bench.Config{
		Runs: 1, Dir: t.TempDir(),
		Counts:   bench.Counts{Small: 2000, Large: 200, RoundTrips: 100},
		Progress: func(step, total int, what string) { steps = step; assert.LessOrEqual(t, step, total) },
	})
	require.NoError(t, err)
	assert.Positive(t, steps)
	require.Len(t, rep.Rows, 14)
	for _, r := range rep.Rows {
		assert.Positive(t, r.Values["scb"], "%s %s", r.Figure, r.Strategy)
		assert.Positive(t, r.Values["bare"], "%s %s", r.Figure, r.Strategy)
		assert.Positive(t, r.Ratios["bare"], "%s %s", r.Figure, r.Strategy)
		if strings.HasPrefix(r.Figure, "4 KiB") {
			assert.Positive(t, r.Ratios["copy"])
		}
	}
	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	assert.Contains(t, table.String(), "8 B items, 1 per call")
	assert.Contains(t, table.String(), "round trip, sleeping (Spin -1)")
	js, err := json.Marshal(rep)
	require.NoError(t, err)
	var back bench.Report
	require.NoError(t, json.Unmarshal(js, &back))
	assert.Equal(t, rep.Rows[0].Values, back.Rows[0].Values)
}
