package natsbridge_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	natsbridge "github.com/sharedcbuff/scb/bridge/nats"
)

// startServer starts an embedded nats-server with JetStream, its store in
// the test's temporary directory, on a free port of the loopback
// interface, and returns its URL.
func startServer(t testing.TB) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second), "nats-server did not start")
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// subscribe subscribes to subject on a connection of its own, without
// limits on what the client keeps, and returns once the server has the
// subscription: messages published after it are delivered.
func subscribe(t testing.TB, url, subject string) *nats.Subscription {
	t.Helper()
	nc := connect(t, url)
	sub, err := nc.SubscribeSync(subject)
	require.NoError(t, err)
	require.NoError(t, sub.SetPendingLimits(-1, -1))
	require.NoError(t, nc.Flush())
	return sub
}

// publishAll publishes the items 0..n-1 to subject, a stream capturing
// it, waiting for JetStream's acks every thousand (more outstanding at once
// stall the client on a slow machine).
func publishAll(t testing.TB, js jetstream.JetStream, subject string, n int) {
	t.Helper()
	for i := range n {
		_, err := js.PublishAsync(subject, item(uint64(i)))
		require.NoError(t, err)
		if i%1000 == 999 {
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()
}

// buffer creates the buffer name with o and opens a reader of it, both
// closed when the test ends.
func buffer(t testing.TB, name string, o *scb.Options) (*scb.Writer, *scb.Reader) {
	t.Helper()
	w, err := scb.Create(name, o)
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	r, err := scb.OpenReader(name, o)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return w, r
}

// item returns the 8-byte item of id.
func item(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// makeStream makes the stream "S" capturing subject.
func makeStream(t testing.TB, js jetstream.JetStream, subject string) jetstream.Stream {
	t.Helper()
	s, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "S", Subjects: []string{subject}})
	require.NoError(t, err)
	return s
}

// streamItems reads every message of stream s and returns, by position
// (its Scb-Pos header), how many times each was stored, after checking
// that each message's data is the item of its position.
func streamItems(t testing.TB, s jetstream.Stream) map[uint64]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := s.Info(ctx)
	require.NoError(t, err)
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	seen := map[uint64]int{}
	for got := uint64(0); got < info.State.Msgs; {
		mb, err := c.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		require.NoError(t, err)
		for m := range mb.Messages() {
			got++
			pos, err := strconv.ParseUint(m.Headers().Get(natsbridge.PosHeader), 10, 64)
			require.NoError(t, err)
			require.Equal(t, item(pos), m.Data(), "the data of position %d", pos)
			seen[pos]++
		}
	}
	return seen
}

// fill pushes the items 0..n-1 into w, waiting for room.
func fill(ctx context.Context, w *scb.Writer, n int) error {
	for i := range n {
		if err := w.PushBytesWait(ctx, item(uint64(i))); err != nil {
			return err
		}
	}
	return nil
}

// runOut runs o until it forwarded n items (or d passed), then stops it.
func runOut(t *testing.T, o *natsbridge.Out, n int, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- o.Run(ctx) }()
	deadline := time.Now().Add(d)
	for o.Stats.Items.Load() < uint64(n) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-errc)
	require.Equal(t, uint64(n), o.Stats.Items.Load(), "forwarded within %v: %s", d, &o.Stats)
}

// TestOut forwards a Queue buffer to core NATS and to JetStream, for both
// strategies: every item arrives once, with its position.
func TestOut(t *testing.T) {
	const n = 20_000
	for _, s := range []scb.Strategy{scb.Atomic, scb.Flock} {
		for _, js := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/jetstream=%v", s, js), func(t *testing.T) {
				url := startServer(t)
				nc := connect(t, url)
				o := &scb.Options{Dir: t.TempDir(), Strategy: s, Length: 1024, ItemSize: 8, FixedSize: true}
				w, err := scb.Create("out", o)
				if errors.Is(err, scb.ErrUnsupported) {
					t.Skip(err)
				}
				require.NoError(t, err)
				defer w.Close()
				r, err := scb.OpenReader("out", o)
				require.NoError(t, err)
				defer r.Close()

				var stream jetstream.Stream
				var sub *nats.Subscription
				if js {
					j, err := jetstream.New(nc)
					require.NoError(t, err)
					stream = makeStream(t, j, "items")
				} else {
					sub = subscribe(t, url, "items")
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				filled := make(chan error, 1)
				go func() { filled <- fill(ctx, w, n) }()
				runOut(t, &natsbridge.Out{Reader: r, Conn: nc, Subject: "items", JetStream: js, Positions: true, Batch: 100}, n, time.Minute)
				require.NoError(t, <-filled)

				seen := map[uint64]int{}
				if js {
					seen = streamItems(t, stream)
				} else {
					for range n {
						m, err := sub.NextMsg(10 * time.Second)
						require.NoError(t, err)
						pos, err := strconv.ParseUint(m.Header.Get(natsbridge.PosHeader), 10, 64)
						require.NoError(t, err)
						require.Equal(t, item(pos), m.Data)
						seen[pos]++
					}
				}
				require.Len(t, seen, n)
				for pos, k := range seen {
					require.Equal(t, 1, k, "position %d", pos)
					require.Less(t, pos, uint64(n))
				}
			})
		}
	}
}

