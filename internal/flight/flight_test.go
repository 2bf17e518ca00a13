package flight

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testwait"
)

func TestCallersShareOneRun(t *testing.T) {
	var g Group[int]
	var runs atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	results := make(chan int, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _, err := g.Do(context.Background(), "k", func(context.Context) (int, error) {
				runs.Add(1)
				<-release
				return 42, nil
			})
			if err != nil {
				t.Error(err)
			}
			results <- v
		}()
	}
	testwait.For(t, "10 callers on one call", func() bool { return waiters(&g, "k") == 10 })
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v != 42 {
			t.Fatalf("got %d", v)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
}

func TestWorkSurvivesTheFirstCallerButNotTheLast(t *testing.T) {
	var g Group[int]
	workCtx := make(chan context.Context, 1)
	fn := func(ctx context.Context) (int, error) {
		workCtx <- ctx
		<-ctx.Done()
		return 0, ctx.Err()
	}
	first, cancelFirst := context.WithCancel(context.Background())
	second, cancelSecond := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { _, _, err := g.Do(first, "k", fn); errs <- err }()
	wctx := <-workCtx
	go func() { _, _, err := g.Do(second, "k", fn); errs <- err }()
	testwait.For(t, "the second caller to join", func() bool { return waiters(&g, "k") == 2 })

	cancelFirst()
	<-errs
	// A caller that leaves cancels the work before Do returns, or never.
	if wctx.Err() != nil {
		t.Fatal("work cancelled while a caller still waits")
	}
	cancelSecond()
	<-errs
	select {
	case <-wctx.Done():
	case <-time.After(time.Second):
		t.Fatal("work goes on after every caller left")
	}
	// The next caller starts new work rather than joining the cancelled one.
	v, shared, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 7, nil })
	if v != 7 || shared || err != nil {
		t.Fatalf("after abandonment: %d, shared=%v, %v", v, shared, err)
	}
}

// waiters is how many callers wait on key's call now.
func waiters[V any](g *Group[V], key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.calls[key]; c != nil {
		return c.waiters
	}
	return 0
}
