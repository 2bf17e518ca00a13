// Package flight runs one piece of work for every concurrent caller that asks
// for the same key, like singleflight, with one difference that matters to a
// server under attack: the work runs on a context of its own, detached from the
// first caller's, and is cancelled as soon as no caller waits for it any more.
// Work nobody will receive stops at its next check instead of holding a slot.
package flight

import (
	"context"
	"sync"
)

// Group coalesces calls by key. The zero Group is ready to use.
type Group[V any] struct {
	mu    sync.Mutex
	calls map[string]*call[V]
}

type call[V any] struct {
	done    chan struct{}
	val     V
	err     error
	waiters int
	cancel  context.CancelFunc
}

// Do returns fn's result for key, running fn once for all callers that ask
// while it runs; shared reports that this caller joined another's work. A
// caller whose ctx ends stops waiting with ctx's error; when the last one
// does, fn's context is cancelled and the next caller starts afresh.
func (g *Group[V]) Do(ctx context.Context, key string, fn func(context.Context) (V, error)) (v V, shared bool, err error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*call[V]{}
	}
	c, shared := g.calls[key]
	if shared {
		c.waiters++
	} else {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &call[V]{done: make(chan struct{}), waiters: 1, cancel: cancel}
		g.calls[key] = c
		go func() {
			c.val, c.err = fn(wctx)
			g.forget(key, c)
			cancel()
			close(c.done)
		}()
	}
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.val, shared, c.err
	case <-ctx.Done():
		g.mu.Lock()
		c.waiters--
		abandoned := c.waiters == 0
		g.mu.Unlock()
		if abandoned {
			g.forget(key, c)
			c.cancel()
		}
		return v, shared, ctx.Err()
	}
}

// forget removes c unless a newer call already took its key.
func (g *Group[V]) forget(key string, c *call[V]) {
	g.mu.Lock()
	if g.calls[key] == c {
		delete(g.calls, key)
	}
	g.mu.Unlock()
}
