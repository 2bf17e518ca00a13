// Package regions serves a fleet whose originals live in several named stores,
// one per region: an uploader writes to its home store under keys that carry
// the home's name ("tokyo-" + 32 hex characters), and a resizer routes each key
// to its home without a lookup, optionally reading a nearer replica first.
//
// Keys without a home prefix (those of a single-store deployment) belong to
// the legacy store. A key whose prefix names no configured store is not found:
// editing a key's prefix can only route it to a store that does not hold it,
// since the home is also part of what the key's hash covers (see ingest).
package regions

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgorigin/imgorigin/storage"
)

// A store name: short, lowercase, no "-" (it ends the prefix).
var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

// keyRE is the form of the keys ingest makes: 32 hex digits, behind a
// home's prefix (NAME-) in a fleet.
var keyRE = regexp.MustCompile(`^(?:([a-z][a-z0-9]{0,15})-)?[0-9a-f]{32}$`)

// Named is one store of a fleet, as written in --stores.
type Named struct {
	Name string
	URL  string
}

// ParseSpec reads "tokyo=s3://photos-apne1?region=ap-northeast-1,frankfurt=..."
// (entries separated by commas or newlines, so a config file of one entry a
// line reads the same).
func ParseSpec(spec string) ([]Named, error) {
	var out []Named
	seen := map[string]bool{}
	for _, entry := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '\n' }) {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "#") {
			continue
		}
		name, url, ok := strings.Cut(entry, "=")
		name, url = strings.TrimSpace(name), strings.TrimSpace(url)
		if !ok || url == "" {
			return nil, fmt.Errorf("stores: %q is not NAME=URL", entry)
		}
		if err := ValidateName(name); err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("stores: %q is named twice", name)
		}
		seen[name] = true
		out = append(out, Named{Name: name, URL: url})
	}
	if len(out) == 0 {
		return nil, errors.New("stores: no NAME=URL entries")
	}
	return out, nil
}

// ValidateName checks a store name: 1 to 16 lowercase letters and digits,
// starting with a letter.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("store name %q: 1-16 lowercase letters and digits, starting with a letter", name)
	}
	return nil
}

// KeyPrefix is what keys homed in the named store start with.
func KeyPrefix(home string) string { return home + "-" }

// HomeOf returns the home named by key's prefix, or ok=false for a key
// without one.
func HomeOf(key string) (home string, ok bool) {
	m := keyRE.FindStringSubmatch(key)
	if m == nil || m[1] == "" {
		return "", false
	}
	return m[1], true
}

// IsKey reports whether key has the form of the keys imgorigin makes for
// uploads, with a home's prefix or without.
func IsKey(key string) bool { return keyRE.MatchString(key) }

// Config of a Router.
type Config struct {
	Stores map[string]storage.Store
	// Legacy holds the keys without a home prefix.
	Legacy string
	// Replica, when set, is read first for keys homed elsewhere (a bucket kept
	// in sync by S3 replication); a miss there falls back to the home.
	Replica string
	// BreakAfter store errors in a row mark a store down for BreakFor:
	// its keys then fail at once instead of each waiting out the store's
	// timeout. Defaults 3 and 2 s.
	BreakAfter int
	BreakFor   time.Duration
}

// ErrDown is returned at once for keys of a store marked down.
var ErrDown = errors.New("store marked down after repeated errors")

// Router reads each key from its home store (or a replica of it).
type Router struct {
	cfg     Config
	breaker map[string]*breaker
	reads   *prometheus.CounterVec
	replica *prometheus.CounterVec
}

// NewRouter checks cfg and registers the router's metrics on reg (nil: none).
func NewRouter(cfg Config, reg prometheus.Registerer) (*Router, error) {
	if cfg.Stores[cfg.Legacy] == nil {
		return nil, fmt.Errorf("stores: the legacy store %q is not one of them", cfg.Legacy)
	}
	if cfg.Replica != "" && cfg.Stores[cfg.Replica] == nil {
		return nil, fmt.Errorf("stores: the replica %q is not one of them", cfg.Replica)
	}
	if cfg.BreakAfter <= 0 {
		cfg.BreakAfter = 3
	}
	if cfg.BreakFor <= 0 {
		cfg.BreakFor = 2 * time.Second
	}
	r := &Router{cfg: cfg, breaker: map[string]*breaker{},
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_store_reads_total",
			Help: "Reads of originals by store and result (ok, not_found, error, down: refused at once while the store is marked down)."}, []string{"store", "result"}),
		replica: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_replica_reads_total",
			Help: "Reads of keys homed elsewhere that tried the replica first: hit (served from it) or fallback (read from home)."}, []string{"result"}),
	}
	for name := range cfg.Stores {
		r.breaker[name] = &breaker{}
		for _, res := range []string{"ok", "not_found", "error", "down"} {
			r.reads.WithLabelValues(name, res)
		}
	}
	if reg != nil {
		reg.MustRegister(r.reads, r.replica)
	}
	return r, nil
}

