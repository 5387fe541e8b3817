package scb

import (
	"context"
	"errors"
	"io"
	"iter"
)

// The iterators read one item per step with the Wait form of a read, so a
// loop body that breaks consumes nothing it was not given. They share one
// rule for how a loop ends, kept in iterate:
//
//   - at the end of the stream (a read's error matches io.EOF) the loop
//     ends without an error: that is the clean end;
//   - an overrun (ErrOverrun, Broadcast) is yielded as the error, and the
//     loop goes on with the next item;
//   - any other error, a done context's included, is yielded once as the
//     last error, and the loop ends.

// iterate runs one iterator loop: read makes one read and returns its
// error; emit yields what that read returned (err nil) or err, and reports
// whether the loop body wants more.
func iterate(read func() error, emit func(err error) bool) {
	for {
		err := read()
		if err == nil {
			if !emit(nil) {
				return
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if !emit(err) || !errors.Is(err, ErrOverrun) {
			return
		}
	}
}

// orBackground makes a nil context mean no limit, as context.Background.
func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// Values returns an iterator over the integer items of the buffer, read one
// at a time with PopWait:
//
//	for v, err := range r.Values(ctx) {
//		if err != nil {
//			return err // or, in Broadcast mode, note the overrun and go on
//		}
//		use(v)
//	}
//
// The loop waits for items until ctx is done (a nil ctx means no limit),
// or every writer has been gone for Options.Grace (ErrWriterGone, yielded
// as other errors are).
// It ends without an error at the end of the stream (a read returning an
// error that matches io.EOF). An overrun in Broadcast mode is yielded as
// the error (matching ErrOverrun; the value is 0) and the loop continues
// with the next item. Every other error, ctx's included (wrapped, matching
// context.Canceled or context.DeadlineExceeded), is yielded once, with a
// value of 0, and ends the loop: a loop that ends without having seen an
// error has read the whole stream. A loop body that breaks consumes
// nothing more: each step reads one item, so in Queue mode the next read
// (or the next loop) starts at the next unread item. The iterator
// allocates nothing per item. The Reader's concurrency rules apply to the
// loop as to the reads it makes.
func (r *Reader) Values(ctx context.Context) iter.Seq2[uint64, error] {
	return func(yield func(uint64, error) bool) {
		ctx := orBackground(ctx)
		var v uint64
		iterate(
			func() (err error) { v, err = r.PopWait(ctx); return err },
			func(err error) bool {
				if err != nil {
					return yield(0, err)
				}
				return yield(v, nil)
			})
	}
}

// Items returns an iterator over the byte items of the buffer, read one at
// a time with PopBytesWait into buf, which the loop reuses:
//
//	for item, err := range r.Items(ctx, nil) {
//		if err != nil {
//			return err
//		}
//		use(item) // valid until the loop body's iteration ends
//	}
//
// Each item is buf[:n], resliced to the item's length: it is valid only
// until the loop body returns to the loop (the next step reads the next
// item into the same memory); copy it (bytes.Clone) to keep it. As with
// PopBytes, the room an item has is cap(buf); a nil or empty buf makes the
// loop allocate one buffer of ItemSize bytes when it starts. An item
// longer than cap(buf) is yielded as an error matching io.ErrShortBuffer,
// stays unread, and ends the loop. Otherwise Items ends and reports errors
// exactly as Values does: no error at the end of the stream (io.EOF),
// overruns yielded and the loop continued, every other error (ctx's
// included) yielded once as the last. It allocates nothing per item.
func (r *Reader) Items(ctx context.Context, buf []byte) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		ctx := orBackground(ctx)
		buf := buf
		if cap(buf) == 0 {
			buf = make([]byte, r.lay.ItemSize)
		}
		buf = buf[:cap(buf)]
		var n int
		iterate(
			func() (err error) { n, err = r.PopBytesWait(ctx, buf); return err },
			func(err error) bool {
				if err != nil {
					return yield(nil, err)
				}
				return yield(buf[:n:n], nil)
			})
	}
}
