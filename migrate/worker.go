package migrate

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/time/rate"

	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/tracing"
	"github.com/imgorigin/imgorigin/jobqueue"
	"github.com/imgorigin/imgorigin/storage"
)

// Source is what the worker needs of the legacy bucket.
type Source interface {
	Get(ctx context.Context, key string) (*storage.Object, error)
	DeleteMany(ctx context.Context, keys []string) error
}

// Target is what the worker needs of where new originals go.
type Target interface {
	Head(ctx context.Context, key string) (storage.Info, error)
}

// WorkerConfig tunes a worker.
type WorkerConfig struct {
	// Concurrency is how many jobs (groups) one worker runs at once: the cap
	// on jobs in flight per worker. Default 2.
	Concurrency int
	// Visibility is how long a received job stays hidden from other workers;
	// it is extended every third of it while the job runs. Default 2 min.
	Visibility time.Duration
	// DeleteOriginals also deletes the legacy original once its replacement
	// is verified. Off by default.
	DeleteOriginals bool
	// DeleteRate bounds objects deleted per second by this worker (S3 throttles
	// a bucket past roughly 10 million a minute across all workers). Default 2000.
	DeleteRate float64
	// Drain makes Run return once no job is queued or in flight.
	Drain bool
	// Metrics, when set, count this worker's jobs, photos and bytes saved.
	Metrics *Metrics
	// Hook, in tests, is called before each step ("convert", "put", "verify",
	// "record", "delete", "record-done") and fails it by returning an error.
	Hook func(step, key string) error
}

// maxLegacyOriginal bounds a legacy original read into memory: camera JPEGs
// stay under 50 MB, so an object of 256 MiB is not a photo.
const maxLegacyOriginal = 256 << 20

// Worker migrates groups from the queue.
type Worker struct {
	src     Source
	dst     Target
	in      *ingest.Ingester
	state   *State
	queue   Queue
	cfg     WorkerConfig
	deletes *rate.Limiter
	log     *slog.Logger
}

// DefaultWorkerConfig is a WorkerConfig with its defaults filled in: flags
// take their defaults from it.
func DefaultWorkerConfig() WorkerConfig {
	return WorkerConfig{Concurrency: 2, Visibility: 2 * time.Minute, DeleteRate: 2000}
}

// NewWorker returns a worker; in converts and stores into the target. What
// cfg leaves zero takes DefaultWorkerConfig's value.
func NewWorker(src Source, dst Target, in *ingest.Ingester, state *State, queue Queue, cfg WorkerConfig, log *slog.Logger) *Worker {
	def := DefaultWorkerConfig()
	if cfg.Concurrency < 1 {
		cfg.Concurrency = def.Concurrency
	}
	if cfg.Visibility <= 0 {
		cfg.Visibility = def.Visibility
	}
	if cfg.DeleteRate <= 0 {
		cfg.DeleteRate = def.DeleteRate
	}
	return &Worker{src: src, dst: dst, in: in, state: state, queue: queue, cfg: cfg,
		deletes: rate.NewLimiter(rate.Limit(cfg.DeleteRate), 1000), log: log}
}

// Run takes jobs until ctx ends, or with Drain until none is left.
func (w *Worker) Run(ctx context.Context) error {
	return jobqueue.Run(ctx, w.queue, jobqueue.Workers{Concurrency: w.cfg.Concurrency, Visibility: w.cfg.Visibility, Drain: w.cfg.Drain, Log: w.log},
		func(ctx context.Context, d jobqueue.Delivery[Job]) error {
			err := w.MigrateGroup(ctx, d.Job)
			if err != nil {
				w.cfg.Metrics.groupFailed()
				w.log.Warn("migrate: group failed; it will be retried", "group", d.Job.Group, "attempt", d.Attempts, "err", err)
			}
			return err
		})
}

func (w *Worker) hook(step, key string) error {
	if w.cfg.Hook == nil {
		return nil
	}
	return w.cfg.Hook(step, key)
}

