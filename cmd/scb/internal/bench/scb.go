package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/sharedcbuff/scb"
)

func strategyOf(via Via) scb.Strategy {
	if via == Flock {
		return scb.Flock
	}
	return scb.Atomic
}

func scbThroughput(via Via, s Shape, n int, dir string) (time.Duration, error) {
	d, cleanup, err := tempDir(dir)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	o := &scb.Options{Dir: d, Strategy: strategyOf(via), ItemSize: s.Size, Length: ringLength(s.Size), FixedSize: true}
	w, err := scb.Create("tp", o)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	wn := warmUp(n)
	p, err := start(job{Role: "consume", Via: string(via), Dir: d, Name: "tp", N: n, Warm: wn, Shape: s})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	if err := produce(ctx, w, s, 0, wn); err != nil {
		p.kill()
		return 0, err
	}
	if err := p.expect("warm"); err != nil {
		p.kill()
		return 0, err
	}
	t0 := now()
	if err := produce(ctx, w, s, wn, wn+n); err != nil {
		p.kill()
		return 0, err
	}
	if err := p.finish(); err != nil {
		return 0, err
	}
	return since(t0), nil
}

// produce writes items from..to-1 in shape s.
func produce(ctx context.Context, w *scb.Writer, s Shape, from, to int) error {
	switch {
	case s.Size == 8 && s.Batch == 1:
		for i := uint64(from); i < uint64(to); i++ {
			if err := w.PushWait(ctx, i); err != nil {
				return err
			}
		}
	case s.Size == 8:
		batch := make([]uint64, s.Batch)
		for i := from; i < to; i += len(batch) {
			k := min(len(batch), to-i)
			for j := range k {
				batch[j] = uint64(i + j)
			}
			if _, err := w.PushManyWait(ctx, batch[:k]); err != nil {
				return err
			}
		}
	case s.ZeroCopy:
		src := make([]byte, s.Size)
		for i := uint64(from); i < uint64(to); i++ {
			p, err := w.ClaimWait(ctx)
			if err != nil {
				return err
			}
			copy(p, src) // the producer writes the item in place
			binary.LittleEndian.PutUint64(p, i)
			if err := w.Commit(s.Size); err != nil {
				return err
			}
		}
	default:
		buf := make([]byte, s.Size)
		items := make([][]byte, s.Batch)
		for j := range items {
			items[j] = make([]byte, s.Size)
		}
		for i := from; i < to; i += s.Batch {
			if s.Batch == 1 {
				binary.LittleEndian.PutUint64(buf, uint64(i))
				if err := w.PushBytesWait(ctx, buf); err != nil {
					return err
				}
				continue
			}
			k := min(s.Batch, to-i)
			for j := range k {
				binary.LittleEndian.PutUint64(items[j], uint64(i+j))
			}
			if _, err := w.PushBytesManyWait(ctx, items[:k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// consume reads items from..to-1 in shape s and checks each one's number.
func consume(ctx context.Context, r *scb.Reader, s Shape, from, to int) error {
	check := func(i int, got uint64) error {
		if got != uint64(i) {
			return fmt.Errorf("item %d has number %d", i, got)
		}
		return nil
	}
	switch {
	case s.Size == 8 && s.Batch == 1:
		for i := from; i < to; i++ {
			v, err := r.PopWait(ctx)
			if err != nil {
				return err
			}
			if err := check(i, v); err != nil {
				return err
			}
		}
	case s.Size == 8:
		dst := make([]uint64, s.Batch)
		for i := from; i < to; {
			k, err := r.PopIntoWait(ctx, dst)
			if err != nil {
				return err
			}
			for _, v := range dst[:k] {
				if err := check(i, v); err != nil {
					return err
				}
				i++
			}
		}
	case s.ZeroCopy:
		for i := from; i < to; i++ {
			p, err := r.PeekWait(ctx)
			if err != nil {
				return err
			}
			if len(p) != s.Size {
				return fmt.Errorf("item %d: %d bytes", i, len(p))
			}
			if err := check(i, binary.LittleEndian.Uint64(p)); err != nil {
				return err
			}
			if err := r.Release(); err != nil {
				return err
			}
		}
	default:
		bufs := make([][]byte, s.Batch)
		for j := range bufs {
			bufs[j] = make([]byte, s.Size)
		}
		for i := from; i < to; {
			k, err := r.PopBytesIntoWait(ctx, bufs)
			if err != nil {
				return err
			}
			for j := range k {
				if len(bufs[j]) != s.Size {
					return fmt.Errorf("item %d: %d bytes", i, len(bufs[j]))
				}
				if err := check(i, binary.LittleEndian.Uint64(bufs[j])); err != nil {
					return err
				}
				bufs[j] = bufs[j][:cap(bufs[j])]
				i++
			}
		}
	}
	return nil
}

func scbRoundTrip(via Via, wait Wait, n int, dir string) ([]time.Duration, error) {
	d, cleanup, err := tempDir(dir)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	o := &scb.Options{Dir: d, Strategy: strategyOf(via), Length: 64, FixedSize: true}
	if wait == Sleep {
		o.Spin = -1
	}
	ping, err := scb.Create("ping", o)
	if err != nil {
		return nil, err
	}
	defer ping.Close()
	pw, err := scb.Create("pong", o)
	if err != nil {
		return nil, err
	}
	pw.Close() // the child writes pong
	pong, err := scb.OpenReader("pong", o)
	if err != nil {
		return nil, err
	}
	defer pong.Close()
	wn := warmUp(n)
	p, err := start(job{Role: "echo", Via: string(via), Dir: d, Name: "ping", Name2: "pong", N: n, Warm: wn, Wait: wait})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	rtts := make([]time.Duration, wn+n)
	for i := range wn + n {
		t0 := now()
		if err := ping.Push(uint64(i)); err != nil {
			p.kill()
			return nil, err
		}
		v, err := popWith(ctx, pong, wait)
		if err != nil {
			p.kill()
			return nil, err
		}
		rtts[i] = since(t0)
		if v != uint64(i) {
			p.kill()
			return nil, fmt.Errorf("round trip %d came back as %d", i, v)
		}
	}
	return rtts[wn:], p.finish()
}

// popWith reads one item, polling Pop for Spin and with PopWait otherwise.
func popWith(ctx context.Context, r *scb.Reader, wait Wait) (uint64, error) {
	if wait != Spin {
		return r.PopWait(ctx)
	}
	for {
		v, err := r.Pop()
		if err != scb.ErrEmpty {
			return v, err
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
}

// scbChild is the far end of an scb measurement.
func scbChild(j job) error {
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	o := &scb.Options{Dir: j.Dir}
	if j.Wait == Sleep {
		o.Spin = -1
	}
	r, err := scb.OpenReader(j.Name, o)
	if err != nil {
		return err
	}
	defer r.Close()
	if j.Role == "consume" {
		ready()
		if err := consume(ctx, r, j.Shape, 0, j.Warm); err != nil {
			return err
		}
		warm()
		if err := consume(ctx, r, j.Shape, j.Warm, j.Warm+j.N); err != nil {
			return err
		}
		done()
		return nil
	}
	w, err := scb.OpenWriter(j.Name2, o)
	if err != nil {
		return err
	}
	defer w.Close()
	ready()
	for range j.Warm + j.N {
		v, err := popWith(ctx, r, j.Wait)
		if err != nil {
			return err
		}
		if err := w.Push(v); err != nil {
			return err
		}
	}
	done()
	return nil
}
