package uploader

import (
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// ledger remembers which objects each upload token has stored, so a token
// stores at most its max_uploads distinct objects (a retry of the same bytes
// is the same object, and is allowed). It is bounded in entries and kept only
// as long as a token can live; it is per process, so behind a load balancer a
// token may store up to max_uploads objects on each uploader it reaches.
type ledger struct {
	mu   sync.Mutex
	uses *expirable.LRU[string, []string]
}

// ledgerEntries bounds the ledger's memory (about 200 bytes an entry): far
// more tokens than one uploader sees within a token's life.
const ledgerEntries = 500_000

func newLedger(life time.Duration) *ledger {
	return &ledger{uses: expirable.NewLRU[string, []string](ledgerEntries, nil, life)}
}

// reserve records that token jti stores key, unless it has stored max other
// objects already; release undoes a reservation whose upload failed.
func (l *ledger) reserve(jti, key string, max int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys, _ := l.uses.Get(jti)
	if slices.Contains(keys, key) {
		return true
	}
	if len(keys) >= max {
		return false
	}
	l.uses.Add(jti, append(slices.Clip(keys), key))
	return true
}

func (l *ledger) release(jti, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if keys, ok := l.uses.Get(jti); ok {
		l.uses.Add(jti, slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == key }))
	}
}
