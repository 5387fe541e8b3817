package natsbridge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sharedcbuff/scb"
)

// In forwards NATS messages into a buffer, a message's data as one item.
// Set the fields, then call Run.
type In struct {
	Writer *scb.Writer
	Conn   *nats.Conn
	// Subject is the core NATS subject to subscribe to, when Consumer is
	// nil.
	Subject string
	// Consumer is a JetStream durable pull consumer to fetch from, with
	// AckExplicitPolicy: see ConsumerConfig.
	Consumer jetstream.Consumer
	// Journal is the path of In's journal (JetStream only; see the
	// package documentation). Empty: no journal, and a bridge killed
	// between a push and its ack pushes that batch again when JetStream
	// delivers it again (at least once). With a journal, and In the
	// buffer's only writer, every message is in the ring once.
	Journal string
	// Dir is the buffer's directory (scb.Options.Dir), where Run asks
	// scb.Stat whether the items have one size and, for the journal's
	// recovery, how many were written.
	Dir string
	// Batch is how many messages are fetched and pushed at once:
	// DefaultBatch if zero.
	Batch int
	// AckTimeout bounds the wait for JetStream to confirm an ack: 5 s if
	// zero.
	AckTimeout time.Duration
	// Stats counts what Run did; read it while Run runs.
	Stats Stats

	fixed bool // the buffer's items all have its item size
}

// fits reports whether data can be an item of the buffer: at most its
// item size, and exactly that if its items have one size. A message that
// cannot is rejected (acknowledged and counted, not pushed): pushing it
// would fail, and stop the bridge on every delivery.
func (in *In) fits(data []byte) bool {
	if in.fixed {
		return len(data) == in.Writer.ItemSize()
	}
	return len(data) <= in.Writer.ItemSize()
}

// ConsumerConfig returns the configuration of a durable pull consumer
// named durable that In can fetch from: every message of the stream, each
// acknowledged (AckExplicitPolicy), redelivered ackWait after a bridge
// died holding it.
func ConsumerConfig(durable string, ackWait time.Duration) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       durable,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: -1,
	}
}

// Run forwards messages until ctx is done, or an error that retrying
// cannot mend (the buffer closed or removed, every reader of a Queue
// buffer gone for the writer's grace, a damaged journal). It pushes with
// the waiting calls, so a full ring holds the next fetch back. When ctx is
// done it pushes what it has fetched, as far as the ring has room, and
// acknowledges what it pushed, then returns nil.
func (in *In) Run(ctx context.Context) error {
	if in.Writer == nil || in.Conn == nil || in.Subject == "" && in.Consumer == nil {
		return errors.New("natsbridge: In needs a Writer, a Conn, and a Subject or a Consumer")
	}
	in.Batch = max(1, min(cmp.Or(in.Batch, DefaultBatch), maxJournal))
	in.AckTimeout = cmp.Or(in.AckTimeout, 5*time.Second)
	info, err := scb.Stat(in.Writer.Name(), &scb.Options{Dir: in.Dir})
	if err != nil {
		return fmt.Errorf("natsbridge: %w (is In.Dir the buffer's directory?)", err)
	}
	in.fixed = info.FixedSize
	if in.Consumer != nil {
		return in.runJetStream(ctx, info.Written)
	}
	return in.runCore(ctx)
}

