package record

import (
	"context"
	"testing"
	"time"
)

// TestWaitUntil: waitUntil never returns before its time, keeps its slack
// between startSlack and maxSlack, grows it after a timer that fired late
// and shrinks it back after timers in good time, and returns ctx's error
// at once when ctx is done.
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

	// A timer that leaves less than half the slack doubles it: with a
	// slack of 200 ns, no timer fires and wakes its goroutine that soon.
	s = slack{d: 200 * time.Nanosecond}
	if err := s.waitUntil(context.Background(), time.Now().Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if s.d != 400*time.Nanosecond {
		t.Errorf("slack %v after a timer that fired late, want it doubled to 400ns", s.d)
	}

	// Timers in good time halve it again, after shrinkAfter of them: due
	// 20 ms away, the timer is asked for 12 ms and has 2 ms to fire in
	// good time (a timer later than that does not count; one 4 ms late
	// doubles the slack and starts the count again).
	s = slack{d: 8 * time.Millisecond}
	for i := 0; i < 8*shrinkAfter && s.d >= 8*time.Millisecond; i++ {
		if err := s.waitUntil(context.Background(), time.Now().Add(20*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if s.d >= 8*time.Millisecond {
		t.Errorf("slack still %v after %d timers", s.d, 8*shrinkAfter)
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
