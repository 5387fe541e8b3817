package scb_test

// The guard of a shared (Flock) handle: one word that admits its calls,
// lets one at a time through its gate, marks a Claim or Peek outstanding,
// and lets Close wait for the calls it admitted (gate.go). Run with -race.

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

// TestGuardGate: a call through the gate keeps the others out until it
// leaves, whichever way they came in (in, or admit then enter); a waiter
// gives up with its context; and once everyone left, the word is back to
// zero.
func TestGuardGate(t *testing.T) {
	g := scb.NewGuard()
	require.NoError(t, g.In(context.Background()))

	for _, enter := range []func(context.Context) error{
		g.In,
		func(ctx context.Context) error {
			if err := g.Admit(); err != nil {
				return err
			}
			err := g.Enter(ctx)
			g.Dismiss()
			return err
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := enter(ctx)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, "the gate let a second call through")
	}

	entered := make(chan error, 1)
	go func() { entered <- g.In(context.Background()) }()
	select {
	case err := <-entered:
		t.Fatalf("a waiter got through a taken gate (%v)", err)
	case <-time.After(20 * time.Millisecond):
	}
	g.Out()
	select {
	case err := <-entered:
		require.NoError(t, err)
	case <-time.After(waitBound):
		t.Fatal("leaving the gate did not wake the call waiting for it")
	}
	g.Out()
	assert.True(t, g.Idle(), "calls or waiters left counted")
}

// TestGuardExclusion: many goroutines coming in and leaving, some
// through the gate at once (in/out) and some admitted first (admit,
// enter, exit, dismiss), never overlap inside it, and none is left
// waiting: the word counts the waiters beside the calls without one
// field spilling into the other.
func TestGuardExclusion(t *testing.T) {
	g := scb.NewGuard()
	const goroutines, rounds = 64, 300
	var inside, total int // guarded by the gate alone
	// A lost wake-up leaves a goroutine waiting for a free gate: the
	// deadline makes that a failure rather than a hang.
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	var wg sync.WaitGroup
	for id := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				if (id+i)%2 == 0 {
					if !assert.NoError(t, g.In(ctx)) {
						return
					}
				} else {
					if !assert.NoError(t, g.Admit()) || !assert.NoError(t, g.Enter(ctx)) {
						return
					}
				}
				inside++
				if inside != 1 {
					t.Errorf("%d calls inside the gate", inside)
				}
				total++
				inside--
				if (id+i)%2 == 0 {
					g.Out()
				} else {
					g.Exit()
					g.Dismiss()
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, goroutines*rounds, total)
	assert.True(t, g.Idle(), "calls or waiters left counted")
}

// TestGuardLent: leaving can mark a Claim or Peek outstanding and a later
// call's leaving clears it, in the same add.
func TestGuardLent(t *testing.T) {
	g := scb.NewGuard()
	ctx := context.Background()
	require.NoError(t, g.In(ctx))
	g.OutLending()
	assert.True(t, g.Lent())
	require.NoError(t, g.In(ctx))
	assert.True(t, g.Lent())
	g.OutReturning()
	assert.False(t, g.Lent())
	assert.True(t, g.Idle())
}

// TestGuardClose: Close stops admitting calls at once, ends the waits for
// the gate, and returns only once every admitted call left.
func TestGuardClose(t *testing.T) {
	g := scb.NewGuard()
	ctx := context.Background()
	require.NoError(t, g.In(ctx)) // a call through the gate
	require.NoError(t, g.Admit()) // one admitted, about to wait for it
	waiting := make(chan error, 1)
	go func() { waiting <- g.Enter(ctx) }()

	closed := make(chan struct{})
	go func() {
		g.Close()
		close(closed)
	}()
	select {
	case err := <-waiting:
		require.ErrorIs(t, err, scb.ErrClosed)
	case <-time.After(waitBound):
		t.Fatal("Close did not end a wait for the gate")
	}
	require.Eventually(t, func() bool { return g.Admit() != nil }, waitBound, time.Millisecond,
		"calls still admitted after Close began")
	require.ErrorIs(t, g.Admit(), scb.ErrClosed)
	require.ErrorIs(t, g.In(ctx), scb.ErrClosed)

	g.Dismiss() // the waiter's call leaves
	select {
	case <-closed:
		t.Fatal("Close returned while a call was still through the gate")
	case <-time.After(20 * time.Millisecond):
	}
	g.Out()
	select {
	case <-closed:
	case <-time.After(waitBound):
		t.Fatal("Close did not return once the last call left")
	}
	assert.True(t, g.Idle())
	g.Close() // a second Close returns at once
}
