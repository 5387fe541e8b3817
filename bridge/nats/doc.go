// Package natsbridge forwards items between scb buffers and NATS, for a
// program whose readers or writers live on other hosts: a local ring,
// and a gateway to a broker. It is a module of its own
// (github.com/sharedcbuff/scb/bridge/nats), so that scb itself does not
// depend on NATS; the command scb-nats, in cmd/scb-nats, runs it.
//
// [Out] forwards a buffer to a subject:
//
//   - to core NATS (fire and forget): items are taken from a Queue buffer
//     under leases and acknowledged in scb once the server has them (a
//     flush), so a bridge that dies loses nothing it took: its items go to
//     the next bridge, which may send them again. NATS itself may drop
//     what it cannot deliver (a slow subscriber); that is core NATS.
//   - to JetStream: each item is published with its position as the
//     message id (Nats-Msg-Id), and acknowledged in scb only after
//     JetStream's ack. A bridge killed at any point leaves its items to
//     the next one, which publishes them again with the same ids, and
//     JetStream's duplicate window drops the copies: every item is stored
//     once, provided the copy comes within that window (two minutes by
//     default) of the first: a bridge that comes back, or one that waited
//     through a JetStream outage, later than that may store an item twice.
//
// A Broadcast buffer has no leases: Out reads it with plain reads (to
// core NATS only), and an item read by a bridge that dies before sending
// it is lost, as are the items the client had not written when its
// connection dropped; neither is counted. Out.AtMostOnce reads a Queue
// buffer the same way, faster.
//
// [In] forwards a subject into a buffer:
//
//   - from core NATS: what arrives is pushed; what NATS drops because the
//     bridge fell behind is counted (Stats.Lost).
//   - from a JetStream durable pull consumer: a batch is pushed into the
//     ring and only then acknowledged to JetStream. With a journal (a
//     small file beside the buffer) and the bridge as the buffer's only
//     writer (an Atomic buffer guarantees it), a bridge killed between
//     the push and the ack does not push the batch again: the journal
//     records where the batch began in the ring and the stream sequences
//     it held, and the next bridge counts what reached the ring. Every
//     item is then in the ring once. The messages a dead bridge held come
//     again after the consumer's AckWait, behind newer ones: across a
//     crash the ring's order may differ from the stream's.
//
// Both respect back-pressure: Out takes only as fast as NATS accepts,
// and In pushes with waiting calls, so a full ring slows the fetches. Both
// stop cleanly when their context is done: the batch in flight is
// finished or handed back, never left half-acknowledged.
//
// Out sends the item's bytes as the message's data. Messages to JetStream
// carry the item's position in the header Scb-Pos (In ignores it), and
// so do those to core NATS with Out.Positions (headers cost the client
// and the server several times a message's own cost, so they are off by
// default there).
package natsbridge
