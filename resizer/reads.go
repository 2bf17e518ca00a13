package resizer

import (
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/httperr"
	"github.com/imgorigin/imgorigin/storage"
)

// errReadsBusy answers a read of an original past the read budget: 503 with
// Retry-After, at once.
var errReadsBusy = httperr.Unavailable("too many originals are being read at once; retry shortly", nil)

// readBudget bounds the reads of originals in flight: how many at once, and
// the bytes their buffers hold together. A burst of large files is refused
// at once past it instead of taking memory the process then keeps, and
// once a burst has passed the memory it took is given back to the system.
type readBudget struct {
	mu              sync.Mutex
	reads, maxReads int
	bytes, maxBytes int64
	sinceFreed      int64 // bytes read since memory was last given back
	freeing         atomic.Bool
}

// freeAfter is how many bytes of reads make a burst worth giving back:
// below it the runtime's own scavenger keeps up.
const freeAfter = 64 << 20

func newReadBudget(maxReads int, maxBytes int64) *readBudget {
	return &readBudget{maxReads: maxReads, maxBytes: maxBytes}
}

// read is one read's share of the budget.
type read struct {
	b     *readBudget
	bytes int64
}

// begin takes a read slot, or fails at once when they are all taken.
func (b *readBudget) begin() (*read, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.reads >= b.maxReads {
		return nil, errReadsBusy
	}
	b.reads++
	return &read{b: b}, nil
}

// reserve claims n more bytes for this read, or fails at once when the
// reads in flight hold the budget's bytes already.
func (r *read) reserve(n int64) error {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	if r.b.bytes+n > r.b.maxBytes {
		return errReadsBusy
	}
	r.b.bytes += n
	r.bytes += n
	return nil
}

// end returns the read's slot and bytes. The last read of a large burst
// gives the heap's free pages back to the system (in the background: it
// takes a garbage collection).
func (r *read) end() {
	b := r.b
	b.mu.Lock()
	b.reads--
	b.bytes -= r.bytes
	b.sinceFreed += r.bytes
	free := b.reads == 0 && b.sinceFreed >= freeAfter
	if free {
		b.sinceFreed = 0
	}
	b.mu.Unlock()
	if free && b.freeing.CompareAndSwap(false, true) {
		go func() {
			defer b.freeing.Store(false)
			debug.FreeOSMemory()
		}()
	}
}

// recent remembers, for a minute, what the last read of each original
// told: its header, or why it is refused (not an image the resizer will
// read: not an allowed format, corrupt, over a byte or header limit; or it
// failed to render, corrupt past its header). Asking again gets the same
// refusal, or a size its header does not allow, without the file being
// read again.
type recent struct {
	mu  sync.Mutex
	lru *lru.LRU[string, readOutcome]
}

type readOutcome struct {
	header imaging.Header // when err is nil
	err    error
	until  time.Time
}

// refusalTTL matches the default Cache-Control of 4xx answers: a file fixed
// in place is read again within a minute.
const refusalTTL = time.Minute

func newRecent() *recent {
	l, _ := lru.NewLRU[string, readOutcome](10_000, nil)
	return &recent{lru: l}
}

func (r *recent) get(key string, now time.Time) (readOutcome, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.lru.Get(key)
	if !ok || now.After(o.until) {
		return readOutcome{}, false
	}
	return o, true
}

// refused is the remembered refusal of key, if there is one.
func (r *recent) refused(key string, now time.Time) (error, bool) {
	o, ok := r.get(key, now)
	return o.err, ok && o.err != nil
}

// read keeps what a read of key told: its header, or err if it is a
// refusal of the original itself (not a store failing).
func (r *recent) read(key string, h imaging.Header, err error, now time.Time) {
	refusal := errors.Is(err, imaging.ErrUnsupported) || errors.Is(err, imaging.ErrCorrupt) || errors.Is(err, imaging.ErrTooLarge) || errors.Is(err, storage.ErrTooLarge)
	if err != nil && !refusal {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lru.Add(key, readOutcome{header: h, err: err, until: now.Add(refusalTTL)})
}

func (r *recent) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lru.Remove(key)
}
