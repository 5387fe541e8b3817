package scb

import "github.com/sharedcbuff/scb/internal/layout"

// The operations: what one call asks of the role's cursor, carried through
// the attempts of handle.run (handle.go). A role builds one on its stack
// per call (writer.go, reader.go); the handle makes each attempt with the
// side taken, and acts on what the attempt reports (outcome): it wakes the
// other side when the shared cursor moved, keeps the side for a Claim or a
// Peek, and waits on the cursor value the attempt saw.
//
// An operation has two methods, which handle.run calls:
//
//   - idle reports, without the side taken, that an attempt would only
//     find the operation blocked (no room, or nothing to read), and the
//     other side's cursor to wait on. The handle asks only where taking
//     the side is costly.
//   - attempt makes one try with the side taken and the cursor fresh.
//
// The calls that end a Claim or a Peek (Commit, Abort, Release) are
// operations with an attempt only, which handle.finish runs. Each kind of
// call has its own small type, so that a call zeroes no more than it uses.

// outcome is what an attempt did besides its error.
type outcome struct {
	seen     mark // what the attempt saw of the other side: what to wait on
	moved    bool // the attempt stored the role's shared cursor: wake the other side
	lent     bool // the attempt lent a slot or an item (Claim, Peek): keep the side
	returned bool // the attempt gave an item back: wake other readers
	batch    bool // a writer's attempt published more than one item: readers asleep for a share may sleep on (wake)
}

// The kinds of item operations (wop, rop).
const (
	opUint      uint8 = iota // one uint64
	opBytes                  // one byte item
	opUints                  // a batch of uint64s
	opBytesMany              // a batch of byte items
	opMany                   // PopMany: a batch of uint64s in a new slice
)

// wop writes items.
type wop struct {
	c    writeCursor
	kind uint8
	v    uint64
	p    []byte
	vs   []uint64
	ps   [][]byte
	n    int // items written so far
}

// idle reports that the buffer is full right now and op's next item is one
// it could take: an item that can never fit is reported as such by the
// attempt whether or not the buffer is full, and an empty batch is done at
// once.
func (op *wop) idle() (bool, mark) {
	ring := op.c.ring()
	size := ring.ItemSize
	var ok bool
	switch op.kind {
	case opUint:
		ok = layout.FitsUint(op.v, size)
	case opBytes:
		ok = ring.Fits(len(op.p))
	case opUints:
		ok = op.n < len(op.vs) && layout.FitsUint(op.vs[op.n], size)
	case opBytesMany:
		ok = op.n < len(op.ps) && ring.Fits(len(op.ps[op.n]))
	}
	if !ok {
		return false, mark{}
	}
	return op.c.full()
}

// attempt writes what fits and publishes it with one store; it returns
// ErrFull if op is not finished.
func (op *wop) attempt() (outcome, error) {
	c := op.c
	start := op.n
	var err error
	switch op.kind {
	case opUint:
		if err = c.putUint(op.v); err == nil {
			op.n = 1
		}
	case opBytes:
		if err = c.putBytes(op.p); err == nil {
			op.n = 1
		}
	case opUints:
		var k int
		k, err = c.putUints(op.vs[op.n:])
		op.n += k
	case opBytesMany:
		for op.n < len(op.ps) {
			if err = c.putBytes(op.ps[op.n]); err != nil {
				break
			}
			op.n++
		}
	}
	if op.n == start {
		return outcome{seen: c.seen()}, err
	}
	if perr := c.publish(); perr != nil {
		op.n = start
		return outcome{}, perr
	}
	return outcome{seen: c.seen(), moved: true, batch: op.n-start > 1}, err
}

// claimOp lends the next slot for zero-copy writing (Claim).
type claimOp struct {
	c    writeCursor
	slot []byte
}

func (op *claimOp) idle() (bool, mark) { return op.c.full() }

func (op *claimOp) attempt() (outcome, error) {
	var err error
	op.slot, err = op.c.claim()
	return outcome{seen: op.c.seen(), lent: err == nil}, err
}

// commitOp publishes the claimed slot as an item of n bytes (Commit).
type commitOp struct {
	c writeCursor
	n int
}

func (op *commitOp) attempt() (outcome, error) {
	err := op.c.commit(op.n)
	return outcome{moved: err == nil}, err
}

// abort ends a Claim without publishing anything (Abort).
func abort() (outcome, error) { return outcome{}, nil }

// endOp ends the stream after the items published (CloseWrite).
type endOp struct{ c writeCursor }

func (op *endOp) idle() (bool, mark) { return false, mark{} }

