package record

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/sharedcbuff/scb"
)

// Version is the format version this package writes and reads.
const Version = 1

const (
	magic       = "SCBREC"
	maxBlock    = 16 << 20      // the largest block body a reader accepts
	maxItem     = maxBlock - 32 // the largest item: its record fits a block
	flushAt     = 64 << 10      // a writer ends a block once its body reaches this
	maxHeader   = 4096          // the largest header body a reader accepts
	prefixBytes = 9             // a block's kind, length and checksum
	tagItem     = 'I'
	tagLost     = 'L'
	kindData    = 'D'
	kindEnd     = 'E'
)

var (
	// ErrFormat is matched by the errors of a file that is not a
	// recording, or a damaged one, or one of a newer version.
	ErrFormat = errors.New("record: not a valid recording")
	// ErrTruncated is returned by Reader.Next at the end of a recording
	// that was cut short (its recorder died, say): every item before the
	// cut was read.
	ErrTruncated = errors.New("record: recording cut short: it has no end block")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header describes the buffer a recording was made from.
type Header struct {
	Started  time.Time // when the recording began
	Mode     scb.Mode  // the buffer's mode, Queue or Broadcast
	ItemSize int       // the buffer's item size: no item is longer
	Name     string    // the buffer's name, at most 255 bytes
}

// Item is one recorded item. Its Data are the item's bytes as the buffer
// held them (an integer pushed with Push is 8 bytes, big-endian, as Pop
// reads them); a recording replays into any buffer whose items are large
// enough, of either mode and any name.
type Item struct {
	Pos  uint64        // its position in the recorded buffer
	At   time.Duration // when it arrived, since Header.Started
	Data []byte        // the item
}

// Writer writes a recording. Its methods are not safe for concurrent use.
type Writer struct {
	w        io.Writer
	start    time.Time // Started, with the monotonic clock
	itemSize int
	block    []byte // the data block being filled: its body
	nextPos  uint64 // the expected position
	last     time.Duration
	items    uint64
	lost     uint64
	err      error // the first write error; every later call returns it
}

// NewWriter writes the header of a recording of a buffer described by h
// to w, and returns a Writer for its items. A zero h.Started is now.
// Times given to Add are taken against h.Started's monotonic clock when
// it has one (time.Now's does).
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if h.Started.IsZero() {
		h.Started = time.Now()
	}
	if len(h.Name) > 255 {
		return nil, fmt.Errorf("record: buffer name of %d bytes, more than 255", len(h.Name))
	}
	if h.ItemSize < 1 || h.ItemSize > maxItem {
		return nil, fmt.Errorf("record: item size %d out of range: a recording holds items of up to %d bytes", h.ItemSize, maxItem)
	}
	if h.Mode != scb.Queue && h.Mode != scb.Broadcast {
		return nil, fmt.Errorf("record: mode %d is neither Queue nor Broadcast", h.Mode)
	}
	body := binary.LittleEndian.AppendUint64(nil, uint64(h.Started.UnixNano()))
	body = append(body, byte(h.Mode))
	body = binary.LittleEndian.AppendUint32(body, uint32(h.ItemSize))
	body = append(body, byte(len(h.Name)))
	body = append(body, h.Name...)
	head := append([]byte(magic), 0, 0)
	binary.LittleEndian.PutUint16(head[len(magic):], Version)
	head = binary.LittleEndian.AppendUint32(head, uint32(len(body)))
	head = binary.LittleEndian.AppendUint32(head, crc32.Checksum(body, castagnoli))
	if _, err := w.Write(append(head, body...)); err != nil {
		return nil, err
	}
	return &Writer{w: w, start: h.Started, itemSize: h.ItemSize, block: make([]byte, prefixBytes, prefixBytes+flushAt+1024)}, nil
}

// since returns t's offset from the start, never before the record
// before.
func (w *Writer) since(t time.Time) uint64 {
	at := t.Sub(w.start)
	if at < w.last {
		at = w.last
	}
	d := at - w.last
	w.last = at
	return uint64(d)
}

