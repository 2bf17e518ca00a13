// Package jobqueue carries conversion jobs to workers: the migration's
// groups of legacy photos, and uploads the uploader was too busy to convert
// (Deferred). The queue is SQS on many machines (SQSQueue) or a table beside
// the migration's progress store on one (migrate.State.Queue).
package jobqueue

import (
	"context"
	"time"
)

// Job is one group's work: its legacy photos and their thumbnails.
type Job struct {
	// ID names the job in the queue; default Group.
	ID     string     `json:"id,omitempty"`
	Group  string     `json:"group"`
	Photos []JobPhoto `json:"photos"`
	// Subject owns the new originals (their keys derive from it); default Group.
	Subject string `json:"subject,omitempty"`
}

// Name names the job in the queue: ID, else Group.
func (j Job) Name() string {
	if j.ID != "" {
		return j.ID
	}
	return j.Group
}

// Owner is the subject the job's new originals belong to: Subject, else Group.
func (j Job) Owner() string {
	if j.Subject != "" {
		return j.Subject
	}
	return j.Group
}

// JobPhoto is one legacy original and the thumbnails generated from it.
type JobPhoto struct {
	Original      string   `json:"original"`
	OriginalBytes int64    `json:"original_bytes"`
	Thumbnails    []string `json:"thumbnails"`
	ThumbBytes    int64    `json:"thumbnail_bytes"`
	// DeleteOriginal deletes this original once replaced, whatever the
	// worker's setting: a deferred upload's raw bytes are not kept.
	DeleteOriginal bool `json:"delete_original,omitempty"`
}

// Delivery is a received job; Ack it when done, Extend it while working.
type Delivery struct {
	Job      Job
	ID       string
	Receipt  string
	Attempts int
}

// Queue carries jobs to workers. A job not acked within its visibility
// timeout is delivered again, so every step a worker takes must be idempotent.
type Queue interface {
	Send(ctx context.Context, jobs []Job) error
	Receive(ctx context.Context, max int, visibility time.Duration) ([]Delivery, error)
	Extend(ctx context.Context, d Delivery, visibility time.Duration) error
	Ack(ctx context.Context, d Delivery) error
	// Counts says how many jobs are pending (queued or in flight) and how
	// many were dead-lettered: status reports them, and draining ends at
	// zero pending.
	Counts(ctx context.Context) (pending, dead int, err error)
}
