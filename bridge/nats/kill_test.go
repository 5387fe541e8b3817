package natsbridge_test

// The kill tests: a bridge process SIGKILLed at random points, 20 times,
// then one that finishes. With JetStream, every item arrives once: in the
// stream (Out) and in the ring (In), checked by position and by id. The
// bridges are children of the test binary (package scbtest, as scb's
// own cross-process tests do).

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	natsbridge "github.com/sharedcbuff/scb/bridge/nats"
	"github.com/sharedcbuff/scb/scbtest"
)

func TestMain(m *testing.M) {
	scbtest.Register("bridge-out", func(args []string) error { return childOut(params(args)) })
	scbtest.Register("bridge-in", func(args []string) error { return childIn(params(args)) })
	scbtest.Main(m)
}

// params reads a child's KEY=VALUE arguments.
func params(args []string) map[string]string {
	ps := map[string]string{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		ps[k] = v
	}
	return ps
}

// args turns a child's parameters into KEY=VALUE arguments.
func args(ps map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(ps)) {
		out = append(out, k+"="+ps[k])
	}
	return out
}

// killRounds is how many bridges each kill test kills before the one
// that finishes.
const killRounds = 20

// childOut forwards the buffer NAME in DIR to JetStream (subject items of
// the server URL), or to core NATS if CORE is set, until it is killed.
func childOut(param map[string]string) error {
	ctx, cancel := context.WithTimeout(context.Background(), scbtest.Timeout)
	defer cancel()
	nc, err := nats.Connect(param["URL"])
	if err != nil {
		return err
	}
	defer nc.Close()
	r, err := scb.OpenReaderWait(ctx, param["NAME"], &scb.Options{Dir: param["DIR"]})
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Println("ready")
	o := &natsbridge.Out{Reader: r, Conn: nc, Subject: "items", JetStream: param["CORE"] == "", Positions: true, Batch: 64}
	return o.Run(ctx)
}

// childIn forwards the JetStream consumer "bridge" of stream S into the
// buffer NAME in DIR, with its journal there, or the core NATS subject
// items if CORE is set, until it is killed.
func childIn(param map[string]string) error {
	ctx, cancel := context.WithTimeout(context.Background(), scbtest.Timeout)
	defer cancel()
	nc, err := nats.Connect(param["URL"])
	if err != nil {
		return err
	}
	defer nc.Close()
	dir := param["DIR"]
	if param["CORE"] != "" {
		w, err := scb.OpenWriterWait(ctx, param["NAME"], &scb.Options{Dir: dir})
		if err != nil {
			return err
		}
		defer w.Close()
		in := &natsbridge.In{Writer: w, Conn: nc, Subject: "items", Dir: dir, Batch: 64}
		go func() {
			// Say ready once subscribed: core NATS keeps nothing for a
			// subscriber that is not there yet.
			for in.Stats.Batches.Load() == 0 && nc.NumSubscriptions() == 0 {
				time.Sleep(time.Millisecond)
			}
			nc.Flush()
			fmt.Println("ready")
		}()
		return in.Run(ctx)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	c, err := js.Consumer(ctx, "S", "bridge")
	if err != nil {
		return err
	}
	w, err := scb.OpenWriterWait(ctx, param["NAME"], &scb.Options{Dir: dir})
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Println("ready")
	in := &natsbridge.In{Writer: w, Conn: nc, Consumer: c, Journal: filepath.Join(dir, "journal"), Dir: dir, Batch: 64}
	return in.Run(ctx)
}

// killBridges starts the bridge role killRounds times, killing each at a
// random moment within its first 40 ms of work, then once more, and
// returns that last one for the caller to end once done.
func killBridges(t *testing.T, role string, ps map[string]string) *scbtest.Proc {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 21))
	for range killRounds {
		p := scbtest.Start(t, role, args(ps)...)
		p.Expect("ready")
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		p.Kill()
	}
	p := scbtest.Start(t, role, args(ps)...)
	p.Expect("ready")
	return p
}

// TestOutKilled: bridges forwarding a buffer to JetStream are killed at
// random points while a writer fills it; every item is stored in the
// stream exactly once, at its position.
func TestOutKilled(t *testing.T) {
	const n = 50_000
	for _, s := range []scb.Strategy{scb.Atomic, scb.Flock} {
		t.Run(s.String(), func(t *testing.T) {
			url := startServer(t)
			nc := connect(t, url)
			js, err := jetstream.New(nc)
			require.NoError(t, err)
			stream := makeStream(t, js, "items")
			o := &scb.Options{Dir: t.TempDir(), Strategy: s, Length: 4096, ItemSize: 8, FixedSize: true}
			w, err := scb.Create("out", o)
			if err != nil {
				scbtest.Skip(t, err.Error(), "bridge-out")
			}
			defer w.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			filled := make(chan error, 1)
			go func() { filled <- fill(ctx, w, n) }()

			last := killBridges(t, "bridge-out", map[string]string{"URL": url, "DIR": o.Dir, "NAME": "out"})
			require.NoError(t, <-filled)
			for {
				info, err := stream.Info(ctx)
				require.NoError(t, err)
				if info.State.Msgs >= n {
					require.Equal(t, uint64(n), info.State.Msgs, "the stream holds each item once")
					break
				}
				require.NoError(t, ctx.Err(), "the stream holds %d of %d items", info.State.Msgs, n)
				time.Sleep(20 * time.Millisecond)
			}
			last.Kill()
			seen := streamItems(t, stream)
			require.Len(t, seen, n)
			for pos, k := range seen {
				require.Equal(t, 1, k, "position %d", pos)
				require.Less(t, pos, uint64(n))
			}
		})
	}
}

