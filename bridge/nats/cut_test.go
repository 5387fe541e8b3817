package natsbridge_test

// Connections that drop: a proxy between the bridge and the server cuts
// every connection through it at a fixed period, and the client
// reconnects. A reconnect drops what the client had not written yet, so a
// bridge that trusted a flush or an ack confirmation made across one
// would lose items (Out to core NATS) or push them twice (In).

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	natsbridge "github.com/sharedcbuff/scb/bridge/nats"
)

// cuttingProxy forwards connections to the server at url and closes them
// all (with a reset) every period, until the test ends; it returns its
// own URL.
func cuttingProxy(t *testing.T, url string, period time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	target := url[len("nats://"):]
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			go io.Copy(s, c)
			go io.Copy(c, s)
		}
	}()
	go func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			mu.Lock()
			for _, c := range conns {
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
			conns = nil
			mu.Unlock()
		}
	}()
	return "nats://" + ln.Addr().String()
}

// TestOutCoreCutConnections forwards to core NATS through connections cut
// every 200 ms: a batch whose flush is answered on a new connection is
// sent again, so every item arrives (some twice).
func TestOutCoreCutConnections(t *testing.T) {
	const n = 200_000
	url := startServer(t)
	nc, err := nats.Connect(cuttingProxy(t, url, 200*time.Millisecond), nats.MaxReconnects(-1), nats.ReconnectWait(time.Millisecond))
	require.NoError(t, err)
	defer nc.Close()
	var mu sync.Mutex
	seen := map[uint64]int{}
	snc := connect(t, url)
	sub, err := snc.Subscribe("items", func(m *nats.Msg) {
		pos, _ := strconv.ParseUint(m.Header.Get(natsbridge.PosHeader), 10, 64)
		mu.Lock()
		seen[pos]++
		mu.Unlock()
	})
	require.NoError(t, err)
	require.NoError(t, sub.SetPendingLimits(-1, -1))
	require.NoError(t, snc.Flush())

	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Length: 4096, ItemSize: 8, FixedSize: true}
	w, r := buffer(t, "out", o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	filled := make(chan error, 1)
	go func() { filled <- fill(ctx, w, n) }()
	out := &natsbridge.Out{Reader: r, Conn: nc, Subject: "items", Positions: true, Batch: 256, AckTimeout: time.Second}
	runOut(t, out, n, time.Minute)
	require.NoError(t, <-filled)
	require.NoError(t, snc.Flush())
	// The subscriber's client has every message now, but its callback
	// runs on a goroutine of its own and may not have seen the last ones
	// yet (it once had 8 to go): wait for it, a bounded time.
	missingNow := func() int {
		mu.Lock()
		defer mu.Unlock()
		missing := 0
		for i := range uint64(n) {
			if seen[i] == 0 {
				missing++
			}
		}
		return missing
	}
	missing := missingNow()
	if missing > 0 {
		t.Logf("after the flush, the callback had %d items to go", missing)
	}
	for deadline := time.Now().Add(10 * time.Second); missing > 0 && time.Now().Before(deadline); missing = missingNow() {
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%d reconnects; %s", nc.Stats().Reconnects, &out.Stats)
	require.Zero(t, missing, "items acknowledged in the buffer that never arrived")
}

// TestInCutConnections forwards a JetStream consumer into a buffer
// through connections cut every 37 ms, then stops, and a second bridge on
// a good connection finishes: acks lost in a reconnect are sent again, so
// no message is in the ring twice.
func TestInCutConnections(t *testing.T) {
	const n = 50_000
	url := startServer(t)
	pub := connect(t, url)
	js, err := jetstream.New(pub)
	require.NoError(t, err)
	makeStream(t, js, "items")
	publishAll(t, js, "items", n)
	c, err := js.CreateConsumer(context.Background(), "S", natsbridge.ConsumerConfig("bridge", 2*time.Second))
	require.NoError(t, err)
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Length: 1 << 17, ItemSize: 8, FixedSize: true}
	w, r := buffer(t, "in", o)

	nc, err := nats.Connect(cuttingProxy(t, url, 37*time.Millisecond), nats.MaxReconnects(-1), nats.ReconnectWait(time.Millisecond))
	require.NoError(t, err)
	jc, err := jetstream.New(nc)
	require.NoError(t, err)
	cc, err := jc.Consumer(context.Background(), "S", "bridge")
	require.NoError(t, err)
	journal := o.Dir + "/journal"
	in := &natsbridge.In{Writer: w, Conn: nc, Consumer: cc, Journal: journal, Dir: o.Dir, Batch: 256, AckTimeout: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	err = in.Run(ctx)
	cancel()
	nc.Close()
	t.Logf("through cut connections: %v; %s", err, &in.Stats)

	in2 := &natsbridge.In{Writer: w, Conn: pub, Consumer: c, Journal: journal, Dir: o.Dir, Batch: 256}
	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- in2.Run(ctx) }()
	seen := map[uint64]int{}
	buf := make([]byte, 8)
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	for len(seen) < n {
		_, err := r.PopBytesWait(wctx, buf)
		require.NoError(t, err, "%d of %d", len(seen), n)
		id := binary.BigEndian.Uint64(buf)
		seen[id]++
		require.Equal(t, 1, seen[id], "id %d is in the ring twice", id)
	}
	time.Sleep(3 * time.Second) // past AckWait: anything redelivered would be pushed by now
	cancel()
	require.NoError(t, <-errc)
	_, err = r.PopBytes(buf)
	require.ErrorIs(t, err, scb.ErrEmpty, "an item after all %d: %d", n, binary.BigEndian.Uint64(buf))
}
