package scb

// Holders: every attached handle's line in the holder table
// (internal/layout's holders.go), claimed with a byte lock that the kernel
// drops when the handle's file closes or its process dies. What a line
// says is believed only while that lock is held; that is how Stat names
// who is attached, and how a waiting call learns that its peers are gone.

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/platform"
)

// maxHolders is the number of holder slots: of handles attached to one
// buffer at once, where there are holder locks. A token (slot + 1) fits
// the 16 bits a slot's state word has for it (internal/layout).
const maxHolders = layout.MaxHolders

// holderNext spreads the slots of one process's handles.
var holderNext atomic.Uint32

// selfStart is this process's start time, for its holder lines.
var selfStart = sync.OnceValue(func() uint64 { return platform.ProcStart(os.Getpid()) })

// holder is a handle's holder slot. The zero value holds none: where there
// are no holder locks, and once released.
type holder struct {
	fd   uintptr
	tok  uint32         // slot + 1; 0 for none
	line unsafe.Pointer // the slot's line in the holder table
}

// claimHolder takes a free holder slot for a handle of the buffer b, where
// there are holder locks (else it returns the zero holder), and fills in
// its line but for the role, which attached records once the handle has
// its role. It starts looking at a place derived from the process id, so
// that processes seldom try each other's slots. A slot is free when nobody
// holds its byte lock; if a Flock lock word still holds the slot's token,
// its holder died (or closed its file) while holding it, and claimHolder
// frees it.
func claimHolder(b *mapping) (holder, error) {
	if !platform.HolderLocks {
		return holder{}, nil
	}
	fd := b.file.Fd()
	start := (uint32(os.Getpid())*2654435761 + holderNext.Add(1)) % maxHolders
	for i := range uint32(maxHolders) {
		slot := (start + i) % maxHolders
		ok, err := platform.LockHolder(fd, slot)
		if err != nil && Strategy(b.geo.Strategy) == Atomic {
			// A file system without byte-range locks: the Atomic
			// strategy works without holder slots, proving nobody.
			return holder{}, nil
		}
		if err != nil {
			return holder{}, err
		}
		if !ok {
			continue
		}
		token := slot + 1
		for _, sd := range []side{writeSide, readSide} {
			if l := lockWordOf(b.lay.Base, sd); atomic.LoadUint32(l.word) == token {
				l.unlock(token)
			}
		}
		h := holder{fd: fd, tok: token, line: layout.Holder(b.lay.Base, slot)}
		atomic.StoreUint32(h.u32(layout.HolderRole), 0)
		atomic.StoreUint32(h.u32(layout.HolderAsleep), 0)
		atomic.StoreUint32(h.u32(layout.HolderPid), uint32(os.Getpid()))
		atomic.StoreUint64(h.u64(layout.HolderStart), selfStart())
		atomic.StoreUint64(h.u64(layout.HolderSince), uint64(time.Now().UnixNano()))
		atomic.StoreUint64(h.u64(layout.HolderPos), 0)
		atomic.StoreUint64(h.u64(layout.HolderLost), 0)
		return h, nil
	}
	return holder{}, fmt.Errorf("%w: all %d holder slots are taken", ErrBusy, maxHolders)
}

func (h holder) u32(off uintptr) *uint32 { return (*uint32)(unsafe.Add(h.line, off)) }
func (h holder) u64(off uintptr) *uint64 { return (*uint64)(unsafe.Add(h.line, off)) }

// token is the slot + 1, or 0 for none.
func (h holder) token() uint32 { return h.tok }

// attached records the handle's role in its line: from now on it is
// listed as a holder.
func (h holder) attached(r role) {
	if h.tok != 0 {
		atomic.StoreUint32(h.u32(layout.HolderRole), roleCode(r))
	}
}

// asleep counts one of the handle's calls going to sleep in the kernel
// (d = 1) or waking (d = -1).
func (h holder) asleep(d int32) {
	if h.tok != 0 {
		atomic.AddUint32(h.u32(layout.HolderAsleep), uint32(d))
	}
}

