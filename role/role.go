// Package role assembles what one process serves from a Config: its stores,
// the resizer and the uploader mounted on the listeners, readiness checks,
// and background workers. cmd/imgorigin turns flags into a Config; the
// benchmark builds the same thing through New, with the routes users get.
package role

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgorigin/imgorigin/cdn"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/resizer"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/token"
)

// Config of one process's roles: the resizer, the uploader, or both (the
// embedded default, `serve`).
type Config struct {
	Server server.Config
	Stores Stores
	// Resizer, when set, serves GET /{key} from the stores' originals.
	Resizer *resizer.Config
	// Uploads, when set, serves /v1/ and writes originals to the home store.
	Uploads *Uploads
	// Dev creates missing keys under the data directory (the embedded
	// default); fleet roles refuse to start without them.
	Dev bool
}

// Role is an assembled process: its server, and what runs beside it.
type Role struct {
	Server  *server.Server
	Resizer *resizer.Handler
	// Keys are the uploader's token keys, when it has one: what mints the
	// tokens its clients (the benchmark's, a test's) upload with.
	Keys    *token.KeySet
	workers []interface{ Run(context.Context) error }
}

// New opens the stores and builds the handlers and the server, refusing a
// store that would serve private files. libvips must be started.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Role, error) {
	private := map[string]string{"--data's keys": filepath.Join(cfg.Stores.Data, "keys")}
	if u := cfg.Uploads; u != nil {
		for name, url := range map[string]string{"--pending-store": u.PendingURL(cfg.Stores.Data), "--archive-store": u.ArchiveStore} {
			if url != "" {
				private[name] = url
			}
		}
	}
	stores := &cfg.Stores
	if err := stores.CheckPrivate(private); err != nil {
		return nil, err
	}
	srv := server.New(cfg.Server, nil, log)
	srv.Registry.MustRegister(libvipsMemory()...)
	r := &Role{Server: srv}
	var checks []server.Check
	if cfg.Resizer != nil {
		originals, c, err := stores.Originals(ctx, srv.Registry)
		if err != nil {
			return nil, err
		}
		if r.Resizer, err = resizer.New(originals, *cfg.Resizer, log, srv.Registry); err != nil {
			return nil, err
		}
		checks = c
		srv.Handle("GET /", r.Resizer) // and HEAD; other methods get the router's 405, never cached
	}
	if cfg.Uploads != nil {
		home, err := stores.HomeStore(ctx)
		if err != nil {
			return nil, err
		}
		if checks == nil {
			checks = storeChecks(map[string]storage.Store{"store": home}, "store")
		}
		up, worker, err := cfg.Uploads.newUploader(ctx, stores, home, cfg.Server.Addr, cfg.Dev, log, srv.Registry)
		if err != nil {
			return nil, err
		}
		cleanDebris(home, log)
		deleter, err := stores.Deleter(ctx, srv.Registry)
		if err != nil {
			return nil, err
		}
		var forget []func([]string)
		if r.Resizer != nil { // this process's caches drop a deleted photo at once
			forget = append(forget, func(keys []string) { r.Resizer.Forget(keys...) })
		}
		if id := cfg.Uploads.CloudFrontDistribution; id != "" {
			cf, err := cdn.NewCloudFront(ctx, cdn.CloudFrontConfig{Distribution: id}, log)
			if err != nil {
				return nil, err
			}
			forget = append(forget, cf.Invalidate)
			r.workers = append(r.workers, cf)
		}
		up.SetDeleter(deleter, func(keys []string) {
			for _, f := range forget {
				f(keys)
			}
		})
		up.Register(srv)
		r.Keys = up.Keys()
		if worker != nil {
			r.workers = append(r.workers, worker)
		}
	}
	for _, c := range checks {
		srv.AddCheck(c)
	}
	return r, nil
}

// Run serves until ctx is done, then drains; the workers live as long as
// the server.
func (r *Role) Run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, len(r.workers))
	for _, w := range r.workers {
		go func() { done <- w.Run(ctx) }()
	}
	errs := []error{r.Server.Run(ctx)}
	stop()
	for range r.workers {
		errs = append(errs, <-done)
	}
	return errors.Join(errs...)
}

// libvipsMemory is what libvips holds in pixel buffers, and its high water.
func libvipsMemory() []prometheus.Collector {
	gauge := func(name, help string, v func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, v)
	}
	return []prometheus.Collector{
		gauge("imgorigin_libvips_memory_bytes", "Bytes libvips holds in the pixel buffers it tracks (not its codecs' own: RSS has those).",
			func() float64 { now, _ := imaging.Memory(); return float64(now) }),
		gauge("imgorigin_libvips_memory_high_bytes", "The most bytes libvips has held in tracked pixel buffers since the process started.",
			func() float64 { _, high := imaging.Memory(); return float64(high) }),
	}
}
