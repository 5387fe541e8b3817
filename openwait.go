package scb

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Opening when the buffer or the role is not there yet: the Wait forms of
// the openers, and Create-or-open for programs that do not care which of
// them starts first.

// OpenReaderWait is OpenReader that waits, until ctx is done, while the
// buffer does not exist or the reader role is taken (an Atomic Queue
// buffer has one reader at a time): a standby consumer takes over within
// about 50 ms of the active one closing or dying. Any other error is
// returned at once. If ctx is done first, the error matches both ctx's
// error and the reason it was still waiting (ErrNotExist or ErrBusy).
func OpenReaderWait(ctx context.Context, name string, opts *Options) (*Reader, error) {
	return openWait(ctx, name, opts, OpenReader)
}

// OpenWriterWait is OpenWriter that waits, until ctx is done, while the
// buffer does not exist or the writer role is taken (with Atomic, one
// writer at a time), as OpenReaderWait does for readers.
func OpenWriterWait(ctx context.Context, name string, opts *Options) (*Writer, error) {
	return openWait(ctx, name, opts, OpenWriter)
}

// openWaitMax is the longest pause between two attempts of the Wait
// openers: they poll, starting at a millisecond.
const openWaitMax = 50 * time.Millisecond

func openWait[H any](ctx context.Context, name string, opts *Options, open func(string, *Options) (H, error)) (H, error) {
	pause := time.Millisecond
	for {
		h, err := open(name, opts)
		if err == nil || !errors.Is(err, ErrNotExist) && !errors.Is(err, ErrBusy) {
			return h, err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			var zero H
			return zero, opError("open", name, fmt.Errorf("%w while waiting: %w", ctx.Err(), errors.Unwrap(err)))
		case <-t.C:
		}
		pause = min(2*pause, openWaitMax)
	}
}

// CreateOrOpen returns a Writer attached to the buffer called name: a new
// one made as Create does, or, if the name is taken, the existing one, as
// OpenWriter attaches (opts' non-zero Length, ItemSize, Strategy and Mode,
// and FixedSize if set, must then match it, else ErrMismatch). With the Atomic strategy the
// existing buffer's writer role may be taken: that is ErrBusy, as from
// OpenWriter. It is for programs whose processes may start in any order;
// a reader that may start first uses OpenReaderWait.
func CreateOrOpen(name string, opts *Options) (*Writer, error) {
	var err error
	for range 100 {
		var w *Writer
		w, err = Create(name, opts)
		if errors.Is(err, ErrUnsupported) {
			// Options this platform cannot create with (the default
			// Atomic strategy on arm, say) may still open a buffer
			// that exists.
			if w, oerr := OpenWriter(name, opts); !errors.Is(oerr, ErrNotExist) {
				return w, oerr
			}
			return nil, err
		}
		if !errors.Is(err, ErrExist) {
			return w, err
		}
		if w, err = OpenWriter(name, opts); !errors.Is(err, ErrNotExist) {
			return w, err
		}
		// Removed between the two: create it again.
	}
	return nil, err
}
