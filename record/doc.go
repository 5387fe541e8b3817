// Package record writes the items of an scb buffer to a file, with their
// positions and arrival times, and plays such a file back into a buffer:
// as fast as the buffer takes them, at the pace they were recorded, or at
// a fixed rate. A recording made once is a fixture a test can replay every
// run (see scbtest.Replay); the command's "scb record" and "scb replay"
// do the same from the shell.
//
// # The file format, version 1
//
// This is the only specification of the format. Integers are unsigned and
// little-endian unless marked varint (encoding/binary's Uvarint) or signed
// varint (binary.Varint, zig-zag). A recording is a header and blocks:
//
//	header:
//	  magic     6 bytes   "SCBREC"
//	  version   uint16    1
//	  length    uint32    bytes of the header's body, at most 4096
//	  checksum  uint32    CRC-32C (Castagnoli) of the body
//	  body:
//	    started   int64     when the recording began, Unix nanoseconds
//	    mode      uint8     the buffer's mode: 1 Queue, 2 Broadcast
//	    item size uint32    the buffer's item size, 1 to 16 MiB - 32
//	    name      uint8 length, then that many bytes: the buffer's name
//	    (a later minor change may append fields; readers skip them)
//	block, repeated:
//	  kind      1 byte    'D' data, 'E' end
//	  length    uint32    bytes of the block's body, at most 16 MiB (a
//	                      writer ends a block once it passes 64 KiB)
//	  checksum  uint32    CRC-32C of the body
//	  body
//
// A data block's body is records, each a tag byte and its fields:
//
//	'I' an item:
//	  position  signed varint  its position minus the expected one
//	  time      varint         nanoseconds since the record before (the
//	                           first: since started); arrival times never
//	                           go back
//	  length    varint         then that many bytes: the item, at most
//	                           the header's item size
//	'L' items the recorder missed (a Broadcast writer overwrote them):
//	  count     varint
//	  time      varint         as for an item
//
// The expected position is 0 at the start, one past the item before after
// an item, and count further after an 'L' record; so a recording of a
// buffer from its first item, with nothing missed, has every position
// field 0. (A Queue item given back and read again has an older position:
// the field is negative.)
//
// The end block holds the totals as two varints: items recorded and items
// missed, which must be what the data blocks hold. Nothing may follow it. A file without one was cut short: its blocks
// up to the cut are still read (each is whole or refused by its checksum),
// then Reader.Next returns ErrTruncated.
//
// A reader refuses a file whose magic, version, lengths, checksums or
// records do not hold up with an error matching ErrFormat, naming the
// byte offset of the damage; it never panics and never allocates more
// than a block's stated length, itself bounded.
package record
