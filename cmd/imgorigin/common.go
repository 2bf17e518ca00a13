package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/secrets"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/storeurl"
)

// storeFlags are the flags of every role that reads or writes originals.
type storeFlags struct {
	data        string
	store       string
	s3Endpoint  string
	s3Region    string
	s3PathStyle bool
	logLevel    string
	logFormat   string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "data directory: the embedded store, development keys and local state")
	fs.StringVar(&f.store, "store", "", "where originals live: a path or file:///abs/path (disk), or s3://bucket/prefix; default DATA/originals")
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "S3 endpoint URL for S3-compatible servers (default: AWS)")
	fs.StringVar(&f.s3Region, "s3-region", "us-east-1", "S3 region")
	fs.BoolVar(&f.s3PathStyle, "s3-path-style", false, "address S3 buckets by path (most S3-compatible servers need it)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "json", "json or text")
}

func (f *storeFlags) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch f.logFormat {
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	case "text":
		h = slog.NewTextHandler(os.Stderr, opts)
	default:
		return nil, fmt.Errorf("--log-format must be json or text, not %q", f.logFormat)
	}
	log := slog.New(server.LogHandler(h))
	slog.SetDefault(log) // for what logs through the default logger: the AWS SDK (internal/awslog)
	return log, nil
}

func (f *storeFlags) openStore(ctx context.Context) (storage.Store, error) {
	u := f.store
	if u == "" {
		u = filepath.Join(f.data, "originals")
	}
	return storeurl.Open(ctx, u, f.s3Defaults())
}

func (f *storeFlags) s3Defaults() storeurl.S3Defaults {
	return storeurl.S3Defaults{Endpoint: f.s3Endpoint, Region: f.s3Region, PathStyle: f.s3PathStyle}
}

// ingester converts into st with the object-key secret under --data: uploads,
// import and migration must derive keys alike.
func (f *storeFlags) ingester(st ingest.Store, original imaging.OriginalConfig, log *slog.Logger) (*ingest.Ingester, error) {
	secret, err := f.keySecret(log)
	if err != nil {
		return nil, err
	}
	return ingest.New(st, ingest.Config{Limits: imaging.DefaultLimits(), Original: original, KeySecret: secret})
}

// keySecret is the secret behind object keys: created under --data on first
// use in development (and said so in the log).
func (f *storeFlags) keySecret(log *slog.Logger) ([]byte, error) {
	path := filepath.Join(f.data, "keys", "object-key-secret")
	s, created, err := secrets.LoadOrCreate(path)
	if created {
		log.Warn("created a development object-key secret; keep it safe, keys derive from it", "path", path)
	}
	return s, err
}

func startVips(log *slog.Logger) error {
	return imaging.Start(imaging.Config{}, log)
}
