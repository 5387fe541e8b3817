package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/platform"
)

// The MPMC measurement: writers processes push 8-byte items into one queue
// and readers processes pop them, each item reaching exactly one reader.
// An item carries its writer's number in the top 16 bits and its sequence
// number below; every reader checks that each writer's items reach it in
// order, and reports how many it got and their sum, which the parent
// checks against what was sent. When the writers are done, the parent
// sends one stop item per reader.
//
// Of scb's strategies only Flock takes more than one writer and one Queue
// reader; the baselines are a pipe and a SOCK_SEQPACKET pair shared by all
// the processes (8-byte writes to a pipe are atomic, and every read takes
// one whole item).

const (
	mpmcShift = 40
	mpmcStop  = ^uint64(0)
)

// MPMC moves n 8-byte items from writers processes to readers processes
// over via (Flock, Pipe or Socket; Atomic for one writer and one reader)
// and returns the time from the moment all of them are attached to the
// last item received. The scb readers read with PopWait. There is no
// warm-up: the processes start together.
func MPMC(via Via, writers, readers, n int, dir string) (time.Duration, error) {
	return mpmc(via, writers, readers, n, false, dir)
}

// MPMCTake is MPMC with scb readers that take each item under a lease
// (TakeWait) and acknowledge it (Lease.Ack): the cost of at-least-once
// delivery over PopWait's at-most-once.
func MPMCTake(via Via, writers, readers, n int, dir string) (time.Duration, error) {
	if via != Atomic && via != Flock {
		return 0, fmt.Errorf("bench: %s has no leases", via)
	}
	if via == Flock && !platform.HolderLocks {
		return 0, fmt.Errorf("%w: Flock leases need holder locks", ErrUnsupported)
	}
	return mpmc(via, writers, readers, n, true, dir)
}

func mpmc(via Via, writers, readers, n int, take bool, dir string) (time.Duration, error) {
	if writers < 1 || readers < 1 || n < writers {
		return 0, fmt.Errorf("bench: MPMC with %d writers, %d readers and %d items", writers, readers, n)
	}
	if via == Atomic && (writers > 1 || readers > 1) {
		return 0, fmt.Errorf("bench: %s takes one writer and one Queue reader, not %d and %d", via, writers, readers)
	}
	// The children block reading go until the parent closes its end.
	goR, goW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer goR.Close()
	defer goW.Close()
	var (
		send           func(uint64) error
		wfile, rfile   *os.File
		name, d        string
		wantSum, count uint64
	)
	switch via {
	case Atomic, Flock:
		var cleanup func()
		d, cleanup, err = tempDir(dir)
		if err != nil {
			return 0, err
		}
		defer cleanup()
		name = "mpmc"
		w, err := scb.Create(name, &scb.Options{Dir: d, Strategy: strategyOf(via), Mode: scb.Queue, Length: ringLength(8), FixedSize: true})
		if err != nil {
			return 0, err
		}
		if via == Atomic {
			// The one writer is a child: give the role up, and send the
			// stop items through a writer opened once it is done.
			if err := w.Close(); err != nil {
				return 0, err
			}
			send = func(v uint64) error {
				w, err := scb.OpenWriter(name, &scb.Options{Dir: d})
				if err != nil {
					return err
				}
				defer w.Close()
				return w.PushWait(context.Background(), v)
			}
			break
		}
		defer w.Close()
		send = w.Push
	case Pipe, Socket:
		wf, rf, err := mpmcStream(via)
		if err != nil {
			return 0, err
		}
		defer wf.Close()
		wfile, rfile = wf, rf
		buf := make([]byte, 8)
		send = func(v uint64) error {
			binary.LittleEndian.PutUint64(buf, v)
			_, err := wf.Write(buf)
			return err
		}
	default:
		return 0, fmt.Errorf("bench: %s does not take several writers and readers", via)
	}
	var ps []*proc
	killAll := func() {
		for _, p := range ps {
			p.kill()
		}
	}
	startOne := func(j job, data *os.File) error {
		files := []*os.File{goR}
		if data != nil {
			files = append(files, data)
		}
		p, err := start(j, files...)
		if err != nil {
			return err
		}
		ps = append(ps, p)
		return nil
	}
	for k := range writers {
		items := n / writers
		if k < n%writers {
			items++
		}
		for i := range uint64(items) {
			wantSum += uint64(k)<<mpmcShift | i
		}
		count += uint64(items)
		if err := startOne(job{Role: "mpmc-write", Via: string(via), Dir: d, Name: name, N: items, Warm: k}, wfile); err != nil {
			killAll()
			return 0, err
		}
	}
	for range readers {
		if err := startOne(job{Role: "mpmc-read", Via: string(via), Dir: d, Name: name, Take: take}, rfile); err != nil {
			killAll()
			return 0, err
		}
	}
	if rfile != nil {
		rfile.Close()
	}
	t0 := time.Now()
	goW.Close()
	for _, p := range ps[:writers] {
		if err := p.finish(); err != nil {
			killAll()
			return 0, err
		}
	}
	for range readers {
		if err := send(mpmcStop); err != nil {
			killAll()
			return 0, err
		}
	}
	var gotSum, got uint64
	for _, p := range ps[writers:] {
		rest, err := p.Expect("done")
		if err == nil {
			var c, s uint64
			if _, err = fmt.Sscan(rest, &c, &s); err == nil {
				got, gotSum = got+c, gotSum+s
			}
		}
		if err != nil {
			killAll()
			return 0, err
		}
	}
	d1 := time.Since(t0)
	for _, p := range ps[writers:] {
		if _, err := p.Wait(); err != nil {
			killAll()
			return 0, fmt.Errorf("child: %w: %s", err, strings.TrimSpace(p.Stderr()))
		}
	}
	if got != count || gotSum != wantSum {
		return 0, fmt.Errorf("readers got %d items summing to %d, want %d summing to %d", got, gotSum, count, wantSum)
	}
	return d1, nil
}