// TestOutBroadcast forwards a Broadcast buffer with plain reads.
func TestOutBroadcast(t *testing.T) {
	const n = 5000
	url := startServer(t)
	nc := connect(t, url)
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Mode: scb.Broadcast, Length: 8192, ItemSize: 8}
	w, r := buffer(t, "b", o)
	err := (&natsbridge.Out{Reader: r, Conn: nc, Subject: "b", JetStream: true}).Run(context.Background())
	require.ErrorContains(t, err, "JetStream's guarantee needs leases", "no silent fall back to core NATS")
	sub := subscribe(t, url, "b")
	require.NoError(t, fill(context.Background(), w, n))
	runOut(t, &natsbridge.Out{Reader: r, Conn: nc, Subject: "b"}, n, time.Minute)
	for i := range n {
		m, err := sub.NextMsg(10 * time.Second)
		require.NoError(t, err)
		require.Equal(t, item(uint64(i)), m.Data)
	}
}

// warmUp is the id of the items that only show that a bridge subscribed.
const warmUp = 1 << 63

// drain pops items from r until n of them are not warm-up items, or d
// passes, and returns how many times each id came.
func drain(t *testing.T, r *scb.Reader, n int, d time.Duration) map[uint64]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	seen := map[uint64]int{}
	buf := make([]byte, 8)
	for got := 0; got < n; {
		k, err := r.PopBytesWait(ctx, buf)
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		require.NoError(t, err, "after %d items", got)
		require.Equal(t, 8, k)
		if id := binary.BigEndian.Uint64(buf); id != warmUp {
			seen[id]++
			got++
		}
	}
	return seen
}

// TestIn forwards core NATS and a JetStream consumer into a buffer: every
// message is in the ring once.
func TestIn(t *testing.T) {
	const n = 20_000
	for _, js := range []bool{false, true} {
		t.Run(fmt.Sprintf("jetstream=%v", js), func(t *testing.T) {
			url := startServer(t)
			nc := connect(t, url)
			o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Length: 1024, ItemSize: 8, FixedSize: true}
			w, r := buffer(t, "in", o)

			in := &natsbridge.In{Writer: w, Conn: nc, Subject: "items", Dir: o.Dir, Batch: 100}
			pub := connect(t, url)
			if js {
				j, err := jetstream.New(pub)
				require.NoError(t, err)
				makeStream(t, j, "items")
				publishAll(t, j, "items", n)
				c, err := j.CreateConsumer(context.Background(), "S", natsbridge.ConsumerConfig("bridge", time.Second))
				require.NoError(t, err)
				in.Consumer, in.Journal = c, o.Dir+"/in.nats-journal"
			}
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- in.Run(ctx) }()
			if !js {
				// Publish once the bridge subscribed (core NATS keeps
				// nothing for a subscriber that is not there yet): a
				// warm-up item until one is in the ring.
				for {
					require.NoError(t, pub.Publish("items", item(warmUp)))
					require.NoError(t, pub.Flush())
					time.Sleep(10 * time.Millisecond)
					if _, err := r.PopBytes(make([]byte, 8)); err == nil {
						break
					}
				}
				for i := range n {
					require.NoError(t, pub.Publish("items", item(uint64(i))))
					if i%1000 == 0 {
						require.NoError(t, pub.Flush())
					}
				}
				require.NoError(t, pub.Flush())
			}
			d := time.Minute
			if !js {
				d = 10 * time.Second // what core NATS dropped never comes
			}
			seen := drain(t, r, n, d)
			cancel()
			require.NoError(t, <-errc)
			if js {
				require.Len(t, seen, n)
				for id, k := range seen {
					require.Equal(t, 1, k, "id %d", id)
				}
			} else {
				t.Logf("core NATS: %d of %d arrived, %d lost", len(seen), n, in.Stats.Lost.Load())
				require.Equal(t, uint64(n), uint64(len(seen))+in.Stats.Lost.Load())
			}
		})
	}
}

