package bench_test

import (
	"os"
	"testing"

	"github.com/sharedcbuff/scb/internal/bench"
)

func TestRunLength(t *testing.T) {
	if os.Getenv("PROF") == "" {
		t.Skip()
	}
	for range 3 {
		line := ""
		for _, c := range []struct {
			via bench.Via
			s   bench.Shape
		}{{bench.Atomic, bench.Shape{Size: 4096, Batch: 1}}, {bench.Atomic, bench.Shape{Size: 4096, Batch: 1, ZeroCopy: true}}, {bench.Bare, bench.Shape{Size: 4096, Batch: 1}}, {bench.Copy, bench.Shape{Size: 4096, Batch: 1}}} {
			d, err := bench.Throughput(c.via, c.s, 300_000, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			line += " " + string(c.via)
			if c.s.ZeroCopy {
				line += "-zc"
			}
			line += " " + fmtf(float64(300_000)*4096/d.Seconds()/1e9)
		}
		t.Log(line)
	}
}

func fmtf(f float64) string { return string(rune('0'+int(f)/10)) + string(rune('0'+int(f)%10)) }
