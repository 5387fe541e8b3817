package bench

// White-box: what a measurement does when the clock did not advance, which
// a coarse clock (Windows's time.Now) makes happen, and cannot be arranged
// through the public API on a fine one.

import (
	"encoding/json"
	"testing"
	"time"
)

func TestThroughputOfNoTime(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Nanosecond} {
		if v, err := throughput(3000, d); err == nil {
			t.Errorf("throughput(3000, %v) = %v, want an error", d, v)
		}
	}
	v, err := throughput(3000, time.Millisecond)
	if err != nil || v != 3e6 {
		t.Fatalf("throughput(3000, 1ms) = %v, %v; want 3e6", v, err)
	}
	if _, err := json.Marshal(v); err != nil {
		t.Fatal(err)
	}
}

func TestClockAdvances(t *testing.T) {
	t0 := now()
	deadline := time.Now().Add(time.Second)
	for since(t0) <= 0 {
		if time.Now().After(deadline) {
			t.Fatal("the clock did not advance in a second")
		}
	}
	// Fine enough for a round trip: in 2 ms by the clock, it reads at
	// least 100 different values (Windows's time.Now, whose monotonic
	// reading is the interrupt time, reads 1 to 3). Ten tries, in case the
	// test is descheduled for most of one.
	best := 0
	for range 10 {
		t1 := now()
		spin := time.Now()
		seen := 0
		for last, d := time.Duration(-1), since(t1); d < 2*time.Millisecond; d = since(t1) {
			if d != last {
				seen, last = seen+1, d
			}
			if time.Since(spin) > 10*time.Second {
				t.Fatal("2 ms by the clock took more than 10 s")
			}
		}
		if best = max(best, seen); best >= 100 {
			return
		}
	}
	t.Errorf("the clock read only %d different values in 2 ms: too coarse for round trips", best)
}