// Add records an item at position pos that arrived at t. An item longer
// than the header's item size is refused.
func (w *Writer) Add(pos uint64, t time.Time, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if len(data) > w.itemSize {
		return fmt.Errorf("record: item of %d bytes, more than the item size %d", len(data), w.itemSize)
	}
	if len(w.block)-prefixBytes+len(data)+32 > maxBlock {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	b := append(w.block, tagItem)
	b = binary.AppendVarint(b, int64(pos-w.nextPos))
	b = binary.AppendUvarint(b, w.since(t))
	b = binary.AppendUvarint(b, uint64(len(data)))
	w.block = append(b, data...)
	w.nextPos = pos + 1
	w.items++
	if len(w.block)-prefixBytes >= flushAt {
		return w.Flush()
	}
	return nil
}

// AddLost records that n items were missed at time t: the next expected
// position moves n further.
func (w *Writer) AddLost(n uint64, t time.Time) error {
	if w.err != nil {
		return w.err
	}
	b := append(w.block, tagLost)
	b = binary.AppendUvarint(b, n)
	w.block = binary.AppendUvarint(b, w.since(t))
	w.nextPos += n
	w.lost += n
	if len(w.block)-prefixBytes >= flushAt {
		return w.Flush()
	}
	return nil
}

// Items returns how many items were recorded so far.
func (w *Writer) Items() uint64 { return w.items }

// Lost returns how many items were missed so far.
func (w *Writer) Lost() uint64 { return w.lost }

// Flush writes the items added so far as a block.
func (w *Writer) Flush() error {
	if w.err != nil || len(w.block) == prefixBytes {
		return w.err
	}
	w.err = w.writeBlock(kindData, w.block)
	w.block = w.block[:prefixBytes]
	return w.err
}

// writeBlock writes b, a block's prefix space and its body, as one block
// of kind, in one write.
func (w *Writer) writeBlock(kind byte, b []byte) error {
	body := b[prefixBytes:]
	b[0] = kind
	binary.LittleEndian.PutUint32(b[1:], uint32(len(body)))
	binary.LittleEndian.PutUint32(b[5:], crc32.Checksum(body, castagnoli))
	_, err := w.w.Write(b)
	return err
}

// Close writes what is left and the end block. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if err := w.Flush(); err != nil {
		return err
	}
	end := binary.AppendUvarint(make([]byte, prefixBytes), w.items)
	end = binary.AppendUvarint(end, w.lost)
	w.err = w.writeBlock(kindEnd, end)
	if w.err == nil {
		w.err = errors.New("record: Writer is closed")
		return nil
	}
	return w.err
}

// Reader reads a recording.
type Reader struct {
	r       *bufio.Reader
	h       Header
	off     int64  // the file offset of the next unread byte
	buf     []byte // holds the block being read
	block   []byte // the data block being read: its unread records
	end     int64  // the offset of the byte after block
	nextPos uint64
	at      time.Duration
	items   uint64
	lost    uint64
	done    error // io.EOF after the end block, or the error that stopped it
}

// NewReader reads the header of a recording from r.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{r: bufio.NewReaderSize(r, 1<<16)}
	var head [len(magic) + 2 + 8]byte
	if _, err := io.ReadFull(rd.r, head[:]); err != nil {
		return nil, rd.formatErr(0, "header: %v", short(err))
	}
	if string(head[:len(magic)]) != magic {
		return nil, rd.formatErr(0, "no %q magic at the start", magic)
	}
	if v := binary.LittleEndian.Uint16(head[len(magic):]); v != Version {
		return nil, rd.formatErr(int64(len(magic)), "version %d; this package reads version %d", v, Version)
	}
	n := binary.LittleEndian.Uint32(head[len(magic)+2:])
	sum := binary.LittleEndian.Uint32(head[len(magic)+6:])
	if n > maxHeader {
		return nil, rd.formatErr(int64(len(magic)+2), "header of %d bytes, more than %d", n, maxHeader)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rd.r, body); err != nil {
		return nil, rd.formatErr(int64(len(head)), "header: %v", short(err))
	}
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, rd.formatErr(int64(len(head)), "header checksum mismatch")
	}
	rd.off = int64(len(head)) + int64(n)
	if n < 8+1+4+1 || n < 14+uint32(body[13]) {
		return nil, rd.formatErr(int64(len(head)), "header body of %d bytes is too short", n)
	}
	rd.h = Header{
		Started:  time.Unix(0, int64(binary.LittleEndian.Uint64(body))),
		Mode:     scb.Mode(body[8]),
		ItemSize: int(binary.LittleEndian.Uint32(body[9:])),
		Name:     string(body[14 : 14+int(body[13])]),
	}
	if rd.h.Mode != scb.Queue && rd.h.Mode != scb.Broadcast {
		return nil, rd.formatErr(int64(len(head))+8, "mode %d is neither Queue (1) nor Broadcast (2)", body[8])
	}
	if rd.h.ItemSize < 1 || rd.h.ItemSize > maxItem {
		return nil, rd.formatErr(int64(len(head))+9, "item size %d, more than %d", rd.h.ItemSize, maxItem)
	}
	return rd, nil
}

// short turns io.EOF in the middle of a structure into what it is.
func short(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (r *Reader) formatErr(off int64, format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrFormat, off, fmt.Sprintf(format, args...))
}

