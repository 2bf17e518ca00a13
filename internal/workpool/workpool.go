// Package workpool bounds concurrent CPU-heavy work (libvips operations) with a
// bounded wait queue: past the queue, callers are refused at once so a server
// answers 503 quickly instead of queueing without bound.
package workpool

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrOverloaded means the wait queue is full: answer 503 now.
var ErrOverloaded = errors.New("overloaded: work queue is full")

// Pool bounds concurrent work to size slots and the callers waiting for one
// to queue; past that, Acquire fails at once.
type Pool struct {
	slots   chan struct{}
	queue   int64
	waiting atomic.Int64
}

// New returns a pool of size slots with queue waiting places.
func New(size, queue int) *Pool {
	return &Pool{slots: make(chan struct{}, size), queue: int64(queue)}
}

// Acquire takes a slot, waiting while ctx lives; Release it when done.
func (p *Pool) Acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if p.waiting.Add(1) > p.queue {
		p.waiting.Add(-1)
		return ErrOverloaded
	}
	defer p.waiting.Add(-1)
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release frees a slot taken by Acquire.
func (p *Pool) Release() { <-p.slots }

// InFlight is how many slots are taken.
func (p *Pool) InFlight() int { return len(p.slots) }

// Waiting is how many callers wait for a slot.
func (p *Pool) Waiting() int64 { return p.waiting.Load() }