// mpmcChild is a writer (job.Warm is its number) or a reader of an MPMC
// measurement. Descriptor 3 is the start signal, 4 the pipe or socket.
func mpmcChild(j job) error {
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	var (
		send func(uint64) error
		recv func() (uint64, error)
	)
	if via := Via(j.Via); via == Atomic || via == Flock {
		o := &scb.Options{Dir: j.Dir}
		if j.Role == "mpmc-write" {
			w, err := scb.OpenWriter(j.Name, o)
			if err != nil {
				return err
			}
			defer w.Close()
			send = func(v uint64) error { return w.PushWait(ctx, v) }
		} else {
			r, err := scb.OpenReader(j.Name, o)
			if err != nil {
				return err
			}
			defer r.Close()
			recv = func() (uint64, error) { return r.PopWait(ctx) }
			if j.Take {
				recv = func() (uint64, error) {
					v, l, err := r.TakeWait(ctx)
					if err != nil {
						return 0, err
					}
					return v, l.Ack()
				}
			}
		}
	} else {
		f := os.NewFile(4, "data")
		buf := make([]byte, 8)
		send = func(v uint64) error {
			binary.LittleEndian.PutUint64(buf, v)
			_, err := f.Write(buf)
			return err
		}
		recv = func() (uint64, error) {
			_, err := io.ReadFull(f, buf)
			return binary.LittleEndian.Uint64(buf), err
		}
	}
	ready()
	if _, err := io.Copy(io.Discard, os.NewFile(3, "go")); err != nil {
		return err
	}
	if j.Role == "mpmc-write" {
		base := uint64(j.Warm) << mpmcShift
		for i := range uint64(j.N) {
			if err := send(base | i); err != nil {
				return err
			}
		}
		done()
		return nil
	}
	next := map[uint64]uint64{} // each writer's next sequence number, at least
	var count, sum uint64
	for {
		v, err := recv()
		if err != nil {
			return err
		}
		if v == mpmcStop {
			break
		}
		w, seq := v>>mpmcShift, v&(1<<mpmcShift-1)
		if seq < next[w] {
			return fmt.Errorf("writer %d's item %d came after its item %d", w, seq, next[w]-1)
		}
		next[w] = seq + 1
		count++
		sum += v
	}
	fmt.Println("done", strconv.FormatUint(count, 10), strconv.FormatUint(sum, 10))
	return nil
}
