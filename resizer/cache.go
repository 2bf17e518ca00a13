package resizer

import (
	"sync"

	lru "github.com/hashicorp/golang-lru/v2/simplelru"
)

// byteCache is an LRU bounded by the bytes of its values, not their count: a
// 4 MB original and a 6 KB thumbnail must not weigh the same. Keys are
// immutable (an original never changes under its key), so nothing is ever
// invalidated, only evicted.
type byteCache[V any] struct {
	mu       sync.Mutex
	lru      *lru.LRU[string, V]
	size     func(V) int64
	used     int64
	capacity int64
}

func newByteCache[V any](capacity int64, size func(V) int64) *byteCache[V] {
	c := &byteCache[V]{size: size, capacity: capacity}
	// The entry bound is only a backstop; bytes decide eviction.
	c.lru, _ = lru.NewLRU[string, V](1<<30, func(_ string, v V) { c.used -= c.size(v) })
	return c
}

func (c *byteCache[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

// Add stores v unless it alone is over a quarter of the capacity (one huge
// original must not flush everything else), evicting the least recent entries
// until it fits.
func (c *byteCache[V]) Add(key string, v V) {
	n := c.size(v)
	if n > c.capacity/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key) // if present; the eviction callback subtracts its size
	c.lru.Add(key, v)
	c.used += n
	for c.used > c.capacity {
		c.lru.RemoveOldest()
	}
}

// Bytes is the total size of what the cache holds.
func (c *byteCache[V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// RemoveIf removes every entry whose key drop reports, in one pass.
func (c *byteCache[V]) RemoveIf(drop func(key string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.lru.Keys() {
		if drop(k) {
			c.lru.Remove(k) // the eviction callback subtracts its size
		}
	}
}

// Remove drops key's entry, if there is one.
func (c *byteCache[V]) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key)
}
