package natsbridge_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	natsbridge "github.com/sharedcbuff/scb/bridge/nats"
)

// BenchmarkOut measures Out's forwarding rate, 8-byte items from an Atomic
// Queue buffer filled beforehand, to core NATS (no headers; with leases,
// and AtMostOnce) and to JetStream (file storage, an id per message), in
// batches of 256 and 4096. It uses
// the server at SCB_NATS_URL if set (bench.sh starts one, to compare with
// nats bench on the same server), else an embedded one. Its metric is
// items/s.
func BenchmarkOut(b *testing.B) {
	for _, mode := range []string{"core", "core-at-most-once", "jetstream"} {
		for _, batch := range []int{256, 4096} {
			b.Run(fmt.Sprintf("%s/batch=%d", mode, batch), func(b *testing.B) {
				benchOut(b, &natsbridge.Out{JetStream: mode == "jetstream", AtMostOnce: mode == "core-at-most-once", Batch: batch})
			})
		}
	}
}

func benchOut(b *testing.B, out *natsbridge.Out) {
	url := os.Getenv("SCB_NATS_URL")
	if url == "" {
		url = startServer(b)
	}
	// As scb-nats connects: it checks the subject once, not per message.
	nc, err := nats.Connect(url, nats.SkipSubjectValidation())
	require.NoError(b, err)
	defer nc.Close()
	subject := fmt.Sprintf("scbbench.%d", time.Now().UnixNano())
	if out.JetStream {
		j, err := jetstream.New(nc)
		require.NoError(b, err)
		name := fmt.Sprintf("SCBBENCH%d", time.Now().UnixNano())
		_, err = j.CreateStream(context.Background(), jetstream.StreamConfig{Name: name, Subjects: []string{subject}})
		require.NoError(b, err)
		b.Cleanup(func() { j.DeleteStream(context.Background(), name) })
	}
	// The buffer holds every item before the timer starts: what is timed
	// is the bridge alone, as nats bench times its publisher alone.
	o := &scb.Options{Dir: b.TempDir(), Length: max(b.N, 1024), ItemSize: 8, FixedSize: true}
	w, r := buffer(b, "bench", o)
	items := make([][]byte, 256)
	for i := range items {
		items[i] = item(uint64(i))
	}
	for left := b.N; left > 0; {
		n, err := w.PushBytesMany(items[:min(len(items), left)])
		require.NoError(b, err)
		left -= n
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out.Reader, out.Conn, out.Subject = r, nc, subject
	errc := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { errc <- out.Run(ctx) }()
	for out.Stats.Items.Load() < uint64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	require.NoError(b, <-errc)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "items/s")
}
