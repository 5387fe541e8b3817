package record

import (
	"context"
	"testing"
	"time"
)

// TestWaitUntil: waitUntil never returns before its time, keeps its slack
// between startSlack and maxSlack, and returns ctx's error at once when
// ctx is done.
func TestWaitUntil(t *testing.T) {
	s := slack{d: startSlack}
	for range 20 {
		due := time.Now().Add(3 * time.Millisecond)
		if err := s.waitUntil(context.Background(), due); err != nil {
			t.Fatal(err)
		}
		if now := time.Now(); now.Before(due) {
			t.Fatalf("returned %v before its time", due.Sub(now))
		}
		if s.d < startSlack || s.d > maxSlack {
			t.Fatalf("slack %v outside [%v, %v]", s.d, startSlack, maxSlack)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, due := range []time.Duration{time.Millisecond, time.Hour} {
		s = slack{d: startSlack}
		start := time.Now()
		if err := s.waitUntil(ctx, start.Add(due)); err != context.Canceled {
			t.Errorf("waitUntil(%v) with ctx done: %v, want context.Canceled", due, err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("waitUntil(%v) with ctx done took %v", due, took)
		}
	}
}

// TestSlackAdjust: a timer that leaves less than half the slack doubles
// it, up to maxSlack; shrinkAfter timers in a row that leave more than
// three quarters halve it, down to startSlack; a late one starts the count
// again, and one in between neither counts nor resets.
func TestSlackAdjust(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name  string
		start time.Duration
		left  []time.Duration // what each timer left
		want  time.Duration
	}{
		{"late doubles", 2 * ms, []time.Duration{ms - 1}, 4 * ms},
		{"up to maxSlack", 8 * ms, []time.Duration{0}, maxSlack},
		{"half left is not late", 2 * ms, []time.Duration{ms}, 2 * ms},
		{"good time halves after shrinkAfter", 8 * ms, repeat(7*ms, shrinkAfter), 4 * ms},
		{"not before", 8 * ms, repeat(7*ms, shrinkAfter-1), 8 * ms},
		{"down to startSlack", 3 * ms, repeat(3*ms, shrinkAfter), startSlack},
		{"not below startSlack", startSlack, repeat(startSlack, 2*shrinkAfter), startSlack},
		{"in between does not reset", 8 * ms, append(append(repeat(7*ms, shrinkAfter-1), 5*ms), 7*ms), 4 * ms},
		{"late resets the count", 8 * ms, append(append(repeat(7*ms, shrinkAfter-1), 0), repeat(9*ms, shrinkAfter-1)...), maxSlack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := slack{d: tt.start}
			for _, l := range tt.left {
				s.adjust(l)
			}
			if s.d != tt.want {
				t.Errorf("slack %v, want %v", s.d, tt.want)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	r := make([]time.Duration, n)
	for i := range r {
		r[i] = d
	}
	return r
}
