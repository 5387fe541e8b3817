package natsbridge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sharedcbuff/scb"
)

// PosHeader is the header that carries an item's position in its buffer
// (scb.Lease.Pos: its number among the items ever written to it).
const PosHeader = "Scb-Pos"

// DefaultBatch is how many items Out and In move per flush when their
// Batch is zero.
const DefaultBatch = 256

// Out forwards the items of a buffer to a NATS subject. Set the fields,
// then call Run.
type Out struct {
	Reader  *scb.Reader // the buffer's reader: a Queue buffer's for leases (see the package documentation)
	Conn    *nats.Conn
	Subject string
	// JetStream publishes to a stream that captures Subject, each item
	// with its message id, and acknowledges an item in scb only after
	// JetStream's ack. False publishes to core NATS.
	JetStream bool
	// Batch is how many items are taken before one flush (core NATS) or
	// one wait for acks (JetStream): DefaultBatch if zero; at most the
	// buffer's Length.
	Batch int
	// AckTimeout bounds the wait for the server's flush or JetStream's
	// acks, after which the batch's items are given back to the buffer
	// and sent again: 5 s if zero.
	AckTimeout time.Duration
	// AtMostOnce reads a Queue buffer with plain batch reads instead of
	// leases, for core NATS only: a bridge that dies loses what it read
	// and had not sent (at most one batch, counted by nobody), and in
	// exchange forwards at about the rate of NATS's own publisher (leases
	// cost two atomic steps per item). Stats.Lost counts what the server
	// did not take.
	AtMostOnce bool
	// Positions adds the header Scb-Pos, the item's position, to every
	// message sent to core NATS (JetStream's always carry it). A message
	// with headers costs the client and the server several times one
	// without: leave it off when the far side does not need it.
	Positions bool
	// IDPrefix begins every message id, which ends with the item's
	// position. If empty: the buffer's name and its creation time (from
	// scb.Stat in Dir), so that a buffer made again under the same name,
	// or one of the same name on another host, does not reuse ids within
	// JetStream's duplicate window.
	IDPrefix string
	// Dir is the buffer's directory (scb.Options.Dir), where Run asks
	// scb.Stat for the creation time of the default IDPrefix.
	Dir string
	// Stats counts what Run did; read it while Run runs.
	Stats Stats

	backoff time.Duration // the pause after a batch that failed, doubling while they fail
}

