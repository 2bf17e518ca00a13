package resizer

import (
	"context"
	"errors"
	"sync/atomic"
)

// errOverloaded means the render queue is full: answer 503 now rather than
// queue without bound.
var errOverloaded = errors.New("overloaded: render queue is full")

// pool bounds concurrent libvips work to size slots and the requests waiting
// for one to queue; past that, acquire fails at once.
type pool struct {
	slots   chan struct{}
	queue   int64
	waiting atomic.Int64
}

func newPool(size, queue int) *pool {
	return &pool{slots: make(chan struct{}, size), queue: int64(queue)}
}

// acquire takes a slot, waiting while ctx lives; release it when done.
func (p *pool) acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if p.waiting.Add(1) > p.queue {
		p.waiting.Add(-1)
		return errOverloaded
	}
	defer p.waiting.Add(-1)
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pool) release() { <-p.slots }

func (p *pool) inFlight() int { return len(p.slots) }
