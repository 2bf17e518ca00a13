package resizer

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/httperr"
)

// Unsigned requests come in two kinds. Canonical ones are what a srcset or
// an imgix library asks of a photo (see canonical): there are finitely many
// per original, each is cached once rendered, and they are never refused for
// what other requests did, so a stranger cannot break an owner's photo.
// Every other unsigned render is exotic: its render time is charged to the
// original and to the client that asked, and once either has spent its
// budget, exotic requests of it answer 429 with Retry-After until it refills.
// Counting render time, not distinct names, means a re-render after an
// eviction, a HEAD or a conditional request that renders costs what it costs,
// and a cheap variant costs little.

// costBudget is a token bucket of render time per key (an original or a
// client): Burst of render time at once, refilled at Rate. A render is allowed
// while the bucket is not empty and charged once it is done, so one dear
// render can take a bucket into debt, which is then paid back in time.
type costBudget struct {
	mu      sync.Mutex
	buckets *lru.LRU[string, *rate.Limiter]
	perSec  rate.Limit // milliseconds of render refilled per second
	burstMS int
}

// trackedBuckets bounds a budget's memory (about 100 bytes a bucket); a key
// pushed out starts afresh with a full bucket, which an attacker buys with
// exotic renders of this many other originals or from this many addresses.
const trackedBuckets = 16384

func newCostBudget(b RenderBudget) *costBudget {
	buckets, _ := lru.NewLRU[string, *rate.Limiter](trackedBuckets, nil)
	return &costBudget{buckets: buckets, perSec: rate.Limit(b.Rate * 1000), burstMS: int(b.Burst.Milliseconds())}
}

func (b *costBudget) off() bool { return b.burstMS <= 0 }

func (b *costBudget) bucket(key string) *rate.Limiter {
	l, ok := b.buckets.Get(key)
	if !ok {
		l = rate.NewLimiter(b.perSec, b.burstMS)
		b.buckets.Add(key, l)
	}
	return l
}

// wait is how long until key's bucket has a millisecond of render time: 0
// when it has.
func (b *costBudget) wait(key string, now time.Time) time.Duration {
	if b.off() {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	tokens := b.bucket(key).TokensAt(now)
	if tokens >= 1 { // a whole millisecond left
		return 0
	}
	if b.perSec <= 0 {
		return time.Hour
	}
	return time.Duration((1 - tokens) / float64(b.perSec) * float64(time.Second))
}

// charge takes d of render time from key's bucket, into debt if need be
// (at most one burst of it).
func (b *costBudget) charge(key string, d time.Duration, now time.Time) {
	if b.off() || d <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bucket(key).ReserveN(now, min(int(math.Ceil(float64(d)/float64(time.Millisecond))), b.burstMS))
}

// tooMuchRendering is the 429 of an exotic request past a budget: when to
// come back, and never cached (Cache-Control is set by server.WriteError), since it
// says what others did, not what the URL is.
func tooMuchRendering(whose string, wait time.Duration) error {
	e := httperr.New(http.StatusTooManyRequests, "%s has had its share of unsigned render time for parameters off the usual sizes; retry later, use a ladder size without q, blur, bg or ar, or a signed URL", whose)
	e.RetryAfter, e.Kind = max(time.Second, wait), "render_budget"
	return e
}

// imgixDPRQualities are the q values @imgix/js-core adds to a fixed-width
// srcset (dpr 1 to 5), so its srcsets are canonical.
var imgixDPRQualities = []int{75, 50, 35, 23, 20}

// canonicalParams are what srcsets and imgix's libraries put in a URL.
var canonicalParams = []string{"w", "h", "dpr", "fit", "crop", "q", "fm", "auto", "ch", "ixlib", "s"}

// canonical reports whether an unsigned request (its query on the ladder,
// and its parsed options) is one a srcset or an imgix library builds: each
// side given a rung of the ladder, dpr up to 3, the clip or crop family of
// fits without focal points, no q but auto=compress's or imgix's per-dpr
// ones, a lossy format of our choosing or WebP, JPEG or AVIF, and nothing
// else (no blur, bg, ar, lossless or PNG).
func (c Config) canonical(q url.Values, o Options) bool {
	if !c.AnySizeUnsigned {
		for _, s := range []string{"w", "h"} {
			if n, ok := side(q, s); q.Has(s) && (!ok || !slices.Contains(c.Ladder, n)) {
				return false
			}
		}
	}
	if dpr, ok := decimal(q.Get("dpr")); ok && dpr > 3 {
		return false
	}
	for k := range q {
		if !slices.Contains(canonicalParams, k) {
			return false // anything else a srcset never carries
		}
	}
	switch {
	case o.Blur > 0, o.Background != nil, o.Lossless, o.Aspect > 0, q.Has("ar"):
		return false
	case o.Format == imaging.PNG, o.Gravity == imaging.GravityFocal:
		return false
	case o.Fit != imaging.FitClip && o.Fit != imaging.FitMax && o.Fit != imaging.FitCrop && o.Fit != imaging.FitMin:
		return false
	}
	return o.Quality == 0 || o.Quality == c.Unsigned.quality(compressQuality) ||
		slices.ContainsFunc(imgixDPRQualities, func(q int) bool { return c.Unsigned.quality(q) == o.Quality })
}

// client names who asked, for the per-client budget: the address in
// header (CloudFront-Viewer-Address, set by a CDN that alone reaches the
// origin) when configured, else the connecting address. An IPv6 client is
// its /64, the least a host is given.
func client(r *http.Request, header string) string {
	addr := r.RemoteAddr
	if header != "" {
		if v := r.Header.Get(header); v != "" {
			addr = v
		}
	}
	host := addr
	if i := strings.LastIndexByte(addr, ':'); i > 0 && !strings.HasSuffix(addr, "]") {
		host = strings.Trim(addr[:i], "[]") // "ip:port", "[v6]:port" or CloudFront's "v6:port"
	}
	ip := net.ParseIP(host)
	if ip == nil {
		ip = net.ParseIP(strings.Trim(addr, "[]")) // a bare address without a port
	}
	switch {
	case ip == nil:
		return addr
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return fmt.Sprintf("%s/64", ip.Mask(net.CIDRMask(64, 128)))
}