// Run forwards items until ctx is done, the stream ends (io.EOF: it
// returns nil), or an error that retrying cannot mend (the buffer closed
// or removed, every writer gone for the reader's grace). A batch whose
// publishes fail (the connection is down, JetStream does not answer) is
// given back to the buffer and taken again, after a pause, until it goes
// through. When ctx is done it finishes the batch in flight (waiting for
// the server at most AckTimeout) and returns nil.
func (o *Out) Run(ctx context.Context) error {
	if o.Reader == nil || o.Conn == nil || o.Subject == "" {
		return errors.New("natsbridge: Out needs a Reader, a Conn and a Subject")
	}
	o.Batch = cmp.Or(o.Batch, DefaultBatch)
	o.Batch = max(1, min(o.Batch, o.Reader.Cap()))
	o.AckTimeout = cmp.Or(o.AckTimeout, 5*time.Second)
	if o.IDPrefix == "" {
		o.IDPrefix = o.Reader.Name()
		if info, err := scb.Stat(o.Reader.Name(), &scb.Options{Dir: o.Dir}); err == nil {
			o.IDPrefix += "." + strconv.FormatInt(info.Created.UnixNano(), 36)
		}
	}
	if o.AtMostOnce {
		if o.JetStream {
			return errors.New("natsbridge: AtMostOnce is for core NATS: JetStream's guarantee needs leases")
		}
		return o.runPlain(ctx)
	}
	var js jetstream.JetStream
	if o.JetStream {
		var err error
		// Publishes whose acks never come (no stream captures the
		// subject, say) time out: the batch is given back and sent again.
		if js, err = jetstream.New(o.Conn, jetstream.WithPublishAsyncMaxPending(2*o.Batch),
			jetstream.WithPublishAsyncTimeout(o.AckTimeout)); err != nil {
			return fmt.Errorf("natsbridge: %w", err)
		}
	}
	// Two batches: to core NATS, the next batch is taken and published
	// while the server answers the last one's flush, whose leases are
	// settled once it has (a flush waits for the server to handle every
	// message before it: waiting for it before taking more would leave
	// the bridge and the server each idle half the time).
	bs := [2]*outBatch{newOutBatch(o.Batch, o.Reader.ItemSize()), newOutBatch(o.Batch, o.Reader.ItemSize())}
	var pending *outBatch
	var flushed chan int
	settlePending := func() error {
		if pending == nil {
			return nil
		}
		err := o.settle(ctx, pending, <-flushed)
		pending = nil
		return err
	}
	for k := 0; ; k++ {
		if ctx.Err() != nil {
			return settlePending()
		}
		b := bs[k%2]
		b.reset()
		n, l, err := o.Reader.TakeBytes(b.next())
		if err == scb.ErrEmpty {
			// Nothing to take now: settle the last batch before waiting.
			if err := settlePending(); err != nil {
				return err
			}
			n, l, err = o.Reader.TakeBytesWait(ctx, b.next())
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), ctx.Err() != nil:
			return settlePending()
		case errors.Is(err, scb.ErrUnsupported) && o.JetStream:
			return fmt.Errorf("natsbridge: JetStream's guarantee needs leases, which this buffer has not (a Queue buffer has): %w", err)
		case errors.Is(err, scb.ErrUnsupported):
			return o.runPlain(ctx) // a Broadcast buffer: no leases
		default:
			settlePending()
			return fmt.Errorf("natsbridge: %w", err)
		}
		b.add(n, l)
		for b.len() < o.Batch {
			n, l, err := o.Reader.TakeBytes(b.next())
			if err != nil {
				if err == scb.ErrEmpty || errors.Is(err, io.EOF) {
					break
				}
				b.giveBack()
				settlePending()
				return fmt.Errorf("natsbridge: %w", err)
			}
			b.add(n, l)
		}
		for _, l := range b.leases {
			if l.Deliveries() > 1 {
				o.Stats.Resent.Add(1)
			}
		}
		if js != nil {
			if err := o.settle(ctx, b, o.sendJetStream(js, b)); err != nil {
				return err
			}
			continue
		}
		reconnects := o.Conn.Stats().Reconnects
		ok := o.publishCore(b)
		if err := settlePending(); err != nil {
			b.giveBack()
			return err
		}
		pending, flushed = b, o.flush(b, ok, reconnects)
	}
}

// settle ends batch b, whose first sent items the server has: their
// leases are acknowledged, the others' given back to be sent again.
func (o *Out) settle(ctx context.Context, b *outBatch, sent int) error {
	if err := b.settle(sent); err != nil {
		return fmt.Errorf("natsbridge: %w", err)
	}
	o.Stats.Items.Add(uint64(sent))
	o.Stats.Batches.Add(1)
	if sent < b.len() {
		// The server is away, or the connection was replaced: pause,
		// longer after each failure in a row, so as not to spin on a
		// server that is down, nor to wait long after a mere reconnect.
		o.Stats.Failed.Add(uint64(b.len() - sent))
		o.backoff = min(max(2*o.backoff, time.Millisecond), 100*time.Millisecond)
		pause(ctx, o.backoff)
	} else {
		o.backoff = 0
	}
	return nil
}

// msg returns the message of item i of b.
func (o *Out) msg(b *outBatch, i int) *nats.Msg {
	m := nats.NewMsg(o.Subject)
	m.Data = b.items[i]
	pos := strconv.FormatUint(b.leases[i].Pos(), 10)
	m.Header.Set(PosHeader, pos)
	if o.JetStream {
		m.Header.Set(jetstream.MsgIDHeader, o.IDPrefix+"."+pos)
	}
	return m
}

// publishCore publishes b to core NATS, and reports whether every
// publish was accepted.
func (o *Out) publishCore(b *outBatch) bool {
	for i, data := range b.items {
		var err error
		if o.Positions {
			err = o.Conn.PublishMsg(o.msg(b, i))
		} else {
			err = o.Conn.Publish(o.Subject, data)
		}
		if err != nil {
			return false
		}
	}
	return true
}

// flush flushes the connection in a goroutine of its own and sends on the
// returned channel how many of b's items the server has: once it answers
// the flush, it has every message before it; all of them, or none (ok
// false: a publish failed; or the connection was replaced since the batch
// began, reconnects being its count then: a reconnect drops what the
// client had not written, and the flush is answered on the new one).
func (o *Out) flush(b *outBatch, ok bool, reconnects uint64) chan int {
	ch := make(chan int, 1)
	if !ok {
		ch <- 0
		return ch
	}
	go func() {
		if o.Conn.FlushTimeout(o.AckTimeout) != nil || o.Conn.Stats().Reconnects != reconnects {
			ch <- 0
			return
		}
		ch <- b.len()
	}()
	return ch
}

