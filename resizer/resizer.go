package resizer

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/workpool"
	"github.com/imgorigin/imgorigin/storage"
)

// Config of a resizer. DefaultConfig gives every default; Validate checks it.
type Config struct {
	// Ladder lists the widths and heights unsigned requests may ask for.
	Ladder []int
	// AnySizeUnsigned lets unsigned requests ask for any size (no ladder):
	// only for origins no stranger can reach.
	AnySizeUnsigned bool
	// SignKeys verify the s parameter; several for rotation. Signed requests
	// may use any size up to MaxOutput.
	SignKeys [][]byte
	// MaxOutput bounds width and height after dpr. Default 4096.
	MaxOutput int
	// Limits bound sources before decoding (pixels, frames, sides).
	Limits imaging.Limits
	// MaxSourceBytes bounds an original read from the store. Default 64 MiB.
	MaxSourceBytes int64
	// OriginalCacheBytes and VariantCacheBytes bound the two memory caches.
	// Defaults 256 MiB and 128 MiB.
	OriginalCacheBytes int64
	VariantCacheBytes  int64
	// Concurrency is how many renders run at once (default: cores); QueueLength
	// how many more may wait (default 4 x Concurrency). Past that: 503.
	Concurrency int
	QueueLength int
	// Deadline bounds a request from arrival to answer; past it: 503. Default
	// 10 s, well inside CloudFront's 30 s origin timeout.
	Deadline time.Duration
	// CacheControl of 200s. Default a year, immutable: keys never change.
	CacheControl string
	// StaleWhileRevalidate and StaleIfError, when set, extend CacheControl.
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
	// ErrorCacheControl of 4xx answers. Default one minute. 5xx are no-store.
	ErrorCacheControl string
	// Quality when the request gives no q. Default 80.
	Quality int
	// AutoAVIF lets auto=format choose AVIF. Off by default: AVIF encodes
	// several times slower than WebP, which breaks the 100 ms budget.
	AutoAVIF bool
}

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	return Config{
		Ladder:             DefaultLadder,
		MaxOutput:          4096,
		Limits:             imaging.DefaultLimits(),
		MaxSourceBytes:     64 << 20,
		OriginalCacheBytes: 256 << 20,
		VariantCacheBytes:  128 << 20,
		Concurrency:        runtime.NumCPU(),
		QueueLength:        4 * runtime.NumCPU(),
		Deadline:           10 * time.Second,
		CacheControl:       "public, max-age=31536000, immutable",
		ErrorCacheControl:  "public, max-age=60",
		Quality:            80,
	}
}

// Validate reports a setting that cannot work, at start-up.
func (c Config) Validate() error {
	switch {
	case len(c.Ladder) == 0 && !c.AnySizeUnsigned:
		return errors.New("resizer: the size ladder is empty")
	case c.MaxOutput < 1:
		return errors.New("resizer: max output must be positive")
	case c.Concurrency < 1 || c.QueueLength < 0:
		return errors.New("resizer: concurrency must be at least 1 and the queue not negative")
	case c.Deadline <= 0:
		return errors.New("resizer: deadline must be positive")
	case c.Quality < 1 || c.Quality > 100:
		return errors.New("resizer: quality must be 1..100")
	case c.OriginalCacheBytes < 0 || c.VariantCacheBytes < 0 || c.MaxSourceBytes < 1:
		return errors.New("resizer: cache and source sizes must not be negative")
	}
	for _, k := range c.SignKeys {
		if len(k) < 16 {
			return errors.New("resizer: signing keys must be at least 16 bytes")
		}
	}
	return nil
}

// Originals is what the resizer needs of a store.
type Originals interface {
	Get(ctx context.Context, key string) (*storage.Object, error)
	Head(ctx context.Context, key string) (storage.Info, error)
}

// Handler serves renditions.
type Handler struct {
	cfg          Config
	store        Originals
	log          *slog.Logger
	originals    *byteCache[*original]
	variants     *byteCache[*variant]
	fetches      singleflight.Group
	renders      singleflight.Group
	pool         *workpool.Pool
	metrics      *metrics
	cacheControl string
}

type original struct {
	data   []byte
	info   storage.Info
	header imaging.Header
}

type variant struct {
	data         []byte
	contentType  string
	etag         string
	lastModified time.Time
}

// New returns a Handler; reg receives its metrics (nil: none).
func New(store Originals, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:       cfg,
		store:     store,
		log:       log,
		originals: newByteCache(cfg.OriginalCacheBytes, func(o *original) int64 { return int64(len(o.data)) }),
		variants:  newByteCache(cfg.VariantCacheBytes, func(v *variant) int64 { return int64(len(v.data)) }),
		pool:      workpool.New(cfg.Concurrency, cfg.QueueLength),
	}
	h.metrics = newMetrics(reg, h)
	h.cacheControl = cfg.CacheControl
	if cfg.StaleWhileRevalidate > 0 {
		h.cacheControl += fmt.Sprintf(", stale-while-revalidate=%d", int(cfg.StaleWhileRevalidate.Seconds()))
	}
	if cfg.StaleIfError > 0 {
		h.cacheControl += fmt.Sprintf(", stale-if-error=%d", int(cfg.StaleIfError.Seconds()))
	}
	return h, nil
}