// home is the store that holds key: its prefix's, or the legacy store.
func (r *Router) home(key string) (string, error) {
	home, ok := HomeOf(key)
	if !ok {
		return r.cfg.Legacy, nil
	}
	if r.cfg.Stores[home] == nil {
		return "", fmt.Errorf("%w: %s (no store is named %q)", storage.ErrNotFound, key, home)
	}
	return home, nil
}

func (r *Router) Get(ctx context.Context, key string) (*storage.Object, error) {
	return route(r, ctx, key, storage.Store.Get)
}

func (r *Router) Head(ctx context.Context, key string) (storage.Info, error) {
	return route(r, ctx, key, storage.Store.Head)
}

// GetNearby reads key from the replica alone when it is homed elsewhere
// (else from its home): for what is worth reading only when it is near, an
// original's small copy, which the original stands in for.
func (r *Router) GetNearby(ctx context.Context, key string) (*storage.Object, error) {
	home, err := r.home(key)
	if err != nil {
		return nil, err
	}
	if rep := r.cfg.Replica; rep != "" && rep != home {
		return readFrom(r, ctx, rep, key, storage.Store.Get)
	}
	return readFrom(r, ctx, home, key, storage.Store.Get)
}

// route reads key from the replica when it is homed elsewhere, and from its
// home when the replica does not have it (yet) or fails.
func route[T any](r *Router, ctx context.Context, key string, read func(storage.Store, context.Context, string) (T, error)) (T, error) {
	home, err := r.home(key)
	if err != nil {
		var zero T
		return zero, err
	}
	if rep := r.cfg.Replica; rep != "" && rep != home {
		v, err := readFrom(r, ctx, rep, key, read)
		if err == nil {
			r.replica.WithLabelValues("hit").Inc()
			return v, nil
		}
		if errors.Is(err, storage.ErrInvalidKey) {
			return v, err
		}
		r.replica.WithLabelValues("fallback").Inc()
	}
	return readFrom(r, ctx, home, key, read)
}

func readFrom[T any](r *Router, ctx context.Context, name, key string, read func(storage.Store, context.Context, string) (T, error)) (T, error) {
	var zero T
	b := r.breaker[name]
	if !b.allow(time.Now()) {
		r.reads.WithLabelValues(name, "down").Inc()
		return zero, fmt.Errorf("store %s: %w", name, ErrDown)
	}
	v, err := read(r.cfg.Stores[name], ctx, key)
	switch {
	case err == nil:
		r.reads.WithLabelValues(name, "ok").Inc()
	case errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidKey):
		r.reads.WithLabelValues(name, "not_found").Inc()
	case errors.Is(ctx.Err(), context.Canceled):
		return zero, err // the caller went away: says nothing of the store
	default:
		r.reads.WithLabelValues(name, "error").Inc()
		b.failed(time.Now(), r.cfg.BreakAfter, r.cfg.BreakFor)
		return zero, fmt.Errorf("store %s: %w", name, err)
	}
	b.succeeded()
	return v, err
}

// breaker marks a store down after errors in a row, for a while; after that
// while reads go through again, and the next error marks it down at once.
type breaker struct {
	mu        sync.Mutex
	failures  int
	downUntil time.Time
}

func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !now.Before(b.downUntil)
}

func (b *breaker) failed(now time.Time, after int, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.failures >= after {
		b.downUntil = now.Add(wait)
	}
}

func (b *breaker) succeeded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures, b.downUntil = 0, time.Time{}
}

// DeleteMany deletes each key from every store of the fleet: its home, and
// every other store, since any may hold a replica of it (S3 replication
// carries no deletes unless delete-marker replication is on, and a resizer
// reading its replica first would go on serving the copy). A key whose
// prefix names no store is stored nowhere: nothing to delete.
func (r *Router) DeleteMany(ctx context.Context, keys []string) error {
	var routed []string
	for _, k := range keys {
		if _, err := r.home(k); err == nil {
			routed = append(routed, k)
		}
	}
	if len(routed) == 0 {
		return nil
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(r.cfg.Stores)) {
		if err := r.cfg.Stores[name].DeleteMany(ctx, routed); err != nil {
			errs = append(errs, fmt.Errorf("store %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