// progress records a Broadcast reader's position. The caller has a
// holder line (tok != 0): broadcastReader.record asks.
func (h holder) progress(pos uint64) {
	atomic.StoreUint64(h.u64(layout.HolderPos), pos)
}

// position returns the position progress recorded last (the caller has a
// holder line).
func (h holder) position() uint64 {
	return atomic.LoadUint64(h.u64(layout.HolderPos))
}

// lost records a Broadcast reader's count of items lost to overruns.
func (h holder) lost(n uint64) {
	if h.tok != 0 {
		atomic.StoreUint64(h.u64(layout.HolderLost), n)
	}
}

// release clears the line and gives the slot up.
func (h *holder) release() {
	if h.tok == 0 {
		return
	}
	atomic.StoreUint32(h.u32(layout.HolderRole), 0)
	atomic.StoreUint32(h.u32(layout.HolderAsleep), 0)
	platform.UnlockHolder(h.fd, h.tok-1)
	*h = holder{}
}

// holderInfo is what a live holder's line says.
type holderInfo struct {
	token  int
	role   uint32
	asleep uint32
	pid    int    // as the line says (provenPid checks it)
	start  uint64 // the line's process start time
	since  int64
	pos    uint64
	lost   uint64
}

// provenPid returns the line's pid if the process running under it now
// started when the line says (where the platform tells start times), else
// 0: the id was recycled, or the line edited, or the start time cannot be
// read (another user's process on Windows, another pid namespace).
func (hi holderInfo) provenPid() int {
	if hi.start != 0 && platform.ProcStart(hi.pid) != hi.start {
		return 0
	}
	return hi.pid
}

// liveHolders calls f for each holder line of the buffer mapped at base,
// whose file is open as fd, that records role want (0: any) and that a
// live holder's lock proves, except the caller's own (self, a token; 0 for
// none). A line whose lock is free is a dead holder's and is skipped. It
// asks the kernel once per line of that role, so it is for Stat and for
// waits that check now and then.
//
// A line is filled in by its holder after it took the lock, so a dead
// holder's line may be read, for an instant, as the new holder's: a
// moment's stale role, which the next look corrects.
func liveHolders(fd uintptr, base unsafe.Pointer, self, want uint32, f func(holderInfo)) error {
	if !platform.HolderLocks {
		return nil
	}
	for slot := range uint32(maxHolders) {
		if slot+1 == self {
			continue
		}
		h := holder{line: layout.Holder(base, slot)}
		role := atomic.LoadUint32(h.u32(layout.HolderRole))
		if role == 0 || want != 0 && role != want {
			continue
		}
		held, err := platform.HolderHeld(fd, slot)
		if err != nil {
			return err
		}
		if !held {
			continue
		}
		hi := holderInfo{
			token:  int(slot + 1),
			role:   role,
			asleep: atomic.LoadUint32(h.u32(layout.HolderAsleep)),
			pid:    int(atomic.LoadUint32(h.u32(layout.HolderPid))),
			start:  atomic.LoadUint64(h.u64(layout.HolderStart)),
			since:  int64(atomic.LoadUint64(h.u64(layout.HolderSince))),
			pos:    atomic.LoadUint64(h.u64(layout.HolderPos)),
			lost:   atomic.LoadUint64(h.u64(layout.HolderLost)),
		}
		f(hi)
	}
	return nil
}

// roleCode is how a holder line records role r.
func roleCode(r role) uint32 {
	if r == roleWriter {
		return layout.HolderWriter
	}
	return layout.HolderReader
}

// anyLive reports whether a live holder other than self has role r.
func anyLive(fd uintptr, base unsafe.Pointer, self uint32, r role) (bool, error) {
	found := false
	err := liveHolders(fd, base, self, roleCode(r), func(holderInfo) { found = true })
	return found, err
}