// runJetStream fetches batches from the consumer, pushes each into the
// ring, and acknowledges the messages pushed once they are in, waiting
// for JetStream to confirm before the next batch.
func (in *In) runJetStream(ctx context.Context, written uint64) error {
	if p := in.Consumer.CachedInfo().Config.AckPolicy; p != jetstream.AckExplicitPolicy {
		return fmt.Errorf("natsbridge: the consumer acknowledges with %v, In needs AckExplicitPolicy (ConsumerConfig)", p)
	}
	// inRing holds the messages of the journal's batch that reached the
	// ring under a bridge that died; written is the buffer's count of
	// items written, from Run's Stat, then counted here (with a journal
	// the bridge is the only writer).
	var inRing map[uint64]bool
	if in.Journal != "" {
		j, err := readJournal(in.Journal)
		if err != nil {
			return err
		}
		inRing = j.inRing(written)
		in.pruneAcked(ctx, inRing)
	}
	// recent holds what this bridge pushed lately: JetStream delivers a
	// message again when its ack is late (a push that waited for room
	// longer than the consumer's AckWait), and the copy must not be pushed.
	recent := newSeqSet(recentSeqs)
	// A fetch waits for a full batch at most fetchWait, less than AckWait:
	// a message whose AckWait passes while the fetch waits comes again in
	// the same batch (which keeps one copy, the newer, anyway).
	fetchWait := time.Second
	if aw := in.Consumer.CachedInfo().Config.AckWait; aw > 0 {
		fetchWait = min(fetchWait, aw/2)
	}
	batchIndex := map[uint64]int{}
	var (
		msgs, keep, settled []jetstream.Msg
		items               [][]byte
		seqs, skip          []uint64
	)
	for ctx.Err() == nil {
		mb, err := in.Consumer.Fetch(in.Batch, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			in.Stats.Failed.Add(1)
			pause(ctx, 100*time.Millisecond)
			continue
		}
		msgs = msgs[:0]
		for m := range mb.Messages() {
			msgs = append(msgs, m)
		}
		if err := mb.Error(); err != nil && len(msgs) == 0 {
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				return fmt.Errorf("natsbridge: %w", err)
			}
			if !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
				in.Stats.Failed.Add(1)
				pause(ctx, 100*time.Millisecond)
			}
			continue
		}
		keep, settled, items, seqs = keep[:0], settled[:0], items[:0], seqs[:0]
		clear(batchIndex)
		for _, m := range msgs {
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("natsbridge: a message without JetStream metadata: %w", err)
			}
			if md.NumDelivered > 1 {
				in.Stats.Resent.Add(1)
			}
			seq := md.Sequence.Stream
			if i, ok := batchIndex[seq]; ok {
				keep[i] = m // a copy delivered again into this batch: ack the newer
				continue
			}
			switch {
			case inRing[seq], md.NumDelivered > 1 && recent.has(seq):
				in.Stats.Skipped.Add(1)
				settled = append(settled, m) // and out of inRing once the ack is confirmed
			case !in.fits(m.Data()):
				in.Stats.Rejected.Add(1)
				settled = append(settled, m)
			default:
				batchIndex[seq] = len(keep)
				keep, items, seqs = append(keep, m), append(items, m.Data()), append(seqs, seq)
			}
		}
		if len(items) > 0 && in.Journal != "" {
			if len(inRing) > maxJournal {
				in.pruneAcked(ctx, inRing)
				if len(inRing) > maxJournal {
					return fmt.Errorf("natsbridge: %d messages in the ring whose acks JetStream has not confirmed", len(inRing))
				}
			}
			j := journal{start: written, seqs: seqs, skip: skip[:0]}
			for s := range inRing {
				j.skip = append(j.skip, s)
			}
			skip = j.skip
			if err := j.write(in.Journal); err != nil {
				return err
			}
		}
		var n int
		if len(items) > 0 {
			stop := in.working(keep)
			n, err = in.Writer.PushBytesManyWait(ctx, items)
			stop()
			for _, s := range seqs[:n] {
				recent.add(s)
			}
			written += uint64(n)
			in.Stats.Items.Add(uint64(n))
			in.Stats.Batches.Add(1)
		}
		if aerr := in.ack(append(settled, keep[:n]...)); aerr != nil {
			return aerr
		}
		for _, m := range settled {
			if md, err := m.Metadata(); err == nil {
				delete(inRing, md.Sequence.Stream)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("natsbridge: %w", err)
		}
	}
	return nil
}

// recentSeqs is how many pushed messages In remembers, to skip their
// copies that JetStream delivers again when an ack came late.
const recentSeqs = 1 << 16

// seqSet is a set of the last stream sequences added to it, at most cap.
type seqSet struct {
	in    map[uint64]bool
	order []uint64 // a ring of the members, oldest at next
	next  int
}

func newSeqSet(n int) *seqSet {
	return &seqSet{in: make(map[uint64]bool, n), order: make([]uint64, 0, n)}
}

func (s *seqSet) has(seq uint64) bool { return s.in[seq] }

func (s *seqSet) add(seq uint64) {
	if s.in[seq] {
		return
	}
	if len(s.order) < cap(s.order) {
		s.order = append(s.order, seq)
	} else {
		delete(s.in, s.order[s.next])
		s.order[s.next] = seq
		s.next = (s.next + 1) % len(s.order)
	}
	s.in[seq] = true
}

