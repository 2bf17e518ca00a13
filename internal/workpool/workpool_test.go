package workpool

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testwait"
)

func TestPoolBoundsWorkAndQueue(t *testing.T) {
	p := New(2, 1)
	ctx := context.Background()
	for range 2 {
		if err := p.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	queued := make(chan error)
	go func() { queued <- p.Acquire(ctx) }()
	testwait.For(t, "one acquire queued", func() bool { return p.Waiting() == 1 })
	if err := p.Acquire(ctx); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("past the queue: %v, want ErrOverloaded", err)
	}
	p.Release()
	if err := <-queued; err != nil {
		t.Fatalf("queued caller: %v", err)
	}
	if p.InFlight() != 2 || p.Waiting() != 0 {
		t.Fatalf("in flight %d, waiting %d", p.InFlight(), p.Waiting())
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := p.Acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the deadline: %v", err)
	}
	if p.Waiting() != 0 {
		t.Fatal("a caller that gave up still counts as waiting")
	}
}