// Sign returns the s parameter for path and query (any s in q is ignored):
// base64url(HMAC-SHA256(key, path + "?" + the query sorted by key)).
func Sign(key []byte, path string, q url.Values) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signedPayload(path, q)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if err := h.serve(rec, r); err != nil {
		h.writeError(rec, r, err)
	}
	h.metrics.requests.WithLabelValues(strconv.Itoa(rec.status)).Observe(time.Since(start).Seconds())
}

// statusWriter remembers the status, which http.ServeContent may set to 304.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return errMethod
	}
	key := strings.TrimPrefix(r.URL.Path, "/")
	if key == "" {
		return fmt.Errorf("%w: no key in the path", storage.ErrNotFound)
	}
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	q := r.URL.Query()
	opts, err := ParseOptions(q, r.Header.Get("Accept"), ParseConfig{MaxOutput: h.cfg.MaxOutput, AutoAVIF: h.cfg.AutoAVIF})
	if err != nil {
		return err
	}
	if err := h.authorize(r.URL.Path, q); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Deadline)
	defer cancel()
	vkey := key + "?" + opts.String()
	v, ok := h.variants.Get(vkey)
	h.metrics.cacheOps.WithLabelValues("variant", hitMiss(ok)).Inc()
	if !ok {
		if etag, ok := h.unchanged(ctx, r, key, opts); ok {
			return h.notModified(w, etag, opts)
		}
		if v, err = h.render(ctx, key, vkey, opts); err != nil {
			return err
		}
	}
	hd := w.Header()
	hd.Set("Content-Type", v.contentType)
	hd.Set("ETag", v.etag)
	h.cachingHeaders(hd, opts)
	http.ServeContent(w, r, "", v.lastModified, bytes.NewReader(v.data))
	return nil
}

// authorize checks the signature if there is one, else the size ladder.
func (h *Handler) authorize(path string, q url.Values) error {
	if s := q.Get("s"); s != "" {
		if len(h.cfg.SignKeys) == 0 {
			return badf("signed URLs are not enabled on this server")
		}
		for _, k := range h.cfg.SignKeys {
			if hmac.Equal([]byte(Sign(k, path, q)), []byte(s)) {
				return nil
			}
		}
		return errBadSignature
	}
	if h.cfg.AnySizeUnsigned {
		return nil
	}
	return CheckLadder(q, h.cfg.Ladder)
}

func (h *Handler) cachingHeaders(hd http.Header, opts Options) {
	hd.Set("Cache-Control", h.cacheControl)
	hd.Set("X-Content-Type-Options", "nosniff")
	if opts.Negotiated {
		hd.Set("Vary", "Accept")
	}
}

// unchanged answers a revalidation (If-None-Match) for a variant no longer in
// memory from the original's ETag alone, without rendering.
func (h *Handler) unchanged(ctx context.Context, r *http.Request, key string, opts Options) (string, bool) {
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return "", false
	}
	var origETag string
	if o, ok := h.originals.Get(key); ok {
		origETag = o.info.ETag
	} else if info, err := h.store.Head(ctx, key); err == nil {
		origETag = info.ETag
	} else {
		return "", false
	}
	etag := variantETag(origETag, opts)
	for _, t := range strings.Split(inm, ",") {
		if t = strings.TrimSpace(t); t == etag || t == "W/"+etag || t == "*" {
			return etag, true
		}
	}
	return "", false
}

func (h *Handler) notModified(w http.ResponseWriter, etag string, opts Options) error {
	w.Header().Set("ETag", etag)
	h.cachingHeaders(w.Header(), opts)
	w.WriteHeader(http.StatusNotModified)
	return nil
}

