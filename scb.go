package scb

// The entry points: Create, which makes a buffer and attaches its first
// writer, and the openers, which attach a writer or a reader to one that
// exists. The waiting openers and CreateOrOpen are in openwait.go; Stat,
// List and Remove in admin.go; the options in options.go.

import (
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/sharedcbuff/scb/internal/layout"
)

// Create makes a new buffer called name and returns a Writer attached to it.
// If a buffer of that name exists, Create returns an error matching ErrExist
// and leaves it alone.
//
// The file is built under a temporary name, its space reserved, and then
// linked into place in one step, so no other process ever sees a half-made
// buffer and a full file system is reported here rather than as a crash
// later.
func Create(name string, opts *Options) (*Writer, error) {
	w, err := create(name, opts, layout.TypeRecord{})
	if err != nil {
		return nil, opError("create", name, err)
	}
	return w, nil
}

// create is Create, which records typ (CreateTyped's) in the file.
func create(name string, opts *Options, typ layout.TypeRecord) (*Writer, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	c := opts.config()
	c.typ = typ
	length, itemSize, s, m := c.Length, c.ItemSize, c.Strategy, c.Mode
	if length == 0 {
		length = defaultLength
	}
	if itemSize == 0 {
		itemSize = defaultItemSize
	}
	if s == 0 {
		s = Atomic
	}
	if m == 0 {
		m = Queue
	}
	g, err := geometryFor(length, itemSize, s, m, c.FixedSize)
	if err != nil {
		return nil, err
	}
	if err := checkArch(s); err != nil {
		return nil, err
	}
	g.Created = time.Now().UnixNano()
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand never fails on supported systems
	g.ID = binary.LittleEndian.Uint64(id[:])
	b, tmp, err := buildFile(name, c, g)
	if err != nil {
		return nil, err
	}
	// The writer role is free: its lock file was just made, named after
	// this buffer's random id. A taken name is found by publishFile.
	w, err := newWriter(b, c)
	if err == nil {
		err = b.publishFile(tmp)
		if err != nil {
			w.Close()
		}
	} else {
		b.abandon(tmp)
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// OpenWriter attaches a writer to the existing buffer called name.
//
// With the Atomic strategy only one writer may be attached at a time;
// OpenWriter returns an error matching ErrBusy while another is. With Flock
// any number may be.
func OpenWriter(name string, opts *Options) (*Writer, error) {
	b, c, err := openBuffer(name, opts)
	if err != nil {
		return nil, opError("open", name, err)
	}
	w, err := newWriter(b, c)
	if err != nil {
		b.close()
		return nil, opError("open", name, err)
	}
	return w, nil
}

// OpenReader attaches a reader to the existing buffer called name. It
// returns an error matching ErrNotExist if there is none.
//
// With the Atomic strategy a Queue buffer has one reader at a time;
// OpenReader returns an error matching ErrBusy while another is attached.
// Broadcast buffers, and any buffer of the Flock strategy, take any number.
func OpenReader(name string, opts *Options) (*Reader, error) {
	b, c, err := openBuffer(name, opts)
	if err != nil {
		return nil, opError("open", name, err)
	}
	r, err := newReader(b, c)
	if err != nil {
		b.close()
		return nil, opError("open", name, err)
	}
	return r, nil
}

func openBuffer(name string, opts *Options) (*mapping, config, error) {
	c := opts.config()
	if err := checkName(name); err != nil {
		return nil, c, err
	}
	if err := c.checkOpen(); err != nil {
		return nil, c, err
	}
	b, err := openFile(name, c)
	return b, c, err
}
