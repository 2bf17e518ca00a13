package resizer

import (
	"hash/maphash"
	"net/http"
	"slices"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/imgorigin/imgorigin/internal/httperr"
)

// errTooManyVariants answers an unsigned request for yet another new variant
// of an original that has had its share: 429.
var errTooManyVariants = httperr.New(http.StatusTooManyRequests, "this image has had too many different unsigned variants recently; use a signed URL or a size it already has")

// variantBudget bounds the distinct variants rendered per original without a
// signature within a window: quantising parameters shrinks the space of
// unsigned URLs, but sizes, fits, formats and qualities still multiply to
// millions per original, each a new render behind any CDN. Renders of a
// variant already counted (after a cache eviction, say) are always allowed.
// Memory: at most trackedOriginals sets of up to perOriginal 8-byte hashes.
type variantBudget struct {
	mu          sync.Mutex
	sets        *lru.LRU[string, *variantSet]
	perOriginal int
	window      time.Duration
	seed        maphash.Seed
}

type variantSet struct {
	since  time.Time
	hashes []uint64
}

// trackedOriginals bounds the budget's memory (4096 x 1000 x 8 B = 32 MB at
// the very worst); an original pushed out starts afresh, which an attacker
// buys with renders of 4096 other originals.
const trackedOriginals = 4096

func newVariantBudget(perOriginal int, window time.Duration) *variantBudget {
	sets, _ := lru.NewLRU[string, *variantSet](trackedOriginals, nil)
	return &variantBudget{sets: sets, perOriginal: perOriginal, window: window, seed: maphash.MakeSeed()}
}

// allow reports whether original may have the variant rkey rendered, and
// counts it if it is new.
func (b *variantBudget) allow(original, rkey string, now time.Time) bool {
	if b.perOriginal <= 0 {
		return true
	}
	h := maphash.String(b.seed, rkey)
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.sets.Get(original)
	if !ok || now.Sub(s.since) > b.window {
		s = &variantSet{since: now}
		b.sets.Add(original, s)
	}
	if slices.Contains(s.hashes, h) {
		return true
	}
	if len(s.hashes) >= b.perOriginal {
		return false
	}
	s.hashes = append(s.hashes, h)
	return true
}
