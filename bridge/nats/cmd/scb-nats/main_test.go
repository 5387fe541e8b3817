package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"sideways", "a", "b"}, {"out", "a"}, {"in", "a", "b", "c"}, {"out", "a", "b", "--batch", "x"}, {"out", "a", "b c"}} {
		var stderr bytes.Buffer
		err := run(context.Background(), args, &stderr)
		require.ErrorIs(t, err, errUsage, "%q", args)
		assert.Contains(t, stderr.String(), "Usage:")
	}
}

// TestOutThenIn runs the two commands the README shows, end to end: a
// buffer forwarded to JetStream, and the stream forwarded into another
// buffer, with --stats.
func TestOutThenIn(t *testing.T) {
	const n = 10_000
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second))
	defer s.Shutdown()
	dir := t.TempDir()
	o := &scb.Options{Dir: dir, Length: 1024, ItemSize: 8, FixedSize: true}
	src, err := scb.Create("src", o)
	require.NoError(t, err)
	defer src.Close()
	dst, err := scb.Create("dst", &scb.Options{Dir: dir, Length: 1024, ItemSize: 8, FixedSize: true, Strategy: scb.Flock})
	require.NoError(t, err)
	require.NoError(t, dst.Close()) // the bridge writes
	r, err := scb.OpenReader("dst", o)
	require.NoError(t, err)
	defer r.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var outErr, inErr bytes.Buffer
	errs := make(chan error, 2)
	go func() {
		errs <- run(ctx, []string{"out", "src", "telemetry", "--dir", dir, "--server", s.ClientURL(), "--jetstream", "--stats"}, &outErr)
	}()
	go func() {
		errs <- run(ctx, []string{"in", "telemetry", "dst", "--dir", dir, "--server", s.ClientURL(), "--jetstream", "--stats"}, &inErr)
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	go func() {
		for i := range uint64(n) {
			if src.PushBytesWait(wctx, binary.BigEndian.AppendUint64(nil, i)) != nil {
				return
			}
		}
	}()
	buf := make([]byte, 8)
	for i := range uint64(n) {
		_, err := r.PopBytesWait(wctx, buf)
		require.NoError(t, err)
		require.Equal(t, i, binary.BigEndian.Uint64(buf))
	}
	cancel()
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	assert.Contains(t, outErr.String(), "items 10000,")
	assert.Contains(t, inErr.String(), "items 10000,")
}
