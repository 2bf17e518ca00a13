// Package jobqueue carries jobs to workers and runs the workers' loop. The
// jobs are the migration's groups of legacy photos and the uploads the
// uploader was too busy to convert (package deferred); the queue is SQS on
// many machines (SQSQueue) or a table in the owner's database on one
// (SQLQueue).
package jobqueue

import (
	"context"
	"time"
)

// Job is what a queue carries: JSON-encoded, named for deduplication (a
// job sent twice under one name while the first is queued is kept once by
// SQLQueue).
type Job interface {
	Name() string
}

// Ticket is a received job's handle: Ack it when done, Extend it while
// working.
type Ticket struct {
	ID       string
	Receipt  string
	Attempts int
}

// Delivery is a received job and its ticket.
type Delivery[J Job] struct {
	Ticket
	Job J
}

// Queue carries jobs to workers. A job not acked within its visibility
// timeout is delivered again, so every step a worker takes must be idempotent.
type Queue[J Job] interface {
	Send(ctx context.Context, jobs []J) error
	Receive(ctx context.Context, max int, visibility time.Duration) ([]Delivery[J], error)
	Extend(ctx context.Context, t Ticket, visibility time.Duration) error
	Ack(ctx context.Context, t Ticket) error
	// Counts says how many jobs are pending (queued or in flight) and how
	// many were dead-lettered: status reports them, and draining ends at
	// zero pending.
	Counts(ctx context.Context) (pending, dead int, err error)
}
