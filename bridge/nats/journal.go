package natsbridge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
)

// The journal of In with JetStream: before it pushes a batch, In records
// where in the ring the batch begins (the buffer's count of items ever
// written, which only In moves when it is the only writer), the stream
// sequences of the batch's messages, in the order it pushes them, and the
// sequences of messages it knows to be in the ring already but whose acks
// JetStream has not confirmed (left by bridges that died). A bridge that
// starts again reads it and compares the ring's count now: the batch's
// first (count - start) messages are in the ring too. When JetStream
// delivers any of those again, they are acknowledged and not pushed; they
// stay in every later journal until JetStream confirms their ack, so a
// bridge killed again before that does not forget them.
//
// The file, little-endian:
//
//	0   [8]byte  "SCBNJ\x00\x00\x03": magic and version 3
//	8   uint64   start: the buffer's written count when the batch began
//	16  uint32   n: the batch's messages
//	20  uint32   k: the messages in the ring whose acks are not confirmed
//	24  n uint64 the batch's stream sequences, distinct
//	..  k uint64 the others' stream sequences, distinct from all before
//	..  uint32   CRC-32 (IEEE) of everything before it
//
// It is replaced whole (written beside it, then renamed), so a bridge
// killed while writing it leaves the previous one.

var journalMagic = [8]byte{'S', 'C', 'B', 'N', 'J', 0, 0, 3}

// maxJournal bounds a journal's messages: a batch is at most this long.
const maxJournal = 1 << 16

// journal is what the file records.
type journal struct {
	start uint64
	seqs  []uint64 // the batch
	skip  []uint64 // in the ring already, acks not confirmed
}

// errJournal marks a journal file that is not one.
var errJournal = errors.New("natsbridge: damaged journal")

// encode returns the file's bytes.
func (j *journal) encode() []byte {
	b := make([]byte, 0, 28+8*(len(j.seqs)+len(j.skip)))
	b = append(b, journalMagic[:]...)
	b = binary.LittleEndian.AppendUint64(b, j.start)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(j.seqs)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(j.skip)))
	for _, s := range append(j.seqs[:len(j.seqs):len(j.seqs)], j.skip...) {
		b = binary.LittleEndian.AppendUint64(b, s)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// decodeJournal parses a journal file's bytes; an error matches
// errJournal and says what is wrong.
func decodeJournal(b []byte) (journal, error) {
	bad := func(format string, args ...any) (journal, error) {
		return journal{}, fmt.Errorf("%w: "+format, append([]any{errJournal}, args...)...)
	}
	if len(b) < 28 {
		return bad("%d bytes", len(b))
	}
	if [8]byte(b[:8]) != journalMagic {
		return bad("magic %q", b[:8])
	}
	n, k := binary.LittleEndian.Uint32(b[16:]), binary.LittleEndian.Uint32(b[20:])
	if n > maxJournal || k > maxJournal || uint64(len(b)) != 28+8*(uint64(n)+uint64(k)) {
		return bad("%d and %d messages in %d bytes", n, k, len(b))
	}
	body := b[:len(b)-4]
	if sum := binary.LittleEndian.Uint32(b[len(b)-4:]); sum != crc32.ChecksumIEEE(body) {
		return bad("checksum")
	}
	j := journal{start: binary.LittleEndian.Uint64(b[8:])}
	seen := make(map[uint64]bool, n+k)
	for i := range int(n + k) {
		s := binary.LittleEndian.Uint64(b[24+8*i:])
		if s == 0 || seen[s] {
			return bad("sequence %d twice, or 0", s)
		}
		seen[s] = true
		if i < int(n) {
			j.seqs = append(j.seqs, s)
		} else {
			j.skip = append(j.skip, s)
		}
	}
	return j, nil
}

// readJournal reads the journal at path; none (the zero journal) if the
// file does not exist.
func readJournal(path string) (journal, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return journal{}, nil
	}
	if err != nil {
		return journal{}, fmt.Errorf("natsbridge: read the journal: %w", err)
	}
	j, err := decodeJournal(b)
	if err != nil {
		return journal{}, fmt.Errorf("%w (%s)", err, path)
	}
	return j, nil
}

// write replaces the journal at path with j.
func (j *journal) write(path string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, j.encode(), 0o600); err != nil {
		return fmt.Errorf("natsbridge: write the journal: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("natsbridge: write the journal: %w", err)
	}
	return nil
}

// inRing returns the stream sequences known to be in the ring whose acks
// are not confirmed, given the buffer's written count now: the journal's
// skip, and the batch's messages that reached the ring.
func (j *journal) inRing(written uint64) map[uint64]bool {
	in := map[uint64]bool{}
	for _, s := range j.skip {
		in[s] = true
	}
	if written > j.start {
		for _, s := range j.seqs[:min(written-j.start, uint64(len(j.seqs)))] {
			in[s] = true
		}
	}
	return in
}