// MigrateGroup converts every photo of the job, then deletes the legacy
// thumbnails of the verified ones, then records them done. Every step is
// idempotent: run it twice, or stop it anywhere and run it again, and the end
// state is the same. Nothing is deleted before its replacement is verified.
func (w *Worker) MigrateGroup(ctx context.Context, job Job) (err error) {
	ctx, span := tracing.Start(ctx, "migrate group", attribute.String("group", job.Group), attribute.Int("photos", len(job.Photos)))
	defer func() { tracing.End(span, err) }()
	var ready []PhotoRecord
	var doomed []string
	for _, p := range job.Photos {
		rec, err := w.migratePhoto(ctx, job.Group, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Original, err)
		}
		if rec.State == StateDone {
			continue
		}
		ready = append(ready, rec)
		doomed = append(doomed, p.Thumbnails...)
		if w.cfg.DeleteOriginals {
			doomed = append(doomed, p.Original)
		}
	}
	for start := 0; start < len(doomed); start += 1000 {
		batch := doomed[start:min(start+1000, len(doomed))]
		if err := w.hook("delete", batch[0]); err != nil {
			return err
		}
		if err := w.deletes.WaitN(ctx, len(batch)); err != nil {
			return err
		}
		if err := tracing.Step(ctx, "delete legacy", func(ctx context.Context) error { return w.src.DeleteMany(ctx, batch) }); err != nil {
			return fmt.Errorf("delete legacy objects: %w", err)
		}
	}
	for i := range ready {
		rec := &ready[i]
		if err := w.hook("record-done", rec.OldKey); err != nil {
			return err
		}
		rec.State = StateDone
		rec.OriginalDel = rec.OriginalDel || w.cfg.DeleteOriginals
		if err := w.state.PutPhoto(ctx, *rec); err != nil {
			return err
		}
	}
	if err := w.state.SetGroup(ctx, job.Group, len(job.Photos), StateDone); err != nil {
		return err
	}
	w.cfg.Metrics.groupDone(ready)
	return nil
}

// migratePhoto brings one photo to "converted" (or finds it done): the
// record and the target object must agree, else it is converted again.
func (w *Worker) migratePhoto(ctx context.Context, group string, p JobPhoto) (PhotoRecord, error) {
	rec, found, err := w.state.Photo(ctx, p.Original)
	if err != nil {
		return rec, err
	}
	if found {
		if _, err := w.dst.Head(ctx, rec.NewKey); err == nil {
			return rec, nil // converted or done, and the object is there
		} else if !errors.Is(err, storage.ErrNotFound) {
			return rec, err
		}
		w.log.Warn("migrate: recorded original missing from the target; converting again", "old", p.Original, "new", rec.NewKey)
	}
	if err := w.hook("convert", p.Original); err != nil {
		return rec, err
	}
	var data []byte
	if err := tracing.Step(ctx, "read legacy", func(ctx context.Context) error {
		obj, err := w.src.Get(ctx, p.Original)
		if err == nil {
			data, err = storage.ReadAll(obj, maxLegacyOriginal)
		}
		return err
	}); err != nil {
		return rec, fmt.Errorf("read legacy original: %w", err)
	}
	var res ingest.Result
	if err := tracing.Step(ctx, "convert", func(context.Context) (err error) {
		res, err = w.in.Prepare(w.in.Key(group, data), data)
		return err
	}); err != nil {
		return rec, fmt.Errorf("convert: %w", err)
	}
	if err := w.hook("put", res.Key); err != nil {
		return rec, err
	}
	if err := tracing.Step(ctx, "store", func(ctx context.Context) error { return w.in.Save(ctx, &res) }); err != nil {
		return rec, err
	}
	if err := w.hook("verify", res.Key); err != nil {
		return rec, err
	}
	var info storage.Info
	if err := tracing.Step(ctx, "verify", func(ctx context.Context) (err error) {
		info, err = w.dst.Head(ctx, res.Key)
		return err
	}); err != nil {
		return rec, fmt.Errorf("verify: %w", err)
	}
	sum := md5.Sum(res.Data)
	if info.Size != res.Bytes || (isMD5(info.ETag) && info.ETag != hex.EncodeToString(sum[:])) {
		return rec, fmt.Errorf("verify %s: stored %d bytes (ETag %s), wrote %d", res.Key, info.Size, info.ETag, res.Bytes)
	}
	if err := w.hook("record", p.Original); err != nil {
		return rec, err
	}
	rec = PhotoRecord{OldKey: p.Original, Group: group, NewKey: res.Key, Width: res.Width, Height: res.Height,
		OldBytes: p.OriginalBytes, NewBytes: res.Bytes, Thumbnails: len(p.Thumbnails), ThumbBytes: p.ThumbBytes,
		State: StateConverted}
	return rec, w.state.PutPhoto(ctx, rec)
}

// isMD5 reports whether a store's ETag is the MD5 of the bytes (S3's for a
// single PUT, the disk store's for what it wrote), not an opaque one (a disk
// file's size and mtime when two workers raced to write it).
func isMD5(etag string) bool {
	if len(etag) != 32 {
		return false
	}
	_, err := hex.DecodeString(etag)
	return err == nil
}
