package disk

import (
	"context"
	"errors"
	"fmt"
)

// ErrStalled means a filesystem call outlived its caller's deadline: the
// directory is on a mount that has stopped answering (a hung NFS server, a
// stalled FUSE daemon). It is the store's failure, not the key's.
var ErrStalled = errors.New("disk store: the filesystem did not answer in time")

// gate runs filesystem calls on goroutines of their own, at most cap(slots)
// at once. A caller gives up at its deadline; a call the kernel cannot
// interrupt keeps its goroutine, and so one OS thread, blocked, but one
// store never holds more threads than it has slots: a hung mount costs
// failed reads, not the process.
type gate struct{ slots chan struct{} }

// maxCalls bounds the filesystem calls of one store at once: enough for
// every render slot of a large machine to wait on a read.
const maxCalls = 16

func newGate(n int) *gate { return &gate{slots: make(chan struct{}, n)} }

// call runs fn under the gate and returns its result, or ErrStalled once ctx
// is done. A result that arrives after the caller has gone is handed to drop
// (to close a file it opened).
func call[T any](ctx context.Context, g *gate, fn func() (T, error), drop func(T)) (T, error) {
	var zero T
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return zero, stalled(ctx)
	}
	type result struct {
		v   T
		err error
	}
	out := make(chan result) // unbuffered: a hand-over happens at most once
	go func() {
		defer func() { <-g.slots }()
		v, err := fn()
		select {
		case out <- result{v, err}:
		case <-ctx.Done():
			if err == nil && drop != nil {
				drop(v)
			}
		}
	}()
	select {
	case r := <-out:
		return r.v, r.err
	case <-ctx.Done():
		return zero, stalled(ctx)
	}
}

func stalled(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err() // the caller left; says nothing of the filesystem
	}
	return fmt.Errorf("%w: %w", ErrStalled, ctx.Err())
}
