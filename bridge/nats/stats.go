package natsbridge

import (
	"fmt"
	"sync/atomic"
)

// Stats counts what a bridge did. Its fields are safe to read while the
// bridge runs.
type Stats struct {
	Items   atomic.Uint64 // items forwarded: acknowledged by the far side (Out) or pushed into the ring (In)
	Batches atomic.Uint64 // flushes (Out) or pushes (In)
	// Resent counts items forwarded again: Out's items taken a second time
	// (a bridge died or a publish failed first), In's messages JetStream
	// delivered again.
	Resent atomic.Uint64
	// Failed counts what failed and is tried again: Out's items whose
	// publish or flush failed (given back), and fetches, acks and flushes
	// that failed.
	Failed atomic.Uint64
	// Skipped counts JetStream messages In found in the ring already
	// (pushed by a bridge that died before its ack): acknowledged, not
	// pushed again.
	Skipped atomic.Uint64
	// Lost counts items lost for good: Out's Broadcast items overwritten
	// before it read them or not published; In's core NATS messages the
	// server or the client dropped because the bridge fell behind.
	Lost     atomic.Uint64
	Rejected atomic.Uint64 // In: messages larger than the buffer's item size, acknowledged and not pushed
}

// String returns the counts on one line.
func (s *Stats) String() string {
	return fmt.Sprintf("items %d, batches %d, resent %d, failed %d, skipped %d, lost %d, rejected %d",
		s.Items.Load(), s.Batches.Load(), s.Resent.Load(), s.Failed.Load(), s.Skipped.Load(), s.Lost.Load(), s.Rejected.Load())
}
