// Package deferred converts later the uploads the uploader was too busy to
// convert when they came: the raw upload waits in a pending store under its
// final key, a job in a queue names it, and a worker makes it into exactly
// the original a direct upload stores, then removes the raw bytes.
//
// The pending store must be one the resizer is never given: raw uploads
// still carry everything the conversion strips, GPS positions included.
package deferred

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/sqldb"
	"github.com/imgorigin/imgorigin/jobqueue"
	"github.com/imgorigin/imgorigin/storage"
)

// Upload is one deferred upload: its raw bytes wait under Key.
type Upload struct {
	Key     string `json:"key"`
	Subject string `json:"subject"` // whose upload it is, for the record
	Bytes   int64  `json:"bytes"`
}

// Name names the job in the queue.
func (u Upload) Name() string { return "upload/" + u.Key }

// Queue carries deferred uploads.
type Queue = jobqueue.Queue[Upload]

// Pending is where raw uploads wait.
type Pending interface {
	Get(ctx context.Context, key string) (*storage.Object, error)
	Put(ctx context.Context, key string, data []byte, contentType string, meta storage.Meta) (storage.Info, error)
	Delete(ctx context.Context, key string) error
}

// Deferrer stores raw uploads and queues their conversion: the uploader's
// overload path.
type Deferrer struct {
	Pending Pending
	Queue   Queue
}

// Defer stores raw under key and enqueues its conversion.
func (d Deferrer) Defer(ctx context.Context, subject, key string, raw []byte, contentType string) error {
	if _, err := d.Pending.Put(ctx, key, raw, contentType, nil); err != nil {
		return err
	}
	return d.Queue.Send(ctx, []Upload{{Key: key, Subject: subject, Bytes: int64(len(raw))}})
}

// maxAttempts dead-letters an upload that failed this often: its raw bytes
// stay in the pending store for an operator.
const maxAttempts = 5

//go:embed schema/*.sql
var schema embed.FS

// Worker converts deferred uploads, one at a time: the uploader it runs
// beside is busy already.
type Worker struct {
	pending    Pending
	in         *ingest.Ingester
	queue      Queue
	closeQueue func() error
	log        *slog.Logger
	// Drain makes Run return once no job is left (tests).
	Drain bool
}

// Open opens (creating) the embedded queue in dir/queue.db and returns the
// worker that converts from pending through in. Uploads an earlier version
// queued in dir/state.db are moved into the queue first.
func Open(dir string, pending Pending, in *ingest.Ingester, log *slog.Logger) (*Worker, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	versions, _ := fs.Sub(schema, "schema") // a constant path in the embedded FS
	db, err := sqldb.SQLite(filepath.Join(dir, "queue.db"), versions)
	if err != nil {
		return nil, fmt.Errorf("deferred uploads queue: %w", err)
	}
	q := jobqueue.NewSQLQueue[Upload](db, "deferred_uploads", maxAttempts)
	if err := importEarlier(q, filepath.Join(dir, "state.db")); err != nil {
		db.Close()
		return nil, fmt.Errorf("deferred uploads queued by an earlier version: %w", err)
	}
	return &Worker{pending: pending, in: in, queue: q, closeQueue: db.Close, log: log}, nil
}

// Deferrer is the uploader's way in: it queues uploads for this worker.
func (w *Worker) Deferrer() Deferrer { return Deferrer{Pending: w.pending, Queue: w.queue} }

// visibility hides an upload while it converts: far longer than any
// conversion takes, and extended while it runs.
const visibility = 2 * time.Minute

// Run converts uploads until ctx ends, then closes the queue.
func (w *Worker) Run(ctx context.Context) error {
	defer w.closeQueue()
	return jobqueue.Run(ctx, w.queue, jobqueue.Workers{Concurrency: 1, Visibility: visibility, Drain: w.Drain, Log: w.log},
		func(ctx context.Context, d jobqueue.Delivery[Upload]) error {
			err := w.convert(ctx, d.Job)
			if err != nil {
				w.log.Warn("deferred upload failed; it will be retried", "key", d.Job.Key, "attempt", d.Attempts, "err", err)
			}
			return err
		})
}

// maxRaw bounds a raw upload read back: the uploader took it under its own,
// smaller limit.
const maxRaw = 256 << 20

// convert stores the original (and its small copy) under the upload's key,
// then removes the raw bytes. Each step is idempotent: a job delivered
// again after a crash converts again, or finds nothing left to do.
func (w *Worker) convert(ctx context.Context, u Upload) error {
	obj, err := w.pending.Get(ctx, u.Key)
	if errors.Is(err, storage.ErrNotFound) {
		w.log.Info("deferred upload already converted", "key", u.Key)
		return nil
	}
	var raw []byte
	if err == nil {
		raw, err = storage.ReadAll(obj, maxRaw)
	}
	if err != nil {
		return fmt.Errorf("read the raw upload: %w", err)
	}
	res, err := w.in.Prepare(u.Key, raw)
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	if err := w.in.Save(ctx, &res); err != nil {
		return err
	}
	return w.pending.Delete(ctx, u.Key)
}
