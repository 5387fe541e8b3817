// Sensors fans sensor readings out to three subscriber processes through a
// Broadcast buffer called "sensors": every subscriber sees every reading.
//
// A reading is a struct of sized numbers, stored as one 26-byte item by
// scb.NewTypedWriter and read back by scb.NewTypedReader: no marshalling
// code, no allocation. The publisher ends the stream when it is done
// (Writer.CloseWrite); each subscriber ranges over TypedReader.Values until
// then and prints how many readings it got and their sum. A Broadcast
// writer never waits: a subscriber that falls more than -length readings
// behind loses the oldest, and its loop yields an *scb.OverrunError
// (matching scb.ErrOverrun) saying how many, then goes on.
//
// Run the publisher here and three subscribers as child processes, in a
// temporary directory:
//
//	go run ./examples/sensors
//	go run ./examples/sensors -length 64 -every 20us -slow 1ms # subscriber 3 falls behind
//
// or each in its own terminal (the buffer lives in scb.DefaultDir() unless
// -dir says otherwise). Subscribers wait for the buffer; with -length at
// least -n even a late one gets every reading. A run's buffer stays until
// the next publisher replaces it (or scb rm sensors), and a subscriber
// started before that reads the last run again.
//
//	go run ./examples/sensors subscriber 1   # and 2, and 3
//	go run ./examples/sensors publisher
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"time"

	"github.com/sharedcbuff/scb"
)

// Reading is one sensor reading: 2+8+8+8 = 26 bytes in the buffer.
type Reading struct {
	Sensor uint16
	Time   int64 // Unix milliseconds
	Value  float64
	Flags  uint64
}

func main() {
	dir := flag.String("dir", "", "directory of the buffer (default scb.DefaultDir())")
	n := flag.Int("n", 1000, "readings to publish")
	length := flag.Int("length", 4096, "slots in the buffer: a subscriber this far behind loses readings")
	every := flag.Duration("every", 0, "time between readings")
	slow := flag.Duration("slow", 0, "how long a subscriber takes per reading (in the all-in-one run: subscriber 3)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := &scb.Options{Dir: *dir, Mode: scb.Broadcast, Length: *length, ItemSize: binary.Size(Reading{})}
	var err error
	switch flag.Arg(0) {
	case "publisher":
		scb.Remove("sensors", opts) // an earlier run's buffer, if any: a new stream
		var w *scb.Writer
		if w, err = scb.Create("sensors", opts); err == nil {
			err = publish(ctx, w, *n, *every)
		}
	case "subscriber":
		err = subscribe(ctx, &scb.Options{Dir: *dir}, flag.Arg(1), *slow)
	case "":
		err = runAll(ctx, opts, *n, *every, *slow)
	default:
		err = fmt.Errorf("unknown role %q: want publisher or subscriber", flag.Arg(0))
	}
	if err != nil {
		log.Fatal(err)
	}
}

func publish(ctx context.Context, w *scb.Writer, n int, every time.Duration) error {
	defer w.Close()
	tw, err := scb.NewTypedWriter[Reading](w)
	if err != nil {
		return err
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range n {
		if ctx.Err() != nil { // interrupted: end the stream here
			n = i
			break
		}
		if err := tw.Push(Reading{Sensor: uint16(i % 4), Time: t0 + int64(i), Value: float64(i) / 2}); err != nil {
			return err // a Broadcast push never waits: it overwrites the oldest reading
		}
		time.Sleep(every)
	}
	fmt.Printf("publisher: %d readings\n", n)
	return w.CloseWrite()
}

func subscribe(ctx context.Context, opts *scb.Options, id string, slow time.Duration) error {
	r, err := scb.OpenReaderWait(ctx, "sensors", opts) // waits for the publisher to create it
	if err != nil {
		return err
	}
	defer r.Close()
	tr, err := scb.NewTypedReader[Reading](r)
	if err != nil {
		return err
	}
	fmt.Printf("subscriber %s: subscribed\n", id)
	var got, overruns int
	var sum float64
	var lost uint64
	for rd, err := range tr.Values(ctx) {
		var over *scb.OverrunError
		if errors.As(err, &over) {
			overruns++
			lost += over.Lost
			continue // the loop goes on with the oldest reading still held
		}
		if err != nil {
			return err
		}
		got++
		sum += rd.Value
		time.Sleep(slow)
	}
	fmt.Printf("subscriber %s: %d readings, sum %g, %d lost in %d overruns\n", id, got, sum, lost, overruns)
	return nil
}

// runAll creates the buffer in a new temporary directory, starts three
// subscriber processes, waits until each has subscribed, publishes, and
// prints what the subscribers printed, in order.
func runAll(ctx context.Context, opts *scb.Options, n int, every, slow time.Duration) error {
	dir, err := os.MkdirTemp(opts.Dir, "sensors-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	o := *opts
	o.Dir = dir
	w, err := scb.Create("sensors", &o)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var subs []*exec.Cmd
	var outs []*bufio.Reader
	for id := 1; id <= 3; id++ {
		var s time.Duration
		if id == 3 {
			s = slow
		}
		cmd := exec.Command(self, "-dir", dir, "-slow", s.String(), "subscriber", fmt.Sprint(id))
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		subs, outs = append(subs, cmd), append(outs, bufio.NewReader(out))
		if _, err := outs[len(outs)-1].ReadString('\n'); err != nil { // "subscribed"
			return fmt.Errorf("subscriber %d: %w", id, err)
		}
	}
	if err := publish(ctx, w, n, every); err != nil {
		return err
	}
	for i, cmd := range subs {
		io.Copy(os.Stdout, outs[i])
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("subscriber %d: %w", i+1, err)
		}
	}
	return nil
}