func variantETag(origETag string, opts Options) string {
	sum := sha256.Sum256([]byte(origETag + "\x00" + opts.String()))
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// render makes the variant once however many ask at once. The work runs on a
// context detached from the first caller's, so one client leaving does not
// fail the others; each caller still stops waiting at its own deadline.
func (h *Handler) render(ctx context.Context, key, vkey string, opts Options) (*variant, error) {
	ch := h.renders.DoChan(vkey, func() (any, error) {
		if v, ok := h.variants.Get(vkey); ok {
			return v, nil
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.Deadline)
		defer cancel()
		o, err := h.original(wctx, key)
		if err != nil {
			return nil, err
		}
		queued := time.Now()
		if err := h.pool.Acquire(wctx); err != nil {
			return nil, err
		}
		defer h.pool.Release()
		rendering := time.Now()
		h.metrics.stages.WithLabelValues("queue").Observe(rendering.Sub(queued).Seconds())
		v, err := h.renderOriginal(o, opts)
		h.metrics.stages.WithLabelValues("render").Observe(time.Since(rendering).Seconds())
		if err != nil {
			return nil, err
		}
		h.variants.Add(vkey, v)
		return v, nil
	})
	return wait[*variant](ctx, ch, h.metrics.coalesced.WithLabelValues("render"))
}

// wait returns a singleflight call's result, counting callers that shared
// another's work, or ctx's error if the caller stops waiting first.
func wait[T any](ctx context.Context, ch <-chan singleflight.Result, coalesced prometheus.Counter) (T, error) {
	var zero T
	select {
	case res := <-ch:
		if res.Shared {
			coalesced.Inc()
		}
		if res.Err != nil {
			return zero, res.Err
		}
		return res.Val.(T), nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

func (h *Handler) renderOriginal(o *original, opts Options) (*variant, error) {
	enc := imaging.Encoding{Format: outputFormat(opts.Format, o.header.Format), Quality: opts.Quality, Progressive: opts.Progressive}
	if enc.Quality == 0 {
		enc.Quality = h.cfg.Quality
	}
	tr := imaging.Transform{Width: opts.Width, Height: opts.Height, Fit: opts.Fit, Gravity: opts.Gravity, FocalX: opts.FocalX, FocalY: opts.FocalY, Background: opts.Background}
	enc.Effort = Effort(enc.Format, opts.Width, opts.Height)
	out, err := imaging.Render(o.data, o.header, tr, enc, h.cfg.Limits)
	if err != nil {
		return nil, err
	}
	data := out.Bytes
	// Never serve more bytes than the original at the same size and format
	// (originals are stored stripped and upright, so they are a valid answer).
	if w, ht := o.header.Upright(); out.Format == o.header.Format && out.Width == w && out.Height == ht &&
		out.Frames == o.header.Pages && o.header.Orientation == 1 && len(o.data) < len(data) {
		data = o.data
	}
	return &variant{data: data, contentType: out.Format.ContentType(), etag: variantETag(o.info.ETag, opts), lastModified: o.info.LastModified}, nil
}

// outputFormat is the asked format, else the source's where browsers show it,
// else WebP (which also keeps GIF animations).
func outputFormat(asked, source imaging.Format) imaging.Format {
	if asked != "" {
		return asked
	}
	switch source {
	case imaging.JPEG, imaging.PNG, imaging.WebP:
		return source
	}
	return imaging.WebP
}

// Effort trades encode time for bytes per format and output size, tuned by
// `imgorigin bench` on 2 cores (see bench/results).
func Effort(f imaging.Format, w, h int) int {
	if w == 0 { // a missing side is bounded by the other (or the source) at most
		w = h
	}
	if h == 0 {
		h = w
	}
	px := w * h
	switch f {
	case imaging.WebP:
		// Measured with `imgorigin bench --scenario cold` on the shared corpus
		// (2 cores): at 320 px effort 2 against 4 is 25.3 against 30.2 ms p50
		// for 3.4 % more bytes; at 1080 px effort 0 against 2 saves ~10 ms for
		// 1.5 % more bytes. Effort 3-4 is not worth its time at any size here.
		if px <= 640*640 {
			return 2
		}
		return 0
	case imaging.AVIF:
		return 2
	case imaging.PNG:
		return 4
	}
	return 0
}

// original returns the original's bytes and header: from memory, else from the
// store, with one store fetch however many ask at once.
func (h *Handler) original(ctx context.Context, key string) (*original, error) {
	if o, ok := h.originals.Get(key); ok {
		h.metrics.cacheOps.WithLabelValues("original", "hit").Inc()
		return o, nil
	}
	h.metrics.cacheOps.WithLabelValues("original", "miss").Inc()
	ch := h.fetches.DoChan(key, func() (any, error) {
		if o, ok := h.originals.Get(key); ok {
			return o, nil
		}
		start := time.Now()
		o, err := h.fetch(ctx, key)
		h.metrics.stages.WithLabelValues("fetch").Observe(time.Since(start).Seconds())
		if err != nil {
			return nil, err
		}
		h.originals.Add(key, o)
		return o, nil
	})
	return wait[*original](ctx, ch, h.metrics.coalesced.WithLabelValues("fetch"))
}

func (h *Handler) fetch(ctx context.Context, key string) (*original, error) {
	h.metrics.storeGets.Inc()
	obj, err := h.store.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			h.metrics.storeErrs.Inc()
			return nil, &storeError{err}
		}
		return nil, err
	}
	data, err := storage.ReadAll(obj, h.cfg.MaxSourceBytes)
	if errors.Is(err, storage.ErrTooLarge) {
		return nil, err
	} else if err != nil {
		h.metrics.storeErrs.Inc()
		return nil, &storeError{err}
	}
	hdr, err := imaging.Probe(data)
	if err != nil {
		return nil, err
	}
	return &original{data: data, info: obj.Info, header: hdr}, nil
}

func hitMiss(hit bool) string {
	if hit {
		return "hit"
	}
	return "miss"
}
