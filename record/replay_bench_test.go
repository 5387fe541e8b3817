package record_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/record"
)

// BenchmarkReplay: how fast Replay writes recorded 8-byte items into a
// Queue whose reader takes them in batches, per item.
func BenchmarkReplay(b *testing.B) {
	const n = 1 << 20
	var f bytes.Buffer
	w, err := record.NewWriter(&f, record.Header{Mode: scb.Queue, ItemSize: 8, Name: "x"})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	item := make([]byte, 8)
	for i := range n {
		item[7] = byte(i)
		w.Add(uint64(i), now, item)
	}
	w.Close()
	o := &scb.Options{Dir: b.TempDir(), Length: 4096, ItemSize: 8, FixedSize: true}
	bw, err := scb.Create("q", o)
	if err != nil {
		b.Fatal(err)
	}
	defer bw.Close()
	r, err := scb.OpenReader("q", &scb.Options{Dir: o.Dir})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ResetTimer()
	for b.Loop() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			dst := make([]uint64, 1024)
			for got := 0; got < n; {
				k, err := r.PopIntoWait(context.Background(), dst)
				if err != nil {
					panic(err)
				}
				got += k
			}
		}()
		rd, err := record.NewReader(bytes.NewReader(f.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := record.Replay(context.Background(), rd, bw, record.Pace{}); err != nil {
			b.Fatal(err)
		}
		<-done
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
}