// Header returns the recording's header.
func (r *Reader) Header() Header { return r.h }

// Items returns how many items were read so far.
func (r *Reader) Items() uint64 { return r.items }

// Lost returns how many items the recording says were missed, so far.
func (r *Reader) Lost() uint64 { return r.lost }

// Next returns the next item. Its Data is valid until the next call. After
// the last item it returns io.EOF, or ErrTruncated for a recording that was
// cut short; a damaged recording gives an error matching ErrFormat.
func (r *Reader) Next() (Item, error) {
	for {
		if r.done != nil {
			return Item{}, r.done
		}
		if len(r.block) == 0 {
			r.done = r.nextBlock()
			continue
		}
		at := r.end - int64(len(r.block)) // offset of this record, for errors
		tag := r.block[0]
		b := r.block[1:]
		switch tag {
		case tagItem:
			dp, n1 := binary.Varint(b)
			if n1 <= 0 {
				return r.fail(at, "bad position")
			}
			dt, n2 := binary.Uvarint(b[n1:])
			if n2 <= 0 || !r.advance(dt) {
				return r.fail(at, "bad time")
			}
			l, n3 := binary.Uvarint(b[n1+n2:])
			rest := b[n1+n2:]
			if n3 <= 0 || l > uint64(len(rest)-n3) {
				return r.fail(at, "bad item length")
			}
			if l > uint64(r.h.ItemSize) {
				return r.fail(at, "item of %d bytes, more than the item size %d", l, r.h.ItemSize)
			}
			data := rest[n3 : n3+int(l)]
			r.block = rest[n3+int(l):]
			pos := r.nextPos + uint64(dp)
			r.nextPos = pos + 1
			r.items++
			return Item{Pos: pos, At: r.at, Data: data}, nil
		case tagLost:
			cnt, n1 := binary.Uvarint(b)
			if n1 <= 0 {
				return r.fail(at, "bad lost count")
			}
			dt, n2 := binary.Uvarint(b[n1:])
			if n2 <= 0 || !r.advance(dt) {
				return r.fail(at, "bad time")
			}
			r.block = b[n1+n2:]
			r.nextPos += cnt
			r.lost += cnt
		default:
			return r.fail(at, "unknown record tag %#x", tag)
		}
	}
}

// advance moves the time on by dt nanoseconds, if it does not overflow.
func (r *Reader) advance(dt uint64) bool {
	if dt > uint64(1<<63-1)-uint64(r.at) {
		return false
	}
	r.at += time.Duration(dt)
	return true
}

func (r *Reader) fail(off int64, format string, args ...any) (Item, error) {
	r.done = r.formatErr(off, format, args...)
	r.block = nil
	return Item{}, r.done
}

// nextBlock reads the next block: a data block into r.block, or the end
// block, whose totals it checks; it returns io.EOF after the end block.
func (r *Reader) nextBlock() error {
	var p [prefixBytes]byte
	start := r.off
	n, err := io.ReadFull(r.r, p[:])
	if err == io.EOF {
		return ErrTruncated
	}
	if err != nil {
		if n > 0 && err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w (a block's start at byte %d is cut off)", ErrTruncated, start)
		}
		return err
	}
	l := binary.LittleEndian.Uint32(p[1:])
	if l > maxBlock {
		return r.formatErr(start, "block of %d bytes, more than %d", l, maxBlock)
	}
	if p[0] != kindData && p[0] != kindEnd {
		return r.formatErr(start, "unknown block kind %#x", p[0])
	}
	if cap(r.buf) < int(l) {
		r.buf = make([]byte, l)
	}
	body := r.buf[:l]
	if _, err := io.ReadFull(r.r, body); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w (the block at byte %d is cut off)", ErrTruncated, start)
		}
		return err
	}
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(p[5:]) {
		return r.formatErr(start, "block checksum mismatch")
	}
	r.off = start + prefixBytes + int64(l)
	if p[0] == kindData {
		r.block, r.end = body, r.off
		return nil
	}
	items, n1 := binary.Uvarint(body)
	lost, n2 := uint64(0), 0
	if n1 > 0 {
		lost, n2 = binary.Uvarint(body[n1:])
	}
	if n1 <= 0 || n2 <= 0 {
		return r.formatErr(start, "bad end block")
	}
	if items != r.items || lost != r.lost {
		return r.formatErr(start, "end block counts %d items and %d missed, the blocks hold %d and %d", items, lost, r.items, r.lost)
	}
	if _, err := r.r.ReadByte(); err != io.EOF {
		if err != nil {
			return err
		}
		return r.formatErr(r.off, "bytes after the end block")
	}
	return io.EOF
}
