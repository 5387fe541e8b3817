package bench_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb/cmd/scb/internal/bench"
	"github.com/sharedcbuff/scb/scbtest"
)

func TestMain(m *testing.M) { scbtest.Main(m) }

// TestEveryTransport takes one small measurement with each transport and
// shape: each far end checks every item's number, so a harness that lost
// or reordered items would fail here.
func TestEveryTransport(t *testing.T) {
	shapes := []bench.Shape{
		{Size: 8, Batch: 1}, {Size: 8, Batch: 64}, {Size: 1024, Batch: 1}, {Size: 4096, Batch: 1}, {Size: 4096, Batch: 1, ZeroCopy: true},
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
	b.WriteString(map[int]string{8: "8B", 1024: "1KiB", 4096: "4KiB"}[s.Size])
	if s.Batch > 1 {
		b.WriteString("x64")
	}
	if s.ZeroCopy {
		b.WriteString("-zc")
	}
	return b.String()
}

// TestMPMC moves items from several writer processes to several reader
// processes: the readers check each writer's order, and the parent the
// count and the sum of what they got.
func TestMPMC(t *testing.T) {
	for _, via := range []bench.Via{bench.Flock, bench.Pipe, bench.Socket} {
		t.Run(string(via), func(t *testing.T) {
			d, err := bench.MPMC(via, 2, 2, 3001, t.TempDir())
			if errors.Is(err, bench.ErrUnsupported) {
				t.Skipf("%s is not available on %s", via, runtime.GOOS)
			}
			require.NoError(t, err)
			assert.Positive(t, d)
		})
	}
	_, err := bench.MPMC(bench.Atomic, 2, 2, 100, t.TempDir())
	assert.Error(t, err, "Atomic takes one writer")
}

// TestMPMCTake moves items to readers that take each under a lease and
// acknowledge it: one Atomic reader, or three Flock readers. The readers
// check each writer's order, and the parent the count and the sum.
func TestMPMCTake(t *testing.T) {
	cases := []struct {
		via              bench.Via
		writers, readers int
	}{
		{bench.Atomic, 1, 1},
		{bench.Flock, 1, 3},
		{bench.Flock, 2, 2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d+%d", c.via, c.writers, c.readers), func(t *testing.T) {
			d, err := bench.MPMCTake(c.via, c.writers, c.readers, 3001, t.TempDir())
			if errors.Is(err, bench.ErrUnsupported) {
				t.Skipf("%s is not available on %s", c.via, runtime.GOOS)
			}
			require.NoError(t, err)
			assert.Positive(t, d)
		})
	}
	_, err := bench.MPMCTake(bench.Pipe, 1, 1, 100, t.TempDir())
	assert.Error(t, err, "a pipe has no leases")
}

// TestRunReport runs the whole suite with tiny counts and checks the
// report's shape: every row has scb and its baselines, the rows come to
// the Row function as they are measured, and the table and JSON render.
func TestRunReport(t *testing.T) {
	steps := 0
	var started bool
	var streamed []bench.Row
	rep, err := bench.Run(bench.Config{
		Runs: 1, Dir: t.TempDir(),
		Counts:   bench.Counts{Small: 2000, Large: 200, RoundTrips: 100},
		Progress: func(step, total int, what string) { steps = step; assert.LessOrEqual(t, step, total) },
		Start:    func(rep *bench.Report) { started = true; assert.Empty(t, rep.Rows) },
		Row:      func(r bench.Row) { assert.True(t, started); streamed = append(streamed, r) },
	})
	require.NoError(t, err)
	assert.Positive(t, steps)
	require.Len(t, rep.Rows, 27)
	assert.Equal(t, rep.Rows, streamed)
	assert.Equal(t, bench.Load, rep.Counts.Load)
	for _, r := range rep.Rows {
		assert.NotEmpty(t, r.ID)
		if runtime.GOOS == "windows" && (strings.Contains(r.ID, "mpmc") || r.ID == "lease") {
			continue // MPMC needs pipes passed to child processes, which os/exec cannot do there
		}
		assert.Positive(t, r.Values["scb"], "%s %s", r.Figure, r.Strategy)
		switch {
		case strings.Contains(r.ID, "mpmc"):
			assert.Equal(t, "flock", r.Strategy, "MPMC is Flock only")
			assert.NotContains(t, r.Values, "bare")
		case r.ID == "lease":
			assert.Positive(t, r.Values["popwait"], "%s %s", r.Figure, r.Strategy)
			assert.Positive(t, r.Ratios["popwait"], "%s %s", r.Figure, r.Strategy)
			assert.Contains(t, r.Target, "popwait")
		default:
			assert.Positive(t, r.Values["bare"], "%s %s", r.Figure, r.Strategy)
			assert.Positive(t, r.Ratios["bare"], "%s %s", r.Figure, r.Strategy)
		}
		if runtime.GOOS == "linux" {
			assert.Positive(t, r.Ratios["pipe"], "%s %s", r.Figure, r.Strategy)
		}
		if strings.HasPrefix(r.Figure, "4 KiB") || strings.HasPrefix(r.Figure, "1 KiB") {
			assert.Positive(t, r.Ratios["copy"])
		}
	}
	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	assert.Contains(t, table.String(), "8 B items, 1 per call")
	assert.Contains(t, table.String(), "round trip, sleeping (Spin -1)")
	assert.Contains(t, table.String(), "2 writers + 2 readers, 8 B, oversubscribed")
	assert.Contains(t, table.String(), "Flock only")
	js, err := json.Marshal(rep)
	require.NoError(t, err)
	var back bench.Report
	require.NoError(t, json.Unmarshal(js, &back))
	assert.Equal(t, rep.Rows[0].Values, back.Rows[0].Values)
}

// TestOnly measures only the named groups, and refuses a name that is not
// one.
func TestOnly(t *testing.T) {
	rep, err := bench.Run(bench.Config{
		Runs: 1, Dir: t.TempDir(), Only: []string{"1k", "mpmc"},
		Counts: bench.Counts{Small: 2000, Large: 200, RoundTrips: 100},
	})
	require.NoError(t, err)
	var ids []string
	for _, r := range rep.Rows {
		ids = append(ids, r.Strategy+"/"+r.ID)
	}
	assert.Equal(t, []string{"atomic/1k-zerocopy", "atomic/1k", "flock/1k-zerocopy", "flock/1k", "flock/mpmc2", "flock/mpmc4"}, ids)
	assert.Equal(t, "M items/s", rep.Rows[0].Unit, "1 KiB items are counted, to compare with other queues")
	_, err = bench.Run(bench.Config{Runs: 1, Dir: t.TempDir(), Only: []string{"nope"}})
	assert.ErrorContains(t, err, `"nope"`)
}
