// Command scb-nats bridges scb buffers and NATS:
//
//	scb-nats out NAME SUBJECT [flags]   forward the buffer NAME to SUBJECT
//	scb-nats in SUBJECT NAME [flags]    forward SUBJECT into the buffer NAME
//
// With --jetstream, out publishes to the stream --stream (made if it does
// not exist, capturing SUBJECT), each item with its position as the
// message id, and acknowledges an item in the buffer only after
// JetStream's ack; in fetches from the durable consumer --consumer of
// that stream (made if it does not exist) and acknowledges a batch only
// once it is in the ring, with a journal beside the buffer so that a
// bridge killed in between does not push it twice. Without it, both use
// core NATS. It stops cleanly on SIGINT and SIGTERM; --stats prints the
// counts every second on standard error, and at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sharedcbuff/scb"
	natsbridge "github.com/sharedcbuff/scb/bridge/nats"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "scb-nats:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `Usage:
  scb-nats out NAME SUBJECT [flags]   forward the buffer NAME to SUBJECT
  scb-nats in SUBJECT NAME [flags]    forward SUBJECT into the buffer NAME

Flags:
`

// run runs the command line args, writing counts to errw.
func run(ctx context.Context, args []string, errw io.Writer) error {
	fs := flag.NewFlagSet("scb-nats", flag.ContinueOnError)
	fs.SetOutput(errw)
	fs.Usage = func() { fmt.Fprint(errw, usage); fs.PrintDefaults() }
	var (
		dir      = fs.String("dir", "", "the buffers' directory (default: scb's)")
		server   = fs.String("server", nats.DefaultURL, "the NATS server's URL")
		js       = fs.Bool("jetstream", false, "use JetStream: nothing lost, nothing duplicated, across crashes")
		stream   = fs.String("stream", "SCB", "--jetstream: the stream (made if missing; SUBJECT is added to its subjects)")
		consumer = fs.String("consumer", "scb-nats", "--jetstream, in: the durable pull consumer (made if missing)")
		ackWait  = fs.Duration("ack-wait", 5*time.Second, "--jetstream, in: how long JetStream waits for a dead bridge's acks before it delivers again")
		journal  = fs.String("journal", "", "--jetstream, in: the journal file (default: DIR/NAME.STREAM.CONSUMER.nats-journal)")
		batch    = fs.Int("batch", natsbridge.DefaultBatch, "items per flush")
		amo      = fs.Bool("at-most-once", false, "out, core NATS: plain reads instead of leases (a bridge that dies loses what it read and had not sent; faster)")
		posHdr   = fs.Bool("positions", false, "out, core NATS: add the header Scb-Pos (JetStream messages always carry it)")
		stats    = fs.Bool("stats", false, "print the counts every second on standard error, and at the end")
	)
	if len(args) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: out or in", errUsage)
	}
	dirn, args := args[0], args[1:]
	pos := make([]string, 0, 2)
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) > 0 {
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	if len(pos) != 2 || dirn != "out" && dirn != "in" {
		fs.Usage()
		return fmt.Errorf("%w: scb-nats out NAME SUBJECT, or scb-nats in SUBJECT NAME", errUsage)
	}
	name, subject := pos[0], pos[1]
	if dirn == "in" {
		subject, name = pos[0], pos[1]
	}
	if strings.ContainsAny(subject, " \t\r\n") || subject == "" {
		fs.Usage()
		return fmt.Errorf("%w: invalid subject %q", errUsage, subject)
	}
	opts := &scb.Options{Dir: *dir}
	// The subject is checked here, once, not on every message.
	nc, err := nats.Connect(*server, nats.Name("scb-nats "+dirn+" "+name), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond), nats.SkipSubjectValidation())
	if err != nil {
		return fmt.Errorf("connect to %s: %w", *server, err)
	}
	defer nc.Close()
	var jsx jetstream.JetStream
	if *js {
		if jsx, err = jetstream.New(nc); err != nil {
			return err
		}
		if err := ensureStream(ctx, jsx, *stream, subject); err != nil {
			return fmt.Errorf("stream %s: %w", *stream, err)
		}
	}
	var st *natsbridge.Stats
	var runBridge func(context.Context) error
	switch dirn {
	case "out":
		r, err := scb.OpenReaderWait(ctx, name, opts)
		if err != nil {
			return err
		}
		defer r.Close()
		o := &natsbridge.Out{Reader: r, Conn: nc, Subject: subject, JetStream: *js, Batch: *batch, AtMostOnce: *amo, Positions: *posHdr, Dir: *dir}
		st, runBridge = &o.Stats, o.Run
	case "in":
		w, err := scb.OpenWriterWait(ctx, name, opts)
		if err != nil {
			return err
		}
		defer w.Close()
		in := &natsbridge.In{Writer: w, Conn: nc, Subject: subject, Batch: *batch, Dir: *dir}
		if *js {
			c, err := jsx.CreateOrUpdateConsumer(ctx, *stream, natsbridge.ConsumerConfig(*consumer, *ackWait))
			if err != nil {
				return fmt.Errorf("consumer %s: %w", *consumer, err)
			}
			in.Consumer = c
			in.Journal = *journal
			if in.Journal == "" {
				// One journal per buffer, stream and consumer: another
				// stream's sequences are not these.
				in.Journal = filepath.Join(cmpOr(*dir, scb.DefaultDir()), name+"."+*stream+"."+*consumer+".nats-journal")
			}
		}
		st, runBridge = &in.Stats, in.Run
	}
	fmt.Fprintln(os.Stdout, "ready")
	stopStats := func() {}
	if *stats {
		done, finished := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(finished)
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					fmt.Fprintln(errw, st)
				}
			}
		}()
		stopStats = func() { close(done); <-finished }
	}
	err = runBridge(ctx)
	stopStats()
	if *stats {
		fmt.Fprintln(errw, st)
	}
	return err
}

// ensureStream makes the stream name capturing subject if it does not
// exist, and adds subject to the subjects of one that does (keeping the
// rest of its configuration).
func ensureStream(ctx context.Context, js jetstream.JetStream, name, subject string) error {
	st, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}})
		return err
	}
	if err != nil {
		return err
	}
	cfg := st.CachedInfo().Config
	if slices.Contains(cfg.Subjects, subject) {
		return nil
	}
	cfg.Subjects = append(cfg.Subjects, subject)
	_, err = js.UpdateStream(ctx, cfg)
	return err
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