// working tells JetStream that the messages of ms are being worked on
// (InProgress) every third of the consumer's AckWait, until the returned
// function is called: a push that waits for room does not make JetStream
// deliver them again.
func (in *In) working(ms []jetstream.Msg) (stop func()) {
	every := in.Consumer.CachedInfo().Config.AckWait / 3
	if every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, m := range ms {
					m.InProgress()
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// pruneAcked drops from inRing what JetStream has acknowledged, up to the
// consumer's ack floor: it is never delivered again.
func (in *In) pruneAcked(ctx context.Context, inRing map[uint64]bool) {
	if ci, err := in.Consumer.Info(ctx); err == nil {
		for s := range inRing {
			if s <= ci.AckFloor.Stream {
				delete(inRing, s)
			}
		}
	}
}

// ackBody is JetStream's acknowledgement.
var ackBody = []byte("+ACK")

// ack acknowledges ms and waits until JetStream confirms the last, at most
// AckTimeout a try: acks on one connection are handled in order, so the
// confirmation of the last covers the others, unless the connection was
// replaced in between (a reconnect drops what the client had not written
// yet), and then it acks them all again. It sends the acks itself, to the
// messages' reply subjects: nats.go's Msg.Ack sends one only once, so it
// cannot resend the acks a reconnect lost. After a few tries it gives up,
// and the caller stops: a bridge started again finds in the journal which
// messages are in the ring, and does not push them again when JetStream
// delivers them.
func (in *In) ack(ms []jetstream.Msg) error {
	if len(ms) == 0 {
		return nil
	}
	var err error
	for range 5 {
		reconnects := in.Conn.Stats().Reconnects
		for _, m := range ms[:len(ms)-1] {
			in.Conn.Publish(m.Reply(), ackBody)
		}
		ctx, cancel := context.WithTimeout(context.Background(), in.AckTimeout)
		_, err = in.Conn.RequestWithContext(ctx, ms[len(ms)-1].Reply(), ackBody)
		cancel()
		if err == nil && in.Conn.Stats().Reconnects == reconnects {
			return nil
		}
		if err == nil {
			err = errors.New("the connection was replaced while acking")
		}
		in.Stats.Failed.Add(1)
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("natsbridge: JetStream did not confirm an ack: %w", err)
}

// countDropped adds to Stats.Lost what the client dropped since it last
// looked (*dropped).
func (in *In) countDropped(sub *nats.Subscription, dropped *int) {
	if d, err := sub.Dropped(); err == nil && d > *dropped {
		in.Stats.Lost.Add(uint64(d - *dropped))
		*dropped = d
	}
}

// runCore subscribes to the subject and pushes what arrives, in batches
// of what has arrived. The client keeps what the bridge has not taken yet
// (nats.go's pending limits: 512 Ki messages or 64 MiB by default); what
// it drops beyond them, because the bridge fell behind, is counted in
// Stats.Lost.
func (in *In) runCore(ctx context.Context) error {
	sub, err := in.Conn.SubscribeSync(in.Subject)
	if err != nil {
		return fmt.Errorf("natsbridge: %w", err)
	}
	defer sub.Unsubscribe()
	var dropped int
	items := make([][]byte, 0, in.Batch)
	push := func(ctx context.Context) error {
		n, err := in.Writer.PushBytesManyWait(ctx, items)
		in.Stats.Items.Add(uint64(n))
		in.Stats.Batches.Add(1)
		in.countDropped(sub, &dropped)
		if err != nil && n < len(items) {
			in.Stats.Lost.Add(uint64(len(items) - n))
		}
		return err
	}
	add := func(m *nats.Msg) {
		if !in.fits(m.Data) {
			in.Stats.Rejected.Add(1)
			return
		}
		items = append(items, m.Data)
	}
	for {
		items = items[:0]
		m, err := sub.NextMsgWithContext(ctx)
		if ctx.Err() != nil {
			// Push what the client holds already, for at most
			// AckTimeout; then unsubscribe (deferred).
			for len(items) < maxJournal {
				m, err := sub.NextMsg(0)
				if err != nil {
					break
				}
				add(m)
			}
			if len(items) > 0 {
				drain, cancel := context.WithTimeout(context.Background(), in.AckTimeout)
				push(drain)
				cancel()
			}
			return nil
		}
		if errors.Is(err, nats.ErrSlowConsumer) {
			// The client dropped messages: Dropped counts them (push).
			in.countDropped(sub, &dropped)
			continue
		}
		if err != nil {
			return fmt.Errorf("natsbridge: %w", err)
		}
		add(m)
		for len(items) < in.Batch {
			m, err := sub.NextMsg(0)
			if err != nil {
				break
			}
			add(m)
		}
		if len(items) == 0 {
			continue
		}
		if err := push(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("natsbridge: %w", err)
		}
	}
}
