//go:build unix

package bench

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"
)

// streamPair returns two connected files: a pipe (write end first) for
// Pipe, or both ends of a SOCK_SEQPACKET pair for Socket.
func streamPair(via Via) (parent, child *os.File, err error) {
	if via == Socket {
		return seqpacketPair()
	}
	r, w, err := os.Pipe()
	return w, r, err
}

// readMsg reads one message of len(buf) bytes: one read for a socket, as
// many as it takes for a pipe (which is a byte stream).
func readMsg(f *os.File, buf []byte) error {
	_, err := io.ReadFull(f, buf)
	return err
}

func streamThroughput(via Via, s Shape, n int) (time.Duration, error) {
	if err := haveStream(via); err != nil {
		return 0, err
	}
	w, r, err := streamPair(via)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	wn := warmUp(n)
	p, err := start(job{Role: "consume", Via: string(via), N: n, Warm: wn, Shape: s}, r)
	r.Close()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, s.Size)
	var t0 instant
	for i := range uint64(wn + n) {
		if i == uint64(wn) {
			if err := p.expect("warm"); err != nil {
				p.kill()
				return 0, err
			}
			t0 = now()
		}
		binary.LittleEndian.PutUint64(buf, i)
		if _, err := w.Write(buf); err != nil {
			p.kill()
			return 0, err
		}
	}
	if err := p.finish(); err != nil {
		return 0, err
	}
	return since(t0), nil
}

func streamRoundTrip(via Via, n int) ([]time.Duration, error) {
	if err := haveStream(via); err != nil {
		return nil, err
	}
	// A socket pair is two-way; pipes need one each way.
	out, childIn, err := streamPair(via)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	in := out
	files := []*os.File{childIn}
	if via == Pipe {
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		defer pr.Close()
		in = pr
		files = append(files, pw)
	}
	wn := warmUp(n)
	p, err := start(job{Role: "echo", Via: string(via), N: n, Warm: wn}, files...)
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 8)
	rtts := make([]time.Duration, wn+n)
	for i := range uint64(wn + n) {
		t0 := now()
		binary.LittleEndian.PutUint64(buf, i)
		if _, err := out.Write(buf); err != nil {
			p.kill()
			return nil, err
		}
		if err := readMsg(in, buf); err != nil {
			p.kill()
			return nil, err
		}
		rtts[i] = since(t0)
		if got := binary.LittleEndian.Uint64(buf); got != i {
			p.kill()
			return nil, fmt.Errorf("round trip %d came back as %d", i, got)
		}
	}
	return rtts[wn:], p.finish()
}

// streamChild is the far end of a pipe or socket measurement: descriptor
// 3 is its input, and for an echo over pipes 4 is its output.
func streamChild(j job) error {
	in := os.NewFile(3, "in")
	out := in
	if j.Role == "echo" && Via(j.Via) == Pipe {
		out = os.NewFile(4, "out")
	}
	size := j.Shape.Size
	if j.Role == "echo" {
		size = 8
	}
	buf := make([]byte, size)
	ready()
	for i := range uint64(j.Warm + j.N) {
		if i == uint64(j.Warm) && j.Role == "consume" {
			warm()
		}
		if err := readMsg(in, buf); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		if got := binary.LittleEndian.Uint64(buf); got != i {
			return fmt.Errorf("message %d has number %d", i, got)
		}
		if j.Role == "echo" {
			if _, err := out.Write(buf); err != nil {
				return err
			}
		}
	}
	done()
	return nil
}

// mpmcStream returns the ends that the writers and the readers of an MPMC
// measurement share: a pipe's, or a SOCK_SEQPACKET pair's.
func mpmcStream(via Via) (w, r *os.File, err error) {
	if err := haveStream(via); err != nil {
		return nil, nil, err
	}
	return streamPair(via)
}
