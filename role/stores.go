package role

import (
	"cmp"
	"context"
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
	"github.com/imgorigin/imgorigin/uploader"
)

// Stores says where a process keeps its originals and local state. Each
// store is opened once, on first use, and shared by the process's roles.
type Stores struct {
	// Data is the data directory: the embedded store, development keys
	// and local state.
	Data string
	// Store is where originals live: a path or file:///abs/path (disk), or
	// s3://bucket/prefix; default DATA/originals.
	Store string
	// S3 is how s3:// URLs are reached unless they say otherwise.
	S3 storeurl.S3Defaults
	// Fleet names regional stores instead of Store ("tokyo=s3://...,
	// frankfurt=s3://...", or @FILE with one NAME=URL a line); Home is
	// the one this process writes to, Replica the one a resizer reads
	// first, Legacy the one holding keys without a home (default: the
	// first).
	Fleet, Home, Replica, Legacy string

	single storage.Store
	fleet  map[string]storage.Store
	named  []regions.Named
	router *regions.Router
}

// HomeStore is the store originals are written to: Store, or the one Home
// names in the fleet.
func (s *Stores) HomeStore(ctx context.Context) (storage.Store, error) {
	if s.Fleet == "" {
		if s.Home != "" || s.Replica != "" || s.Legacy != "" {
			return nil, fmt.Errorf("--home, --replica and --legacy-store name stores of --stores, which is not set")
		}
		if s.single == nil {
			st, err := storeurl.Open(ctx, s.storeURL(), s.S3)
			if err != nil {
				return nil, err
			}
			s.single = st
		}
		return s.single, nil
	}
	fleet, err := s.openFleet(ctx)
	if err != nil {
		return nil, err
	}
	if s.Home == "" {
		return nil, fmt.Errorf("--stores needs --home: the store this process writes to")
	}
	return fleet[s.Home], nil
}

func (s *Stores) storeURL() string { return cmp.Or(s.Store, filepath.Join(s.Data, "originals")) }

// parseFleet reads Fleet, once.
func (s *Stores) parseFleet() ([]regions.Named, error) {
	if s.named != nil {
		return s.named, nil
	}
	spec := s.Fleet
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
	s.named = named
	return named, nil
}

// legacy is the store of keys without a home: Legacy, else the fleet's first.
func (s *Stores) legacy(named []regions.Named) string { return cmp.Or(s.Legacy, named[0].Name) }

// urls are the URLs of the stores originals are read from and written to.
func (s *Stores) urls() ([]string, error) {
	if s.Fleet == "" {
		return []string{s.storeURL()}, nil
	}
	named, err := s.parseFleet()
	if err != nil {
		return nil, err
	}
	urls := make([]string, len(named))
	for i, n := range named {
		urls[i] = n.URL
	}
	return urls, nil
}

// CheckPrivate refuses a store of originals that would serve private files:
// one that holds the data directory (development keys, the object-key
// secret, local state), or overlaps a place of raw bytes or keys (private
// names the flag of each). Resizers serve whatever is in their stores.
func (s *Stores) CheckPrivate(private map[string]string) error {
	urls, err := s.urls()
	if err != nil {
		return err
	}
	for _, u := range urls {
		if in, err := storeurl.Within(s.Data, u); err != nil {
			return err
		} else if in {
			return fmt.Errorf("the store %s holds the data directory %s (keys, local state): it would serve them; keep originals in a directory of their own", u, s.Data)
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

// openFleet opens every store of Fleet, once.
func (s *Stores) openFleet(ctx context.Context) (map[string]storage.Store, error) {
	if s.fleet != nil {
		return s.fleet, nil
	}
	if s.Store != "" {
		return nil, fmt.Errorf("--store and --stores exclude each other")
	}
	named, err := s.parseFleet()
	if err != nil {
		return nil, err
	}
	fleet := map[string]storage.Store{}
	for _, n := range named {
		if fleet[n.Name], err = storeurl.Open(ctx, n.URL, s.S3); err != nil {
			return nil, fmt.Errorf("--stores: %s: %w", n.Name, err)
		}
	}
	for flagName, name := range map[string]string{"home": s.Home, "replica": s.Replica, "legacy-store": s.Legacy} {
		if name != "" && fleet[name] == nil {
			return nil, fmt.Errorf("--%s: no store of --stores is named %q", flagName, name)
		}
	}
	s.fleet = fleet
	return fleet, nil
}

// Originals is what a resizer reads from: the one store, or a router over
// the fleet. The checks are for readiness: in a fleet only the store this
// region reads first (Replica, else Home, else the legacy store) gates it,
// the others only show in imgorigin_dependency_up, so a far region that is
// down does not take every resizer out of rotation.
func (s *Stores) Originals(ctx context.Context, reg prometheus.Registerer) (resizer.Originals, []server.Check, error) {
	if s.Fleet == "" {
		st, err := s.HomeStore(ctx)
		if err != nil {
			return nil, nil, err
		}
		return st, storeChecks(map[string]storage.Store{"store": st}, "store"), nil
	}
	router, err := s.fleetRouter(ctx, reg)
	if err != nil {
		return nil, nil, err
	}
	fleet := s.fleet
	local := cmp.Or(s.Replica, s.Home, s.legacy(s.named))
	named := map[string]storage.Store{}
	for name, st := range fleet {
		named["store:"+name] = st
	}
	return router, storeChecks(named, "store:"+local), nil
}

// Deleter is what deletes originals for good: the one store, or the fleet's
// router (each key's home, and the replica).
func (s *Stores) Deleter(ctx context.Context, reg prometheus.Registerer) (uploader.Deleter, error) {
	if s.Fleet == "" {
		return s.HomeStore(ctx)
	}
	return s.fleetRouter(ctx, reg)
}

// fleetRouter routes keys over the fleet, built once per process (its
// metrics are registered once).
func (s *Stores) fleetRouter(ctx context.Context, reg prometheus.Registerer) (*regions.Router, error) {
	if s.router != nil {
		return s.router, nil
	}
	fleet, err := s.openFleet(ctx)
	if err != nil {
		return nil, err
	}
	router, err := regions.NewRouter(regions.Config{Stores: fleet, Legacy: s.legacy(s.named), Replica: s.Replica}, reg)
	if err != nil {
		return nil, err
	}
	s.router = router
	return router, nil
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

// Ingester converts into st with the object-key secret under Data:
// uploads, import and migration must derive keys alike.
func (s *Stores) Ingester(st ingest.Store, original imaging.OriginalConfig, log *slog.Logger) (*ingest.Ingester, error) {
	secret, err := s.keySecret(log)
	if err != nil {
		return nil, err
	}
	return ingest.New(st, ingest.Config{Limits: imaging.DefaultLimits(), Original: original, KeySecret: secret, Home: s.Home})
}

// keySecret is the secret behind object keys: created under Data on first
// use in development (and said so in the log).
func (s *Stores) keySecret(log *slog.Logger) ([]byte, error) {
	path := filepath.Join(s.Data, "keys", "object-key-secret")
	secret, created, err := secrets.LoadOrCreate(path)
	if created {
		log.Warn("created a development object-key secret; keep it safe, keys derive from it", "path", path)
	}
	return secret, err
}