// TestOutAtMostOnce forwards a Queue buffer to core NATS with plain batch
// reads: every item arrives, in order; with JetStream it is refused.
func TestOutAtMostOnce(t *testing.T) {
	const n = 20_000
	url := startServer(t)
	nc := connect(t, url)
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Length: 1024, ItemSize: 8, FixedSize: true}
	w, r := buffer(t, "q", o)
	err := (&natsbridge.Out{Reader: r, Conn: nc, Subject: "q", JetStream: true, AtMostOnce: true}).Run(context.Background())
	require.ErrorContains(t, err, "AtMostOnce is for core NATS")

	sub := subscribe(t, url, "q")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	filled := make(chan error, 1)
	go func() { filled <- fill(ctx, w, n) }()
	runOut(t, &natsbridge.Out{Reader: r, Conn: nc, Subject: "q", AtMostOnce: true, Batch: 100}, n, time.Minute)
	require.NoError(t, <-filled)
	for i := range n {
		m, err := sub.NextMsg(10 * time.Second)
		require.NoError(t, err)
		require.Equal(t, item(uint64(i)), m.Data)
	}
}

// TestOutReconnects restarts the server (same port, same JetStream store)
// while Out forwards to JetStream: the batches whose acks did not come are
// given back and sent again once the client reconnected, and every item is
// stored once.
func TestOutReconnects(t *testing.T) {
	const n = 30_000
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true}
	start := func() *server.Server {
		s, err := server.NewServer(opts)
		require.NoError(t, err)
		go s.Start()
		require.True(t, s.ReadyForConnections(10*time.Second))
		return s
	}
	s := start()
	opts.Port = s.Addr().(*net.TCPAddr).Port
	defer func() { s.Shutdown() }()
	nc, err := nats.Connect(s.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	makeStream(t, js, "items")

	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Length: 4096, ItemSize: 8, FixedSize: true}
	w, r := buffer(t, "out", o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	filled := make(chan error, 1)
	go func() { filled <- fill(ctx, w, n) }()
	out := &natsbridge.Out{Reader: r, Conn: nc, Subject: "items", JetStream: true, Batch: 64, AckTimeout: time.Second}
	runCtx, stop := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- out.Run(runCtx) }()
	for out.Stats.Items.Load() < n/3 {
		require.NoError(t, ctx.Err())
		time.Sleep(time.Millisecond)
	}
	s.Shutdown()
	time.Sleep(300 * time.Millisecond)
	s = start()
	for out.Stats.Items.Load() < n {
		require.NoError(t, ctx.Err(), "forwarded %d of %d", out.Stats.Items.Load(), n)
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	require.NoError(t, <-errc)
	require.NoError(t, <-filled)
	t.Logf("after a server restart: %s", &out.Stats)
	stream, err := js.Stream(ctx, "S")
	require.NoError(t, err)
	seen := streamItems(t, stream)
	require.Len(t, seen, n)
	for pos, k := range seen {
		require.Equal(t, 1, k, "position %d", pos)
	}
}

// TestInRejects: a message that cannot be an item (longer than the item
// size, or of another size in a buffer of fixed-size items) is counted and
// skipped, never stopping the bridge.
func TestInRejects(t *testing.T) {
	url := startServer(t)
	nc := connect(t, url)
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Length: 64, ItemSize: 8, FixedSize: true}
	w, r := buffer(t, "in", o)
	j, err := jetstream.New(nc)
	require.NoError(t, err)
	makeStream(t, j, "items")
	for _, data := range [][]byte{item(1), {1, 2, 3, 4}, item(2), make([]byte, 9), item(3)} {
		_, err := j.Publish(context.Background(), "items", data)
		require.NoError(t, err)
	}
	c, err := j.CreateConsumer(context.Background(), "S", natsbridge.ConsumerConfig("bridge", time.Second))
	require.NoError(t, err)
	in := &natsbridge.In{Writer: w, Conn: nc, Consumer: c, Dir: o.Dir}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- in.Run(ctx) }()
	seen := drain(t, r, 3, 10*time.Second)
	assert.Equal(t, map[uint64]int{1: 1, 2: 1, 3: 1}, seen)
	cancel()
	require.NoError(t, <-errc)
	assert.Equal(t, uint64(2), in.Stats.Rejected.Load())
}

// TestInConsumerDeleted: In stops with an error when its consumer is
// deleted, rather than asking for messages forever.
func TestInConsumerDeleted(t *testing.T) {
	url := startServer(t)
	nc := connect(t, url)
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Length: 64, ItemSize: 8}
	w, err := scb.Create("in", o)
	require.NoError(t, err)
	defer w.Close()
	j, err := jetstream.New(nc)
	require.NoError(t, err)
	makeStream(t, j, "items")
	c, err := j.CreateConsumer(context.Background(), "S", natsbridge.ConsumerConfig("bridge", time.Second))
	require.NoError(t, err)
	in := &natsbridge.In{Writer: w, Conn: nc, Consumer: c, Dir: o.Dir}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- in.Run(ctx) }()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, j.DeleteConsumer(ctx, "S", "bridge"))
	select {
	case err := <-errc:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "consumer")
	case <-time.After(20 * time.Second):
		t.Fatal("In did not stop after its consumer was deleted")
	}
}