func (op *endOp) attempt() (outcome, error) {
	op.c.end()
	return outcome{}, nil
}

// rop reads items.
type rop struct {
	c    readCursor
	kind uint8
	dst  []byte
	vs   []uint64
	bufs [][]byte
	v    uint64 // opUint's item
	size int    // opBytes's item length
	max  int    // opMany: at most this many
	n    int    // items read
}

// asks returns how many items op asks for at most. A batch into an empty
// slice asks for none and is done at once, whether or not the buffer is
// empty; one that asks for more than one may wait for a share of the ring
// (mark.share).
func (op *rop) asks() int {
	switch op.kind {
	case opUints:
		return len(op.vs)
	case opBytesMany:
		return len(op.bufs)
	case opMany:
		return op.max // popMany makes none for n <= 0
	}
	return 1
}

// idle reports that the buffer is empty right now and op asks for an item.
func (op *rop) idle() (bool, mark) {
	if op.asks() == 0 {
		return false, mark{}
	}
	idle, seen := op.c.empty()
	seen.share = op.asks() > 1
	return idle, seen
}

// attempt reads what is ready (up to what op asks for) and publishes the
// new read cursor once. A batch stops without an error at an item it
// cannot return, so that the next call reports it; a batch that read
// nothing reports it now, ErrEmpty included.
func (op *rop) attempt() (outcome, error) {
	c := op.c
	c.begin()
	var err error
	got := 0
	switch op.kind {
	case opUint:
		if op.v, _, err = c.readOne(nil, true); err == nil {
			got = 1
		}
	case opBytes:
		if _, op.size, err = c.readOne(op.dst, false); err == nil {
			got = 1
		}
	case opMany:
		// At least one: with nothing ready the read says why (ErrEmpty,
		// io.EOF), and an item that came meanwhile is read.
		op.vs = make([]uint64, max(1, min(op.max, c.available())))
		fallthrough
	case opUints:
		got, err = c.readUints(op.vs)
	case opBytesMany:
		got, err = c.readBytes(op.bufs)
	}
	moved, err := c.settle(got, err)
	if err == nil {
		op.n = got
	}
	seen := c.seen()
	seen.share = op.asks() > 1
	return outcome{seen: seen, moved: moved}, err
}

// peekOp lends the next item for zero-copy reading (Peek).
type peekOp struct {
	c    readCursor
	item []byte
}

func (op *peekOp) idle() (bool, mark) { return op.c.empty() }

func (op *peekOp) attempt() (outcome, error) {
	var err error
	op.c.begin()
	op.item, err = op.c.peek()
	return outcome{seen: op.c.seen(), lent: err == nil}, err
}

// releaseOp consumes the peeked item (Release).
type releaseOp struct{ c readCursor }

func (op *releaseOp) attempt() (outcome, error) {
	moved, err := op.c.release()
	return outcome{moved: moved}, err
}

// leaseOp takes one item under a lease (Take and its kin).
type leaseOp struct {
	c      readCursor
	dst    []byte
	asUint bool
	v      uint64 // the item, asUint
	size   int    // its length, into dst
	pos    uint64
	d      int // deliveries
}

func (op *leaseOp) idle() (bool, mark) { return op.c.empty() }

func (op *leaseOp) attempt() (outcome, error) {
	returned, err := op.takeOne()
	return outcome{seen: op.c.seen(), returned: returned}, err
}

// takeOne is the attempt's work: it takes an item under a lease, and
// reports whether it gave it back (an item it cannot return).
func (op *leaseOp) takeOne() (returned bool, err error) {
	c := op.c
	c.begin()
	p, d, err := c.take()
	if err != nil {
		return false, err
	}
	if op.v, op.size, err = c.leasedItem(p, d, op.dst, op.asUint); err != nil {
		return true, err
	}
	op.pos, op.d = p, d
	return false, nil
}

// settleOp ends a lease: consumes its item (Ack) or gives it back.
type settleOp struct {
	c       readCursor
	pos     uint64
	d       int
	consume bool
}

func (op *settleOp) idle() (bool, mark) { return false, mark{} }

func (op *settleOp) attempt() (outcome, error) {
	moved, returned, err := op.end()
	return outcome{moved: moved, returned: returned}, err
}

// end is the attempt's work: it reports whether it moved the read cursor
// and whether it gave the item back.
func (op *settleOp) end() (moved, returned bool, err error) {
	moved, err = op.c.settleLease(op.pos, op.d, op.consume)
	return moved, err == nil && !op.consume, err
}