// TestInKilled: bridges forwarding a JetStream consumer into a buffer are
// killed at random points while a reader drains it; every message is in
// the ring exactly once.
func TestInKilled(t *testing.T) {
	const n = 50_000
	url := startServer(t)
	nc := connect(t, url)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	makeStream(t, js, "items")
	publishAll(t, js, "items", n)
	_, err = js.CreateConsumer(context.Background(), "S", natsbridge.ConsumerConfig("bridge", 500*time.Millisecond))
	require.NoError(t, err)

	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Length: 1024, ItemSize: 8, FixedSize: true}
	w, err := scb.Create("in", o)
	require.NoError(t, err)
	require.NoError(t, w.Close()) // the bridges write
	r, err := scb.OpenReader("in", o)
	require.NoError(t, err)
	defer r.Close()
	type result struct {
		seen map[uint64]int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		seen := map[uint64]int{}
		buf := make([]byte, 8)
		for len(seen) < n {
			if _, err := r.PopBytesWait(ctx, buf); err != nil {
				done <- result{seen, err}
				return
			}
			seen[uint64FromItem(buf)]++
		}
		done <- result{seen, nil}
	}()
	last := killBridges(t, "bridge-in", map[string]string{"URL": url, "DIR": o.Dir, "NAME": "in"})
	res := <-done
	time.Sleep(200 * time.Millisecond)
	last.Kill()
	t.Log(last.Stderr())
	require.NoError(t, res.err, "%d of %d ids arrived", len(res.seen), n)
	for id, k := range res.seen {
		require.Equal(t, 1, k, "id %d is in the ring %d times", id, k)
		require.Less(t, id, uint64(n))
	}
	time.Sleep(100 * time.Millisecond)
	extra := make([]byte, 8)
	_, err = r.PopBytes(extra)
	require.ErrorIs(t, err, scb.ErrEmpty, "nothing after the last id, but %d", uint64FromItem(extra))
}

func uint64FromItem(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

// TestOutKilledCore is TestOutKilled with core NATS: a bridge's items are
// acknowledged in the buffer once the server has them, so killing bridges
// loses nothing, and an item is sent twice only when its bridge died
// after sending it and before acknowledging it. The counts are reported.
func TestOutKilledCore(t *testing.T) {
	const n = 50_000
	url := startServer(t)
	sub := subscribe(t, url, "items")
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Length: 4096, ItemSize: 8, FixedSize: true}
	w, err := scb.Create("out", o)
	require.NoError(t, err)
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	filled := make(chan error, 1)
	go func() { filled <- fill(ctx, w, n) }()
	last := killBridges(t, "bridge-out", map[string]string{"URL": url, "DIR": o.Dir, "NAME": "out", "CORE": "1"})
	require.NoError(t, <-filled)
	seen := map[uint64]int{}
	dups := 0
	for len(seen) < n {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			break
		}
		pos, err := strconv.ParseUint(m.Header.Get(natsbridge.PosHeader), 10, 64)
		require.NoError(t, err)
		require.Equal(t, item(pos), m.Data)
		if seen[pos]++; seen[pos] > 1 {
			dups++
		}
	}
	last.Kill()
	t.Logf("core NATS, %d bridges killed: %d of %d items arrived, %d lost, %d sent twice", killRounds, len(seen), n, n-len(seen), dups)
	require.Len(t, seen, n, "lost")
}

// TestInKilledCore is TestInKilled with core NATS, a publisher sending
// all along: what the killed bridges held, and what was sent while no
// bridge was subscribed, is lost, as core NATS loses it; the counts are
// reported, and nothing arrives twice.
func TestInKilledCore(t *testing.T) {
	const n = 50_000
	url := startServer(t)
	pub := connect(t, url)
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, Length: 1 << 16, ItemSize: 8, FixedSize: true}
	w, err := scb.Create("in", o)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	r, err := scb.OpenReader("in", o)
	require.NoError(t, err)
	defer r.Close()
	published := make(chan error, 1)
	go func() {
		for i := range n {
			if err := pub.Publish("items", item(uint64(i))); err != nil {
				published <- err
				return
			}
			if i%100 == 0 {
				pub.Flush()
				time.Sleep(100 * time.Microsecond) // spread over the kills
			}
		}
		published <- pub.Flush()
	}()
	last := killBridges(t, "bridge-in", map[string]string{"URL": url, "DIR": o.Dir, "NAME": "in", "CORE": "1"})
	require.NoError(t, <-published)
	time.Sleep(200 * time.Millisecond)
	last.Kill()
	seen := map[uint64]int{}
	buf := make([]byte, 8)
	for {
		if _, err := r.PopBytes(buf); err != nil {
			require.ErrorIs(t, err, scb.ErrEmpty)
			break
		}
		seen[uint64FromItem(buf)]++
	}
	for id, k := range seen {
		require.Equal(t, 1, k, "id %d is in the ring %d times", id, k)
	}
	t.Logf("core NATS, %d bridges killed: %d of %d messages in the ring, %d lost", killRounds, len(seen), n, n-len(seen))
}
