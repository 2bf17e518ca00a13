package jobqueue

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Workers says how Run takes jobs.
type Workers struct {
	// Concurrency is how many jobs run at once (at least 1).
	Concurrency int
	// Visibility is how long a received job stays hidden from other
	// workers; it is extended every third of it while the job runs.
	Visibility time.Duration
	// Drain makes Run return once no job is queued or in flight.
	Drain bool
	// Log records acks that failed (the job runs again, harmlessly).
	Log *slog.Logger
}

// Run takes jobs from q until ctx ends (or, with Drain, until none is left)
// and hands each to do, keeping it hidden while do runs. A job do fails is
// not acked: the queue delivers it again after its visibility timeout (the
// backoff), and dead-letters it after too many attempts.
func Run[J Job](ctx context.Context, q Queue[J], w Workers, do func(context.Context, Delivery[J]) error) error {
	sem := make(chan struct{}, max(1, w.Concurrency))
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		// Wait for a free slot, then ask for as many jobs as slots are free
		// (only this loop takes slots, so the others stay free).
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		free := 1 + cap(sem) - len(sem)
		ds, err := q.Receive(ctx, free, w.Visibility)
		if err != nil {
			<-sem
			return err
		}
		if len(ds) == 0 {
			<-sem
			if w.Drain && len(sem) == 0 {
				left, _, err := q.Counts(ctx)
				if err != nil {
					return err
				}
				if left == 0 {
					return nil
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		for i, d := range ds {
			if i > 0 {
				sem <- struct{}{}
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				process(ctx, q, w, d, do)
			}()
		}
	}
	return nil
}

// process runs one job, extending its visibility while it runs, and acks
// it if do succeeds.
func process[J Job](ctx context.Context, q Queue[J], w Workers, d Delivery[J], do func(context.Context, Delivery[J]) error) {
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		t := time.NewTicker(w.Visibility / 3)
		defer t.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-t.C:
				_ = q.Extend(jctx, d.Ticket, w.Visibility)
			}
		}
	}()
	if do(jctx, d) != nil {
		return
	}
	if err := q.Ack(ctx, d.Ticket); err != nil && w.Log != nil {
		w.Log.Warn("jobqueue: ack failed; the job will run again (harmlessly)", "job", d.Job.Name(), "err", err)
	}
}
