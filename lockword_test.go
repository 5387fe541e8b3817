//go:build linux || windows

package scb

// White-box tests of the lock words' dead-holder rule: a token whose
// holder slot is free is taken over; a token whose holder lives is not.

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLockWordHolderRule(t *testing.T) {
	o := &Options{Dir: t.TempDir(), Strategy: Flock}
	w, err := Create("words", o)
	require.NoError(t, err)
	defer w.Close()
	live, err := OpenWriter("words", o)
	require.NoError(t, err)
	word := lockWordOf(w.lay.Base, writeSide).word

	// A live handle's token: never taken over, however long it stays.
	atomic.StoreUint32(word, live.st.(*flockStrategy).tok)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, w.PushWait(ctx, 1), context.DeadlineExceeded)

	// Its handle closes (as if its process died): the slot is free, and
	// the next locker takes the word over after deadAfter.
	require.NoError(t, live.Close())
	start := time.Now()
	require.NoError(t, w.Push(2))
	require.Less(t, time.Since(start), time.Second)
	require.Zero(t, atomic.LoadUint32(word), "released after the push")

	// A token left in the word by a dead handle whose slot a new handle
	// claims: the claim frees the word at once.
	again, err := OpenWriter("words", o)
	require.NoError(t, err)
	token := again.st.(*flockStrategy).tok
	require.NoError(t, again.Close())
	atomic.StoreUint32(word, token)
	holderNext.Add(^uint32(0)) // the next claim in this process starts at the same slot
	again, err = OpenWriter("words", o)
	require.NoError(t, err)
	defer again.Close()
	require.Equal(t, token, again.st.(*flockStrategy).tok)
	require.Zero(t, atomic.LoadUint32(word), "the claimer of a dead holder's slot frees its lock")
}

// TestLockWordOwnToken: a lock word holding the token of the very handle
// that takes it, while that handle does not hold the lock, is a word no
// correct process stored (a handle's goroutines take its lock one at a
// time): the handle takes the lock at once instead of waiting on itself,
// in non-waiting and waiting calls.
func TestLockWordOwnToken(t *testing.T) {
	o := &Options{Dir: t.TempDir(), Strategy: Flock}
	w, err := Create("words", o)
	require.NoError(t, err)
	defer w.Close()
	word := lockWordOf(w.lay.Base, writeSide).word
	own := w.st.(*flockStrategy).tok
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for name, push := range map[string]func() error{
		"Push":     func() error { return w.Push(1) },
		"PushWait": func() error { return w.PushWait(ctx, 2) },
	} {
		atomic.StoreUint32(word, own)
		start := time.Now()
		require.NoError(t, push(), name)
		require.Less(t, time.Since(start), 100*time.Millisecond, name)
		require.Zero(t, atomic.LoadUint32(word), "%s: released after the push", name)
	}
}