// sendJetStream publishes b to JetStream and waits for the acks, in
// order. It returns how many items, from the first, JetStream stored (or
// found to be duplicates of what it stored): the rest are given back and
// sent again under the same ids.
func (o *Out) sendJetStream(js jetstream.JetStream, b *outBatch) int {
	futures := b.futures[:0]
	for i := range b.items {
		f, err := js.PublishMsgAsync(o.msg(b, i))
		if err != nil {
			break
		}
		futures = append(futures, f)
	}
	timeout := time.NewTimer(o.AckTimeout)
	defer timeout.Stop()
	sent := 0
	for _, f := range futures {
		select {
		case <-f.Ok():
			sent++
			continue
		case <-f.Err():
		case <-timeout.C:
		}
		break
	}
	b.futures = futures[:0]
	return sent
}

// runPlain forwards with plain batch reads (a Broadcast buffer, which has
// no leases, or AtMostOnce): an item read by a bridge that dies before the
// server has it is lost, at most what the client buffered per death.
// Overruns of a Broadcast reader are counted in Stats.Lost. It flushes
// only when it finds nothing to read, and when it stops: as fast as the
// client publishes.
func (o *Out) runPlain(ctx context.Context) error {
	size := o.Reader.ItemSize()
	slab := make([]byte, o.Batch*size)
	bufs := make([][]byte, o.Batch)
	flush := func() {
		if o.Conn.FlushTimeout(o.AckTimeout) != nil {
			o.Stats.Failed.Add(1)
		}
	}
	defer flush()
	for ctx.Err() == nil {
		for i := range bufs {
			bufs[i] = slab[i*size : (i+1)*size : (i+1)*size] // reads size by capacity
		}
		n, err := o.Reader.PopBytesInto(bufs)
		if err == scb.ErrEmpty {
			flush() // nothing to read now: send what the client holds
			n, err = o.Reader.PopBytesIntoWait(ctx, bufs)
		}
		var over *scb.OverrunError
		switch {
		case err == nil:
		case errors.As(err, &over):
			o.Stats.Lost.Add(over.Lost) // and the items read before it go on
		case errors.Is(err, io.EOF), ctx.Err() != nil:
			if n == 0 {
				return nil
			}
		default:
			return fmt.Errorf("natsbridge: %w", err)
		}
		sent := 0
		for _, data := range bufs[:n] {
			if o.Conn.Publish(o.Subject, data) == nil { // which copies data
				sent++
			}
		}
		o.Stats.Items.Add(uint64(sent))
		o.Stats.Batches.Add(1)
		o.Stats.Lost.Add(uint64(n - sent))
	}
	return nil
}

// outBatch is one batch of Out: the items' bytes (copies, in one slab per
// batch, since NATS keeps a message's data until it is written) and their
// leases.
type outBatch struct {
	slab    []byte
	size    int
	items   [][]byte
	leases  []scb.Lease
	futures []jetstream.PubAckFuture
}

func newOutBatch(n, itemSize int) *outBatch {
	return &outBatch{
		slab:   make([]byte, 0, n*itemSize),
		size:   itemSize,
		items:  make([][]byte, 0, n),
		leases: make([]scb.Lease, 0, n),
	}
}

func (b *outBatch) len() int { return len(b.items) }

// reset starts a batch. The slab of the last one is left to the messages
// that may still hold it, and a new one is made.
func (b *outBatch) reset() {
	if len(b.slab) > 0 {
		b.slab = make([]byte, 0, cap(b.slab))
	}
	b.items, b.leases = b.items[:0], b.leases[:0]
}

// next returns the room for the next item.
func (b *outBatch) next() []byte {
	return b.slab[len(b.slab) : len(b.slab)+b.size]
}

// add records the item of n bytes just read into next, with its lease.
func (b *outBatch) add(n int, l scb.Lease) {
	start := len(b.slab)
	b.slab = b.slab[:start+n]
	b.items = append(b.items, b.slab[start:start+n:start+n])
	b.leases = append(b.leases, l)
}

// settle acknowledges the first sent items' leases and gives the others
// back, and returns the first error.
func (b *outBatch) settle(sent int) error {
	var first error
	for i, l := range b.leases {
		var err error
		if i < sent {
			err = l.Ack()
		} else {
			err = l.GiveBack()
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// giveBack gives back every lease of the batch.
func (b *outBatch) giveBack() { b.settle(0) }

// pause waits d, or until ctx is done.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
