package role

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/jobqueue"
	"github.com/imgorigin/imgorigin/migrate"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/storeurl"
)

// MigrationConfig is what `imgorigin migrate` is put together from.
type MigrationConfig struct {
	// Stores are where the new originals go (the home store) and --data.
	Stores Stores
	// Source is the legacy store's URL; Originals and Thumbnails the
	// templates of its keys (migrate.ParseLayout).
	Source                string
	Originals, Thumbnails string
	// StateDir holds the embedded queue and progress store (default
	// DATA/migrate); DB and QueueURL replace them for runs on many machines.
	StateDir, DB, QueueURL string
	// MaxAttempts is how many deliveries a job gets before it is dead-lettered.
	MaxAttempts int
	// StoreRate bounds requests per second to each store (0: unbounded).
	StoreRate float64
	Worker    migrate.WorkerConfig
	// ProgressEvery is how often Work logs progress (0: never).
	ProgressEvery time.Duration
}

// Migration is a migration's progress store, queue and layout, open.
type Migration struct {
	State  *migrate.State
	Queue  migrate.Queue
	Layout *migrate.Layout
	cfg    MigrationConfig
}

// OpenMigration opens the progress store and the queue, and reads the layout.
func OpenMigration(ctx context.Context, cfg MigrationConfig) (*Migration, error) {
	layout, err := migrate.ParseLayout(cfg.Originals, cfg.Thumbnails)
	if err != nil {
		return nil, err
	}
	state, err := migrate.Open(cfg.DB, cmp.Or(cfg.StateDir, filepath.Join(cfg.Stores.Data, "migrate")))
	if err != nil {
		return nil, err
	}
	m := &Migration{State: state, Queue: state.Queue(cfg.MaxAttempts), Layout: layout, cfg: cfg}
	if cfg.QueueURL != "" {
		qc, err := jobqueue.ParseSQSURL(cfg.QueueURL)
		if err == nil {
			qc.MaxAttempts = cfg.MaxAttempts
			m.Queue, err = jobqueue.OpenSQS[migrate.Job](ctx, qc)
		}
		if err != nil {
			state.Close()
			return nil, err
		}
	}
	return m, nil
}

// Close closes the progress store.
func (m *Migration) Close() error { return m.State.Close() }

// Source opens the legacy store, throttled.
func (m *Migration) Source(ctx context.Context) (storage.Store, error) {
	if m.cfg.Source == "" {
		return nil, fmt.Errorf("--source is required")
	}
	src, err := storeurl.Open(ctx, m.cfg.Source, m.cfg.Stores.S3)
	return storage.Throttle(src, m.cfg.StoreRate), err
}

// Work takes jobs and migrates them until ctx ends (or, with Worker.Drain,
// none is left), counting into reg when it is not nil. libvips must be
// started.
func (m *Migration) Work(ctx context.Context, reg prometheus.Registerer, log *slog.Logger) error {
	src, err := m.Source(ctx)
	if err != nil {
		return err
	}
	dst, err := m.cfg.Stores.HomeStore(ctx)
	if err != nil {
		return err
	}
	dst = storage.Throttle(dst, m.cfg.StoreRate)
	in, err := m.cfg.Stores.Ingester(dst, imaging.DefaultOriginal(), log)
	if err != nil {
		return err
	}
	wc := m.cfg.Worker
	if reg != nil {
		wc.Metrics = migrate.NewMetrics(reg)
	}
	if m.cfg.ProgressEvery > 0 {
		pctx, stop := context.WithCancel(ctx)
		defer stop()
		go migrate.ReportProgress(pctx, m.State, m.Queue, wc.Metrics, m.cfg.ProgressEvery, log)
	}
	return migrate.NewWorker(src, dst, in, m.State, m.Queue, wc, log).Run(ctx)
}
