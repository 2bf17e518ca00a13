package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/secrets"
	"github.com/imgorigin/imgorigin/resizer"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/regions"
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
	// A fleet of regional stores (--stores) replaces --store.
	stores      string
	home        string
	replica     string
	legacyStore string
	// Opened once, shared by the roles of one process.
	single storage.Store
	fleet  map[string]storage.Store
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "data directory: the embedded store, development keys and local state")
	fs.StringVar(&f.store, "store", "", "where originals live: a path or file:///abs/path (disk), or s3://bucket/prefix; default DATA/originals")
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "S3 endpoint URL for S3-compatible servers (default: AWS)")
	fs.StringVar(&f.s3Region, "s3-region", "us-east-1", "S3 region")
	fs.BoolVar(&f.s3PathStyle, "s3-path-style", false, "address S3 buckets by path (most S3-compatible servers need it)")
	fs.StringVar(&f.stores, "stores", "", "named regional stores instead of --store: 'tokyo=s3://photos-apne1?region=ap-northeast-1,frankfurt=s3://photos-euc1?region=eu-central-1', or @FILE with one NAME=URL a line")
	fs.StringVar(&f.home, "home", "", "with --stores: the store this process writes to (uploads, import, migrate), which keys then name")
	fs.StringVar(&f.replica, "replica", "", "with --stores, for a resizer: a store kept in sync by replication, read first for keys homed elsewhere (a miss reads the home)")
	fs.StringVar(&f.legacyStore, "legacy-store", "", "with --stores: the store that holds keys without a home prefix, from before --stores (default: the first one)")
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

// homeStore is the store originals are written to: --store, or with --stores
// the one --home names.
func (f *storeFlags) homeStore(ctx context.Context) (storage.Store, error) {
	if f.stores == "" {
		if f.home != "" || f.replica != "" || f.legacyStore != "" {
			return nil, fmt.Errorf("--home, --replica and --legacy-store name stores of --stores, which is not set")
		}
		if f.single == nil {
			urls, _ := f.storeURLs() // no --stores: cannot fail
			st, err := storeurl.Open(ctx, urls[0], f.s3Defaults())
			if err != nil {
				return nil, err
			}
			f.single = st
		}
		return f.single, nil
	}
	fleet, err := f.openFleet(ctx)
	if err != nil {
		return nil, err
	}
	if f.home == "" {
		return nil, fmt.Errorf("--stores needs --home: the store this process writes to")
	}
	return fleet[f.home], nil
}

// named is what --stores names.
func (f *storeFlags) named() ([]regions.Named, error) {
	spec := f.stores
	if file, ok := strings.CutPrefix(spec, "@"); ok {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--stores: %w", err)
		}
		spec = string(b)
	}
	named, err := regions.ParseSpec(spec)
	if err != nil {
		return nil, fmt.Errorf("--stores: %w", err)
	}
	return named, nil
}

// storeURLs are the URLs of the stores originals are read from and
// written to: --store (default DATA/originals), or every one of --stores.
func (f *storeFlags) storeURLs() ([]string, error) {
	if f.stores == "" {
		return []string{cmp.Or(f.store, filepath.Join(f.data, "originals"))}, nil
	}
	named, err := f.named()
	if err != nil {
		return nil, err
	}
	urls := make([]string, len(named))
	for i, n := range named {
		urls[i] = n.URL
	}
	return urls, nil
}

// checkPrivate refuses a store of originals that would serve private files:
// one that holds the data directory (development keys, the object-key
// secret, local state), or overlaps a place of raw bytes or keys (private
// names the flag of each). Resizers serve whatever is in their stores.
func (f *storeFlags) checkPrivate(private map[string]string) error {
	urls, err := f.storeURLs()
	if err != nil {
		return err
	}
	for _, u := range urls {
		if in, err := storeurl.Within(f.data, u); err != nil {
			return err
		} else if in {
			return fmt.Errorf("the store %s holds the data directory %s (keys, local state): it would serve them; keep originals in a directory of their own", u, f.data)
		}
		for _, name := range slices.Sorted(maps.Keys(private)) {
			if over, err := storeurl.Overlaps(u, private[name]); err != nil {
				return err
			} else if over {
				return fmt.Errorf("the store %s overlaps %s (%s): it would serve raw uploads or keys", u, private[name], name)
			}
		}
	}
	return nil
}

// openFleet opens every store of --stores, once.
func (f *storeFlags) openFleet(ctx context.Context) (map[string]storage.Store, error) {
	if f.fleet != nil {
		return f.fleet, nil
	}
	if f.store != "" {
		return nil, fmt.Errorf("--store and --stores exclude each other")
	}
	named, err := f.named()
	if err != nil {
		return nil, err
	}
	fleet := map[string]storage.Store{}
	for _, n := range named {
		if fleet[n.Name], err = storeurl.Open(ctx, n.URL, f.s3Defaults()); err != nil {
			return nil, fmt.Errorf("--stores: %s: %w", n.Name, err)
		}
	}
	if f.legacyStore == "" {
		f.legacyStore = named[0].Name
	}
	for flagName, name := range map[string]string{"home": f.home, "replica": f.replica, "legacy-store": f.legacyStore} {
		if name != "" && fleet[name] == nil {
			return nil, fmt.Errorf("--%s: no store of --stores is named %q", flagName, name)
		}
	}
	f.fleet = fleet
	return fleet, nil
}

// originals is what a resizer reads from: the one store, or a router over
// --stores. The checks are for readiness: with --stores only the store this
// region reads first (--replica, else --home, else the legacy store) gates
// it, the others only show in imgorigin_dependency_up, so a far region that
// is down does not take every resizer out of rotation.
func (f *storeFlags) originals(ctx context.Context, reg prometheus.Registerer) (resizer.Originals, []server.Check, error) {
	if f.stores == "" {
		st, err := f.homeStore(ctx)
		if err != nil {
			return nil, nil, err
		}
		return st, storeChecks(map[string]storage.Store{"store": st}, "store"), nil
	}
	fleet, err := f.openFleet(ctx)
	if err != nil {
		return nil, nil, err
	}
	router, err := regions.NewRouter(regions.Config{Stores: fleet, Legacy: f.legacyStore, Replica: f.replica}, reg)
	if err != nil {
		return nil, nil, err
	}
	local := cmp.Or(f.replica, f.home, f.legacyStore)
	named := map[string]storage.Store{}
	for name, st := range fleet {
		named["store:"+name] = st
	}
	return router, storeChecks(named, "store:"+local), nil
}

// storeChecks are readiness checks of the stores that can say they answer;
// only gating's failure makes the instance unready.
func storeChecks(stores map[string]storage.Store, gating string) []server.Check {
	var checks []server.Check
	for _, name := range slices.Sorted(maps.Keys(stores)) {
		if p, ok := stores[name].(storage.Pinger); ok {
			checks = append(checks, server.Check{Name: name, Probe: p.Ping, Informational: name != gating})
		}
	}
	return checks
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
	return ingest.New(st, ingest.Config{Limits: imaging.DefaultLimits(), Original: original, KeySecret: secret, Home: f.home})
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
