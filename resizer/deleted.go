package resizer

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/storage"
)

// A photo deleted from the store must stop being served from every
// resizer's caches within Config.Revalidate. Keys never change, so nothing
// else invalidates a cached original or variant; instead, before a key's
// cached original or variant is served, the store is asked (a HEAD, shared
// by every request of that key at once) whether the original is still
// there, at most once per Revalidate for each key. A store that cannot say
// (down, timing out) leaves the caches serving: deletion cannot be told from
// an outage, and the store's own outage must not take cached photos down.
// No protocol between resizers is needed, and a resizer in the uploader's
// process (serve) drops a deleted key at once (Forget).

// checks remembers when each key was last seen in the store.
type checks struct {
	mu   sync.Mutex
	seen *lru.LRU[string, time.Time]
}

// trackedChecks bounds the memory of checks (about 100 bytes a key); a key
// pushed out is asked again on its next request.
const trackedChecks = 100_000

func newChecks() *checks {
	seen, _ := lru.NewLRU[string, time.Time](trackedChecks, nil)
	return &checks{seen: seen}
}

func (c *checks) mark(key string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen.Add(key, at)
}

func (c *checks) since(key string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen.Get(key)
}

func (c *checks) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen.Remove(key)
}

// stillStored checks, at most once per Revalidate, that key's original is
// still in the store before something cached of it is served; when it is
// gone, everything cached of it is dropped and the answer is not found.
func (h *Handler) stillStored(ctx context.Context, key string) error {
	if h.cfg.Revalidate <= 0 {
		return nil
	}
	if at, ok := h.checks.since(key); ok && time.Since(at) < h.cfg.Revalidate {
		return nil
	}
	_, _, err := h.heads.Do(ctx, key, func(wctx context.Context) (struct{}, error) {
		wctx, cancel := context.WithTimeout(wctx, h.cfg.StoreTimeout)
		defer cancel()
		checked := time.Now()
		_, err := h.store.Head(wctx, key)
		h.metrics.revalidations.WithLabelValues(revalidation(err)).Inc()
		switch {
		case err == nil:
			h.checks.mark(key, checked)
		case errors.Is(err, storage.ErrNotFound):
			h.Forget(key)
			return struct{}{}, err
		}
		return struct{}{}, nil // the store cannot say: keep serving
	})
	return err
}

func revalidation(err error) string {
	switch {
	case err == nil:
		return "present"
	case errors.Is(err, storage.ErrNotFound):
		return "gone"
	}
	return "unknown"
}

// Forget drops everything cached of keys: their originals, what their
// reads told (headers, refusals) and every variant. The uploader of this
// process calls it on a delete; other resizers find out within Revalidate.
func (h *Handler) Forget(keys ...string) {
	gone := make(map[string]bool, len(keys))
	for _, k := range keys {
		gone[k] = true
		h.lacksSmall.forget(k)
		for _, o := range []string{k, ingest.SmallKey(k)} {
			h.originals.Remove(o)
			h.recent.forget(o)
			h.checks.forget(o)
		}
	}
	h.variants.RemoveIf(func(vkey string) bool {
		k, _, _ := strings.Cut(vkey, "?")
		return gone[k]
	})
}
