package scb_test

import (
	"context"
	"testing"

	"github.com/sharedcbuff/scb"
)

// BenchmarkOps measures what one operation costs the calling goroutine,
// with the writer and the reader in one goroutine: no second core, no
// cache-line transfers and no waiting, so that a change to the code path
// shows without the noise of two processes. Compare before and after with
//
//	go test -run '^$' -bench Ops -count 10 . | tee new.txt; benchstat old.txt new.txt
func BenchmarkOps(b *testing.B) {
	ctx := context.Background()
	for _, s := range []scb.Strategy{scb.Atomic, scb.Flock} {
		b.Run(s.String(), func(b *testing.B) {
			dir := b.TempDir()
			w, err := scb.Create("ops", &scb.Options{Dir: dir, Strategy: s, Length: 256, ItemSize: 1024})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			r, err := scb.OpenReader("ops", &scb.Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			w8, err := scb.Create("ops8", &scb.Options{Dir: dir, Strategy: s, Length: 256})
			if err != nil {
				b.Fatal(err)
			}
			defer w8.Close()
			r8, err := scb.OpenReader("ops8", &scb.Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			defer r8.Close()
			item := make([]byte, 1024)
			batch := make([]uint64, 64)
			b.Run("push-pop-8B", func(b *testing.B) {
				for i := range b.N {
					if err := w8.PushWait(ctx, uint64(i)); err != nil {
						b.Fatal(err)
					}
					if _, err := r8.PopWait(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("push-pop-batch64", func(b *testing.B) {
				for range b.N {
					if _, err := w8.PushManyWait(ctx, batch); err != nil {
						b.Fatal(err)
					}
					if _, err := r8.PopIntoWait(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("push-pop-1KiB", func(b *testing.B) {
				for range b.N {
					if err := w.PushBytesWait(ctx, item); err != nil {
						b.Fatal(err)
					}
					if _, err := r.PopBytesWait(ctx, item); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("claim-peek-1KiB", func(b *testing.B) {
				for range b.N {
					p, err := w.ClaimWait(ctx)
					if err != nil {
						b.Fatal(err)
					}
					p[0] = 1
					if err := w.Commit(len(p)); err != nil {
						b.Fatal(err)
					}
					q, err := r.PeekWait(ctx)
					if err != nil {
						b.Fatal(err)
					}
					_ = q[0]
					if err := r.Release(); err != nil {
						b.Fatal(err)
					}
				}
			})
			wb, err := scb.Create("opsb", &scb.Options{Dir: dir, Strategy: s, Mode: scb.Broadcast, Length: 256})
			if err != nil {
				b.Fatal(err)
			}
			defer wb.Close()
			rb, err := scb.OpenReader("opsb", &scb.Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			defer rb.Close()
			b.Run("broadcast-push-pop-8B", func(b *testing.B) {
				for i := range b.N {
					if err := wb.Push(uint64(i)); err != nil {
						b.Fatal(err)
					}
					if _, err := rb.PopWait(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("push-take-ack-8B", func(b *testing.B) {
				for i := range b.N {
					if err := w8.PushWait(ctx, uint64(i)); err != nil {
						b.Fatal(err)
					}
					_, l, err := r8.TakeWait(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if err := l.Ack(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
