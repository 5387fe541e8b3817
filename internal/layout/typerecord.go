package layout

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// The type record (format version 6), on line 10 of the header page: a
// buffer made for one Go type (scb.CreateTyped) records a fingerprint of
// that type's shape (its name, size and field layout) and its name, so
// that a typed handle of another type is refused when it is made. A
// buffer made otherwise records nothing here (all zero), and typed handles
// of any type of the right size open it. Untyped handles ignore the record.
//
//	OffTypeSum   uint64  the fingerprint; 0: no type recorded
//	OffTypeLen   uint8   the name's length in bytes, at most MaxTypeName
//	OffTypeName  [MaxTypeName]byte  the type's name as Go prints it (main.Reading),
//	             cut at MaxTypeName bytes on a character boundary
//
// The record is written with the fixed fields, before the file has its
// name, and never changes.
const (
	OffTypeSum  = 10 * LineSize
	OffTypeLen  = 10*LineSize + 8
	OffTypeName = 10*LineSize + 9
	MaxTypeName = LineSize - 9
)

// The name's length and bytes, from the start of the record's line.
const (
	typeLen  = OffTypeLen - OffTypeSum
	typeName = OffTypeName - OffTypeSum
)

// TypeRecord is what the type record holds.
type TypeRecord struct {
	Sum  uint64 // the fingerprint of the type's shape; 0: no type recorded
	Name string // the type's name, for messages
}

// NewTypeRecord returns the record of a type named name whose shape has
// the fingerprint sum, never 0: a type recorded is never taken for none.
// The name is cut to MaxTypeName bytes, on a character boundary.
func NewTypeRecord(sum uint64, name string) TypeRecord {
	if sum == 0 {
		sum = 1
	}
	if len(name) > MaxTypeName {
		n := MaxTypeName
		for n > 0 && !utf8.RuneStart(name[n]) {
			n--
		}
		name = name[:n]
	}
	return TypeRecord{Sum: sum, Name: name}
}

// Encode writes r into line, the record's LineSize bytes at OffTypeSum.
func (r TypeRecord) Encode(line []byte) {
	binary.LittleEndian.PutUint64(line, r.Sum)
	line[typeLen] = byte(copy(line[typeName:LineSize], r.Name))
}

// DecodeType reads the record in line (LineSize bytes at OffTypeSum) and
// checks it: a name longer than the record holds, a name without a
// fingerprint, a name that is not UTF-8, or bytes past the name that are
// not zero mean the record is damaged.
func DecodeType(line []byte) (TypeRecord, error) {
	if len(line) < LineSize {
		return TypeRecord{}, fmt.Errorf("type record of %d bytes, want %d", len(line), LineSize)
	}
	r := TypeRecord{Sum: binary.LittleEndian.Uint64(line)}
	n := int(line[typeLen])
	if n > MaxTypeName {
		return TypeRecord{}, fmt.Errorf("type record: a name of %d bytes, at most %d fit", n, MaxTypeName)
	}
	name := line[typeName:][:n]
	switch {
	case r.Sum == 0 && n != 0:
		return TypeRecord{}, errors.New("type record: a name without a fingerprint")
	case !utf8.Valid(name):
		return TypeRecord{}, fmt.Errorf("type record: the name %q is not UTF-8", name)
	}
	for _, b := range line[typeName+n : LineSize] {
		if b != 0 {
			return TypeRecord{}, errors.New("type record: bytes past the name are not zero")
		}
	}
	r.Name = string(name)
	return r, nil
}
