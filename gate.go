package scb

import (
	"context"
	"sync"
)

// gate is a Flock handle's own lock. It serialises the handle's goroutines,
// which the file lock cannot tell apart (a flock belongs to the open file),
// and unlike a sync.Mutex it lets a waiting goroutine give up when its
// context is done or the handle is closed: the goroutine holding the gate
// may itself be waiting for the file lock, for as long as another process
// holds it.
type gate struct {
	slot   chan struct{} // holds a token while the gate is taken
	closed chan struct{} // closed by shut
	once   sync.Once
}

func newGate() gate {
	return gate{slot: make(chan struct{}, 1), closed: make(chan struct{})}
}

// enter takes the gate, or returns ctx's error (ctx may be nil) or
// ErrClosed.
func (g *gate) enter(ctx context.Context) error {
	select {
	case g.slot <- struct{}{}:
		return nil
	default:
	}
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	select {
	case g.slot <- struct{}{}:
		return nil
	case <-done:
		return ctx.Err()
	case <-g.closed:
		return ErrClosed
	}
}

func (g *gate) leave() { <-g.slot }

// shut makes waiting and later enters return ErrClosed.
func (g *gate) shut() { g.once.Do(func() { close(g.closed) }) }
