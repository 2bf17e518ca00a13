package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/role"
	"github.com/imgorigin/imgorigin/server"
)

// storeFlags are the flags of every command that reads or writes
// originals: where the stores are (role.Stores), and logging.
type storeFlags struct {
	role.Stores
	logLevel  string
	logFormat string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.Data, "data", "./data", "data directory: the embedded store, development keys and local state")
	fs.StringVar(&f.Store, "store", "", "where originals live: a path or file:///abs/path (disk), or s3://bucket/prefix; default DATA/originals")
	fs.StringVar(&f.S3.Endpoint, "s3-endpoint", "", "S3 endpoint URL for S3-compatible servers (default: AWS)")
	fs.StringVar(&f.S3.Region, "s3-region", "us-east-1", "S3 region")
	fs.BoolVar(&f.S3.PathStyle, "s3-path-style", false, "address S3 buckets by path (most S3-compatible servers need it)")
	fs.StringVar(&f.Fleet, "stores", "", "named regional stores instead of --store: 'tokyo=s3://photos-apne1?region=ap-northeast-1,frankfurt=s3://photos-euc1?region=eu-central-1', or @FILE with one NAME=URL a line")
	fs.StringVar(&f.Home, "home", "", "with --stores: the store this process writes to (uploads, import, migrate), which keys then name")
	fs.StringVar(&f.Replica, "replica", "", "with --stores, for a resizer: a store kept in sync by replication, read first for keys homed elsewhere (a miss reads the home)")
	fs.StringVar(&f.Legacy, "legacy-store", "", "with --stores: the store that holds keys without a home prefix, from before --stores (default: the first one)")
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

// startVips starts libvips (which bounds glibc's malloc arenas) and, in a
// container with a memory limit and no GOMEMLIMIT given, sets Go's soft
// limit to goMemoryShare of it: Go's heap then collects harder instead of
// growing into the room libvips' C memory needs.
func startVips(log *slog.Logger) error {
	limit, err := memlimit.Set(memlimit.WithRatio(goMemoryShare))
	switch {
	case err != nil && !errors.Is(err, memlimit.ErrNoCgroup) && !errors.Is(err, memlimit.ErrCgroupsNotSupported):
		log.Warn("no memory limit read from the cgroup", "err", err)
	case limit > 0 && limit < math.MaxInt64:
		log.Info("Go memory limit", "gomemlimit_bytes", limit)
	}
	return imaging.Start(imaging.Config{}, log)
}

// goMemoryShare is Go's part of a container's memory limit; the rest is for
// libvips' renders (tens of MB each, one per core) and glibc's arenas.
const goMemoryShare = 0.7
