// Logpipe passes JSON log records from one program to another, one record
// per byte item of a shared buffer called "logs".
//
// The producer creates the buffer, or opens it if it exists
// (scb.CreateOrOpen), writes its records and ends the stream
// (Writer.CloseWrite). The consumer waits for the buffer to appear
// (scb.OpenReaderWait), so it may start first or second; it ranges over
// Reader.Items, decodes each record, stops at the end of the stream and
// removes the buffer. No end marker, no retry loop.
//
// Run both as child processes, in a temporary directory:
//
//	go run ./examples/logpipe
//
// or each in its own terminal, in any order (the buffer lives in
// scb.DefaultDir() unless -dir says otherwise):
//
//	go run ./examples/logpipe consumer
//	go run ./examples/logpipe -n 20 producer
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"time"

	"github.com/sharedcbuff/scb"
)

// Record is one log line.
type Record struct {
	Time  time.Time `json:"time"`
	Level string    `json:"level"`
	Msg   string    `json:"msg"`
}

func main() {
	dir := flag.String("dir", "", "directory of the buffer (default scb.DefaultDir())")
	n := flag.Int("n", 5, "records the producer writes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := &scb.Options{Dir: *dir, ItemSize: 512} // a record may be up to 512 bytes of JSON
	var err error
	switch flag.Arg(0) {
	case "producer":
		err = produce(ctx, opts, *n)
	case "consumer":
		err = consume(ctx, opts)
	case "":
		err = runBoth(*dir, *n)
	default:
		err = fmt.Errorf("unknown role %q: want producer or consumer", flag.Arg(0))
	}
	if err != nil {
		log.Fatal(err)
	}
}

func produce(ctx context.Context, opts *scb.Options, n int) error {
	w, err := scb.CreateOrOpen("logs", opts)
	if err != nil {
		return err
	}
	defer w.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		rec := Record{Time: start.Add(time.Duration(i) * time.Second), Level: "info", Msg: fmt.Sprintf("request %d served", i)}
		if i%4 == 3 {
			rec.Level = "warn"
		}
		line, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := w.PushBytesWait(ctx, line); err != nil { // waits while the buffer is full
			return err
		}
	}
	fmt.Printf("producer: wrote %d records\n", n)
	return w.CloseWrite() // the consumer reads the rest, then its loop ends
}

func consume(ctx context.Context, opts *scb.Options) error {
	r, err := scb.OpenReaderWait(ctx, "logs", opts) // waits for the producer to create it
	if err != nil {
		return err
	}
	defer r.Close()
	count := 0
	for item, err := range r.Items(ctx, nil) { // item is valid until the next iteration
		if err != nil {
			return err
		}
		var rec Record
		if err := json.Unmarshal(item, &rec); err != nil {
			return err
		}
		fmt.Printf("%s %-4s %s\n", rec.Time.Format(time.TimeOnly), rec.Level, rec.Msg)
		count++
	}
	fmt.Printf("consumer: decoded %d records\n", count)
	r.Close()
	return scb.Remove("logs", opts) // the stream has ended: nobody needs the buffer any more
}

// runBoth runs a consumer and then a producer as child processes, in a new
// temporary directory unless dir is set, and prints what each printed.
func runBoth(dir string, n int) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "logpipe-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var outs [2]bytes.Buffer
	var cmds [2]*exec.Cmd
	for i, role := range []string{"consumer", "producer"} {
		cmds[i] = exec.Command(self, "-dir", dir, "-n", strconv.Itoa(n), role)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], os.Stderr
		if err := cmds[i].Start(); err != nil {
			return err
		}
	}
	for _, i := range []int{1, 0} { // the producer's report first
		if err := cmds[i].Wait(); err != nil {
			return fmt.Errorf("%s: %w", cmds[i].Args[len(cmds[i].Args)-1], err)
		}
		os.Stdout.Write(outs[i].Bytes())
	}
	return nil
}
