package resizer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/flight"
	"github.com/imgorigin/imgorigin/internal/httperr"
	"github.com/imgorigin/imgorigin/internal/tracing"
	"github.com/imgorigin/imgorigin/internal/workpool"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/sign"
	"github.com/imgorigin/imgorigin/storage"
)

// Config of a resizer. DefaultConfig gives every default; Validate checks it.
type Config struct {
	// Ladder lists the widths and heights unsigned requests may ask for.
	Ladder []int
	// LadderPolicy says what becomes of other sizes: served at the next rung
	// up (LadderSnap, the default) or refused (LadderReject).
	LadderPolicy LadderPolicy
	// AnySizeUnsigned lets unsigned requests ask for any size (no ladder):
	// only for origins no stranger can reach.
	AnySizeUnsigned bool
	// SignKeys verify the s parameter; several for rotation. Signed requests
	// may use any size up to MaxOutput.
	SignKeys [][]byte
	// SignScheme is how s is computed: sign.HMAC (default) or sign.Imgix
	// (imgix's libraries' secureURLToken; SignKeys are then the tokens).
	SignScheme sign.Scheme
	// MaxOutput bounds width and height after dpr; larger asks are scaled
	// down to it. Default 4096.
	MaxOutput int
	// Limits bound sources before decoding (pixels, frames, sides).
	Limits imaging.Limits
	// MaxSourceBytes bounds an original read from the store. Default 64 MiB.
	MaxSourceBytes int64
	// StoreReads bounds the originals being read from the store at once, and
	// StoreReadBytes the bytes their buffers hold together; past either, 503
	// at once. Defaults 64 and 256 MiB: four originals of the largest size.
	StoreReads     int
	StoreReadBytes int64
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
	// Quality when the request gives no q, on WebP's scale (each format's
	// encoder gets imaging.EncoderQuality of it). Default 80.
	Quality int
	// AutoAVIF lets auto=format choose AVIF for clients that accept it. On
	// by default: at effort 0 an AVIF render costs what WebP's does at
	// 320 px and about 1.3x its CPU at 1080 px, for 40 % fewer bytes there.
	AutoAVIF bool
	// Revalidate is how long a key's cached original and variants are
	// served before the store is asked again whether the original is still
	// there (a HEAD; 0: never): a deleted photo stops being served within
	// it. Default 30 s.
	Revalidate time.Duration
	// ClientAddressHeader names the header that carries the viewer's address
	// (CloudFront-Viewer-Address) when only a CDN reaches the origin; empty:
	// the connecting address is the client of the per-client budget.
	ClientAddressHeader string
	// StoreTimeout bounds one read of the store, retries included: a store
	// that is down or stalled costs a fast 503, not the whole Deadline.
	// Default 3 s.
	StoreTimeout time.Duration
	// Unsigned is the cost ceiling of requests without a signature.
	Unsigned UnsignedLimits
	// SmallCopyEdge is the long edge of the originals' small copies that
	// ingest makes (imaging.OriginalConfig.SmallEdge): a lossy answer up to
	// it is made from the copy when the copy has the pixels it needs, which
	// decodes about a quarter of the original's (0: always the original).
	// Default 1280.
	SmallCopyEdge int
}

// UnsignedLimits bound what a stranger can make the resizer do without a
// signature: no request may cost much more than an ordinary thumbnail, and
// parameters that change little come in coarse steps, so that new URLs do
// not buy new renders. Signed requests go up to MaxOutput.
type UnsignedLimits struct {
	// MaxSide bounds width and height after dpr; larger asks are scaled down
	// to fit (aspect kept). Default 2560, the long edge of stored originals.
	MaxSide int
	// MaxSlowPixels bounds the output of PNG and lossless WebP or AVIF, whose
	// encoders cost 10-40x lossy WebP's on photos (lossless AVIF at
	// 4096x4096: 1.4 s). Above it fm=png and lossless are refused. Lossy AVIF
	// is not slow: at effort 0 a 2560 px render takes 125 ms against WebP's
	// 97 ms. Default 640x640.
	MaxSlowPixels int
	// MaxDecodePixels bounds what an unsigned request may have decoded, in
	// pixels of baseline JPEG: after shrink-on-load for JPEG (a 48 MP photo
	// at 1/4 a side is 3 MP), every pixel for formats without it, weighted
	// by how slowly they decode (imaging.DecodeWeight: PNG and progressive
	// JPEG 2, TIFF, HEIC and AVIF 4). Stored originals (2560 px WebP) always
	// fit; a larger file in a plain directory needs a signed URL, or an
	// import that stores it reduced. Default 4096 x 3072, a 12 MP phone
	// JPEG at any size: at most 175 ms of a core here (BenchmarkUnsignedLargeFiles).
	MaxDecodePixels int64
	// MaxBlurPixels bounds a blurred output: a large blur is made small and
	// enlarged, which at 2560 px costs twice the render without it (170
	// against 80 ms here), at 1080 px 45-60 against 36 ms. Default 1080x1080.
	MaxBlurPixels int
	// MaxAnimationPixels bounds an animation's frames x pixels (every frame
	// is decoded whole and encoded, whatever the output's size: 14 frames of
	// 400x400 WebP cost 87 ms at 64 px and 123 ms at full size here, against
	// 20 ms for a 320 px still from a 2560 px original). Default 1 MP: 10
	// frames of 320x320, 3 of 600x400, 100 of 100x100.
	MaxAnimationPixels int64
	// MaxQuality caps q (q=100 JPEG is 4x the bytes of q=90 for no visible
	// gain), and QualityStep rounds it. Defaults 90 and 5.
	MaxQuality  int
	QualityStep int
	// PerOriginal and PerClient budget the render time of exotic unsigned
	// requests (any but the canonical forms srcsets and imgix's libraries
	// build: see canonical) per original and per client; past either, 429
	// with Retry-After. Canonical requests are never charged nor refused.
	// Defaults: 30 s of rendering at once per original, refilled at 3 s a
	// minute (a hundred or so exotic variants, then one every few seconds);
	// 10 s per client, refilled at 0.2 s a second (a tenth of two cores).
	PerOriginal RenderBudget
	PerClient   RenderBudget
}

// RenderBudget is render time one key may spend: Burst at once, refilled at
// Rate seconds a second. A zero Burst is no bound.
type RenderBudget struct {
	Burst time.Duration
	Rate  float64
}

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	return Config{
		Ladder:             DefaultLadder,
		LadderPolicy:       LadderSnap,
		SignScheme:         sign.HMAC,
		MaxOutput:          4096,
		Limits:             imaging.DefaultLimits(),
		MaxSourceBytes:     64 << 20,
		StoreReads:         64,
		StoreReadBytes:     256 << 20,
		OriginalCacheBytes: 256 << 20,
		VariantCacheBytes:  128 << 20,
		Concurrency:        runtime.NumCPU(),
		QueueLength:        4 * runtime.NumCPU(),
		Deadline:           10 * time.Second,
		CacheControl:       "public, max-age=31536000, immutable",
		ErrorCacheControl:  "public, max-age=60",
		Quality:            80,
		AutoAVIF:           true,
		StoreTimeout:       3 * time.Second,
		Revalidate:         30 * time.Second,
		SmallCopyEdge:      imaging.DefaultOriginal().SmallEdge,
		Unsigned: UnsignedLimits{MaxSide: 2560, MaxSlowPixels: 640 * 640, MaxDecodePixels: 4096 * 3072, MaxAnimationPixels: 1_000_000, MaxBlurPixels: 1080 * 1080, MaxQuality: 90, QualityStep: 5,
			PerOriginal: RenderBudget{Burst: 30 * time.Second, Rate: 0.05}, PerClient: RenderBudget{Burst: 10 * time.Second, Rate: 0.2}},
	}
}

// Validate reports a setting that cannot work, at start-up.
func (c Config) Validate() error {
	switch {
	case len(c.Ladder) == 0 && !c.AnySizeUnsigned:
		return errors.New("resizer: the size ladder is empty")
	case !slices.IsSorted(c.Ladder):
		return errors.New("resizer: the size ladder must be in increasing order")
	case c.LadderPolicy != LadderSnap && c.LadderPolicy != LadderReject:
		return fmt.Errorf("resizer: ladder policy must be snap or reject, not %q", c.LadderPolicy)
	case c.SignScheme != sign.HMAC && c.SignScheme != sign.Imgix:
		return fmt.Errorf("resizer: sign scheme must be hmac or imgix, not %q", c.SignScheme)
	case c.MaxOutput < 1:
		return errors.New("resizer: max output must be positive")
	case c.Concurrency < 1 || c.QueueLength < 0:
		return errors.New("resizer: concurrency must be at least 1 and the queue not negative")
	case c.Deadline <= 0 || c.StoreTimeout <= 0 || c.Revalidate < 0:
		return errors.New("resizer: deadline and store timeout must be positive, revalidation not negative")
	case c.Unsigned.MaxSide < 1 || c.Unsigned.MaxSlowPixels < 0 || c.Unsigned.MaxDecodePixels < 2560*2560 || c.Unsigned.MaxAnimationPixels < 1 || c.Unsigned.MaxBlurPixels < 1 || c.Unsigned.MaxQuality < 1 || c.Unsigned.MaxQuality > 100 || c.Unsigned.QualityStep < 1:
		return errors.New("resizer: unsigned limits must be positive (quality up to 100; decode pixels at least 2560 x 2560, a stored original)")
	case c.Unsigned.PerOriginal.Burst < 0 || c.Unsigned.PerClient.Burst < 0 || c.Unsigned.PerOriginal.Rate < 0 || c.Unsigned.PerClient.Rate < 0:
		return errors.New("resizer: unsigned render budgets must not be negative")
	case c.Quality < 1 || c.Quality > 100:
		return errors.New("resizer: quality must be 1..100")
	case c.OriginalCacheBytes < 0 || c.VariantCacheBytes < 0 || c.MaxSourceBytes < 1:
		return errors.New("resizer: cache and source sizes must not be negative")
	case c.StoreReads < 1 || c.StoreReadBytes < c.MaxSourceBytes:
		return errors.New("resizer: store reads must be at least 1, and their bytes hold at least one original of max source bytes")
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
	cfg         Config
	store       Originals
	log         *slog.Logger
	originals   *byteCache[*original]
	variants    *byteCache[*variant]
	fetches     flight.Group[*original]
	heads       flight.Group[struct{}] // revalidations of cached keys
	checks      *checks
	lacksSmall  *checks // photos found without a small copy, and when
	renders     flight.Group[*variant]
	pool        *workpool.Pool
	perOriginal *costBudget
	perClient   *costBudget
	reads       *readBudget
	recent      *recent // what reads of originals told lately, cached or not
	// faces found on reads of originals stored without them (a read never
	// writes), by key and ETag.
	faces        *byteCache[[]facts.Face]
	metrics      *metrics
	cacheControl string
}

type original struct {
	data   []byte
	info   storage.Info
	header imaging.Header
	// of, for an original's small copy, is the original's header: answers
	// are sized and encoded as the original's would be.
	of *imaging.Header
}

// variant is one rendition; its ETag is made per request (from origETag and
// the request's canonical options), since requests that differ only in
// parameters without effect share one variant.
type variant struct {
	data         []byte
	contentType  string
	origETag     string
	lastModified time.Time
	cost         time.Duration // the render's time: what an exotic request is charged
}

// New returns a Handler; reg receives its metrics (nil: none).
func New(store Originals, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:         cfg,
		store:       store,
		log:         log,
		originals:   newByteCache(cfg.OriginalCacheBytes, func(o *original) int64 { return int64(len(o.data)) }),
		variants:    newByteCache(cfg.VariantCacheBytes, func(v *variant) int64 { return int64(len(v.data)) }),
		pool:        workpool.New(cfg.Concurrency, cfg.QueueLength),
		perOriginal: newCostBudget(cfg.Unsigned.PerOriginal),
		perClient:   newCostBudget(cfg.Unsigned.PerClient),
		reads:       newReadBudget(cfg.StoreReads, cfg.StoreReadBytes),
		recent:      newRecent(),
		checks:      newChecks(),
		lacksSmall:  newChecks(),
		faces:       newByteCache(1<<20, func(f []facts.Face) int64 { return int64(40 + 40*len(f)) }),
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

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK, cache: "none"}
	switch err := h.serve(rec, r); {
	case err != nil:
		rec.cache = "none"
		server.WriteError(rec, r, err, server.ErrorFormat{CacheClientErrors: h.cfg.ErrorCacheControl, Log: h.log, Component: "resizer"})
	case rec.status == http.StatusNotModified:
		rec.cache = "none"
	case rec.cache == "none": // answered without a variant look-up: the original, a palette
		rec.cache = "miss"
	}
	if rec.bytes > 0 {
		h.metrics.bytesOut.WithLabelValues(formatOf(rec.Header().Get("Content-Type"))).Add(float64(rec.bytes))
	}
	h.metrics.requests.WithLabelValues(strconv.Itoa(rec.status), rec.cache).Observe(time.Since(start).Seconds())
}

// statusWriter remembers what the request histogram and the bytes counter
// label an answer by: its status (http.ServeContent may set 304), its
// body's bytes, and how its variant was found (noteCache: hit, miss, none).
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	cache  string
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (h *Handler) serve(w *statusWriter, r *http.Request) error {
	key := strings.TrimPrefix(r.URL.Path, "/")
	if key == "" {
		return fmt.Errorf("%w: no key in the path", storage.ErrNotFound)
	}
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	// url.Query would silently drop pairs it cannot parse (with ";" or a bad
	// escape): w=320;h=320 would render full size and junk could ride along
	// a signed URL. Such queries are refused whole.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return badf("malformed query: separate parameters with & and %%-escape the rest")
	}
	signed, err := h.authorize(r, q)
	if err != nil {
		return err
	}
	// Aliases and base64 variants spelled as the table names them, before
	// the ladder reads w and h; parameters imgix's API lacks are ignored,
	// as imgix does, and named in a header for whoever wonders why.
	q, unknown, err := normalize(q)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		w.Header().Set("Imgorigin-Ignored", strings.Join(unknown, ", "))
	}
	if vary := hintVary(q); len(vary) > 0 {
		// Client Hints: the page asks for them (Accept-CH); this answer
		// depends on them.
		w.Header().Set("Accept-CH", "Sec-CH-Width, Sec-CH-DPR, Save-Data")
		for _, v := range vary {
			w.Header().Add("Vary", v)
		}
		q = applyHints(q, r.Header)
	}
	rung := ""
	if !signed && !h.cfg.AnySizeUnsigned {
		if q, rung, err = onLadder(q, h.cfg.Ladder, h.cfg.LadderPolicy); err != nil {
			return err
		}
	}
	opts, err := parseNormalized(q, r.Header.Get("Accept"), ParseConfig{MaxOutput: h.cfg.MaxOutput, AutoAVIF: h.cfg.AutoAVIF}) // normalized above
	if err != nil {
		return err
	}
	if !signed {
		opts = h.cfg.Unsigned.quantize(opts)
	}
	if rung != "" {
		// Which rung answered a size off the ladder (or the one asked).
		w.Header().Set("Imgorigin-Rung", rung)
	}
	rq := request{key: key, opts: opts, signed: signed}
	if !signed && !h.cfg.canonical(q, opts) {
		rq.client = client(r, h.cfg.ClientAddressHeader)
	}
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), cacheKey{}, &w.cache), h.cfg.Deadline)
	defer cancel()
	if opts.Expires > 0 && time.Now().Unix() >= opts.Expires {
		return httperr.New(http.StatusNotFound, "this URL expired at %s", time.Unix(opts.Expires, 0).UTC().Format(time.RFC3339))
	}
	if opts.Format == FormatJSON || opts.Palette != "" {
		answer := h.factsVariant
		if opts.Palette != "" {
			answer = h.paletteVariant
		}
		v, err := answer(ctx, rq)
		if err != nil {
			return err
		}
		return h.send(w, r, v, opts)
	}
	v, ok := h.variants.Get(key + "?" + opts.String())
	if ok {
		h.metrics.cacheOps.WithLabelValues("variant", "hit").Inc()
		noteCache(ctx, "hit")
		if err := h.stillStored(ctx, key); err != nil {
			return err
		}
	} else {
		if etag, ok := h.unchanged(ctx, r, key, opts); ok {
			h.metrics.cacheOps.WithLabelValues("variant", "miss").Inc()
			return h.notModified(w, etag, opts)
		}
		if v, err = h.variant(ctx, rq); err != nil {
			return err
		}
	}
	return h.send(w, r, v, opts)
}

// send answers with v and the headers of every variant.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, v *variant, opts Options) error {
	hd := w.Header()
	hd.Set("Content-Type", v.contentType)
	hd.Set("ETag", variantETag(v.origETag, opts))
	h.cachingHeaders(hd, opts)
	if strings.Contains(r.Header.Get("Range"), ",") {
		// Several ranges make a multipart answer that can be many times the
		// image (3,000 one-byte ranges: 43x a 9 KB variant); like imgproxy,
		// serve them the whole image instead.
		r.Header.Del("Range")
	}
	http.ServeContent(w, r, "", v.lastModified, bytes.NewReader(v.data))
	return nil
}

// request is one rendition asked for.
type request struct {
	key    string
	opts   Options
	signed bool
	// client is who asked an exotic unsigned request (see canonical), whose
	// renders are charged to the budgets; "" for all others.
	client string
}

func (rq request) exotic() bool { return rq.client != "" }

// authorize checks the signature if there is one; it reports whether the
// request is signed.
func (h *Handler) authorize(r *http.Request, q url.Values) (bool, error) {
	if q.Get("s") == "" {
		return false, nil
	}
	if len(h.cfg.SignKeys) == 0 {
		return false, badf("signed URLs are not enabled on this server")
	}
	if !sign.Verify(h.cfg.SignScheme, h.cfg.SignKeys, r.URL.EscapedPath(), r.URL.RawQuery, q) {
		return false, errBadSignature
	}
	return true, nil
}

func (h *Handler) cachingHeaders(hd http.Header, opts Options) {
	hd.Set("Cache-Control", h.cacheControl)
	if opts.Expires > 0 {
		// No cache keeps it past its end.
		hd.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", min(365*24*3600, max(0, opts.Expires-time.Now().Unix()))))
	}
	if opts.Download != "" {
		hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": opts.Download}))
	}
	hd.Set("X-Content-Type-Options", "nosniff")
	if opts.Negotiated {
		hd.Add("Vary", "Accept") // after any Vary: Origin of CORS
	}
}

// unchanged answers a revalidation (If-None-Match) for a variant no longer in
// memory from the original's ETag alone, without rendering.
func (h *Handler) unchanged(ctx context.Context, r *http.Request, key string, opts Options) (string, bool) {
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return "", false
	}
	if _, refused := h.recent.refused(key, time.Now()); refused {
		return "", false
	}
	var origETag string
	if o, ok := h.originals.Get(key); ok {
		origETag = o.info.ETag
	} else {
		sctx, cancel := context.WithTimeout(ctx, h.cfg.StoreTimeout)
		info, err := h.store.Head(sctx, key)
		cancel()
		if err != nil {
			return "", false
		}
		origETag = info.ETag
	}
	etag := variantETag(origETag, opts)
	for _, t := range strings.Split(inm, ",") {
		// Not "*": it would tell a stranger which files exist without a
		// render; a cache revalidates with the ETag it holds.
		if t = strings.TrimSpace(t); t == etag || t == "W/"+etag {
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

// renditionVersion changes every ETag when the same URL starts to render
// other bytes (encoder settings, the quality map), so that caches holding
// the old bytes do not revalidate them as current.
const renditionVersion = "6"

func variantETag(origETag string, opts Options) string {
	sum := sha256.Sum256([]byte(renditionVersion + "\x00" + origETag + "\x00" + opts.String()))
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// variant finds or renders the variant asked of an original. Requests that
// differ only in parameters without effect on this original (see
// renderOptions) share one render and one cache entry, so a hit is counted
// here, where it is known. What is known to fail is refused before the
// original is read: a refusal of the original, or a size its header (kept
// for a while after a read) does not allow.
func (h *Handler) variant(ctx context.Context, rq request) (*variant, error) {
	now := time.Now()
	if read, ok := h.recent.get(rq.key, now); ok {
		if read.err != nil {
			return nil, read.err
		}
		if _, err := h.cfg.renderOptions(rq.opts, read.header, rq.signed); err != nil {
			return nil, err
		}
	}
	o, ropts, err := h.source(ctx, rq)
	if err != nil {
		return nil, err
	}
	if h.servesOriginal(o, ropts) {
		return &variant{data: o.data, contentType: o.header.Format.ContentType(), origETag: o.info.ETag, lastModified: o.info.LastModified}, nil
	}
	rkey := rq.key + "?" + ropts.String()
	v, ok := h.variants.Get(rkey)
	h.metrics.cacheOps.WithLabelValues("variant", hitMiss(ok)).Inc()
	noteCache(ctx, hitMiss(ok))
	if ok {
		return v, nil
	}
	if rq.exotic() {
		if wait := h.perOriginal.wait(rq.key, now); wait > 0 {
			h.metrics.budgetRefusals.WithLabelValues("original").Inc()
			return nil, tooMuchRendering("this image", wait)
		}
		if wait := h.perClient.wait(rq.client, now); wait > 0 {
			h.metrics.budgetRefusals.WithLabelValues("client").Inc()
			return nil, tooMuchRendering("your address", wait)
		}
	}
	v, shared, err := h.render(ctx, rq.key, rkey, o, ropts)
	if err == nil && !shared {
		h.metrics.renderSeconds.WithLabelValues(requestKind(rq)).Add(v.cost.Seconds())
		if rq.exotic() {
			h.perOriginal.charge(rq.key, v.cost, time.Now())
			h.perClient.charge(rq.client, v.cost, time.Now())
		}
	}
	return v, err
}

// requestKind labels render time by who may ask for it.
func requestKind(rq request) string {
	switch {
	case rq.signed:
		return "signed"
	case rq.exotic():
		return "exotic"
	}
	return "canonical"
}

// render makes the variant once however many ask at once (shared: this
// caller did not start it). The work outlives any one caller, so one client
// leaving does not fail the others, but stops once every caller has gone: at
// the latest when its turn for a render slot comes, before libvips does any
// work (libvips computes pixels lazily, during the encode, and cannot be
// interrupted once it has started). A failure of the original itself is
// remembered like a refusal to read it.
func (h *Handler) render(ctx context.Context, key, rkey string, o *original, opts Options) (v *variant, shared bool, err error) {
	v, shared, err = h.renders.Do(ctx, rkey, func(wctx context.Context) (*variant, error) {
		if v, ok := h.variants.Get(rkey); ok {
			return v, nil
		}
		wctx, cancel := context.WithTimeout(wctx, h.cfg.Deadline)
		defer cancel()
		queued := time.Now()
		if err := h.pool.Acquire(wctx); err != nil {
			return nil, err
		}
		defer h.pool.Release()
		if err := wctx.Err(); err != nil {
			return nil, err // nobody waits any more
		}
		rendering := time.Now()
		h.metrics.stages.WithLabelValues("queue").Observe(rendering.Sub(queued).Seconds())
		rctx, span := tracing.Start(wctx, "render", attribute.Bool("small_copy", o.of != nil))
		v, err := h.renderOriginal(rctx, key, o, opts)
		tracing.End(span, err)
		h.metrics.stages.WithLabelValues("render").Observe(time.Since(rendering).Seconds())
		if err != nil {
			if errors.Is(err, imaging.ErrCorrupt) {
				h.log.Warn("a stored image does not decode", "key", key, "small_copy", o.of != nil, "err", err)
				if o.of == nil {
					h.recent.read(key, o.header, err, time.Now())
				}
			}
			return nil, err
		}
		v.cost = time.Since(rendering)
		h.variants.Add(rkey, v)
		return v, nil
	})
	if shared {
		h.metrics.coalesced.WithLabelValues("render").Inc()
	}
	return v, shared, err
}

// blurScale turns imgix's blur (0..2000) into a sigma as a fraction of the
// output's long edge: blur=2000 is a sigma of a tenth of it, blur=100 of
// 0.5 % (5 px on a 1000 px image), alike at every size of a srcset.
const blurScale = 20000

func (h *Handler) renderOriginal(ctx context.Context, key string, o *original, opts Options) (*variant, error) {
	whole := o.header
	if o.of != nil {
		whole = *o.of
	}
	enc := imaging.Encoding{Format: outputFormat(opts.Format, whole.Format), Quality: opts.Quality, Progressive: !opts.Baseline,
		Lossless: opts.Lossless, Chroma: opts.Chroma, DPI: opts.DPI, Colors: opts.ColorQuant, Profile: opts.Profile, KeepIPTC: opts.KeepIPTC}
	if enc.Quality == 0 {
		enc.Quality = h.cfg.Quality
	}
	sw, sh := whole.Upright()
	enc.Quality = imaging.EncoderQuality(enc.Format, enc.Quality, outputLongEdge(opts, sw, sh))
	tr := imaging.Transform{Width: opts.Width, Height: opts.Height, Fit: opts.Fit, Gravity: opts.Gravity, FocalX: opts.FocalX, FocalY: opts.FocalY,
		Background: opts.Background, Upscale: opts.Upscale, Blur: float64(opts.Blur) / blurScale,
		Orient: opts.Orient, Zoom: opts.Zoom, Effects: opts.Effects, Frame: opts.Frame, Trim: opts.trim(o.header.Alpha), FocalDebug: opts.FocalDebug}
	if opts.Rect != nil {
		r := opts.Rect.region(o.header.Reoriented(opts.Orient).Upright())
		tr.Region = &r
	}
	if opts.FillColor != nil {
		tr.Background = opts.FillColor
	}
	tr.Fill = opts.fill(tr.Frame.Inside(tr.Width, tr.Height))
	tr.Grid, tr.GridSize = opts.Grid, opts.GridSize
	tr.Mask = opts.mask()
	var err error
	if tr.Blend, tr.Mark, err = h.overlays(ctx, opts); err != nil {
		return nil, err
	}
	tr.Text = opts.Text.text()
	if opts.Gravity == imaging.GravityFaces || opts.FaceArea {
		found, err := h.facesOf(key, o)
		if err != nil {
			return nil, err
		}
		switch {
		case len(found) == 0:
			tr.Gravity = imaging.GravityAttention // as libvips finds what stands out
		case opts.FaceArea:
			r := faceArea(found[min(opts.FaceIndex, len(found))-1], opts.FacePad, opts.Width, opts.Height, sw, sh)
			tr.Region, tr.Fit, tr.Gravity = &r, imaging.FitScale, ""
			if opts.Width == 0 || opts.Height == 0 {
				tr.Fit = imaging.FitClip
			}
		default:
			tr.Gravity = imaging.GravityFocal
			tr.FocalX, tr.FocalY = facesFocus(found, max(tr.Width, 1), max(tr.Height, 1), sw, sh)
		}
	}
	if o.of != nil && !opts.Fit.Crops() {
		// The copy's sides are the original's halved and rounded: an answer
		// that fits inside a box takes its size from the original's, or it
		// could be a pixel off the one made from the original.
		tr.Width, tr.Height, tr.Fit = fitInside(opts, sw, sh)
	}
	bw, bh := opts.Width, opts.Height
	if bw == 0 && bh == 0 { // the original's own size: a large render
		bw, bh = sw, sh
	}
	enc.Effort = imaging.Effort(enc.Format, bw, bh)
	out, err := imaging.Render(ctx, o.data, o.header, tr, enc, h.cfg.Limits)
	if err != nil {
		return nil, err
	}
	data := out.Bytes
	// Never serve more bytes than the original at the same size and format,
	// when it is one the conversion stored (stripped, upright): a file
	// another program put in the store may carry GPS, or worse.
	if w, ht := o.header.Upright(); o.info.Own && out.Format == o.header.Format && out.Width == w && out.Height == ht &&
		out.Frames == o.header.Pages && o.header.Orientation == 1 && len(o.data) < len(data) {
		data = o.data
	}
	return &variant{data: data, contentType: out.Format.ContentType(), origETag: o.info.ETag, lastModified: o.info.LastModified}, nil
}

// servesOriginal reports whether the answer is the stored original as it
// is, with no render: an original the conversion stored (stripped, upright)
// asked at its own size and format (or by auto=format from a client that
// takes AVIF, and so WebP) with nothing changed. Re-encoding it would cost a
// full-size render for the same pixels and about the same bytes.
func (h *Handler) servesOriginal(o *original, opts Options) bool {
	out := outputFormat(opts.Format, o.header.Format)
	sameFormat := out == o.header.Format || opts.Negotiated && out == imaging.AVIF && o.header.Format == imaging.WebP
	return o.info.Own && opts.Width == 0 && opts.Height == 0 && sameFormat && o.header.Orientation == 1 &&
		!opts.asksBeyond("fit", "fm") && !(o.header.Alpha && out == imaging.JPEG)
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

// original returns the original's bytes and header: from memory, else from the
// store, with one store fetch however many ask at once, bounded by StoreTimeout.
func (h *Handler) original(ctx context.Context, key string) (*original, error) {
	return h.object(ctx, key, key)
}

// object reads the object under key as original does; a copy held in
// memory is served while the original under of is still stored.
func (h *Handler) object(ctx context.Context, key, of string) (o *original, err error) {
	ctx, span := tracing.Start(ctx, "fetch", attribute.Bool("small_copy", key != of))
	defer func() { tracing.End(span, err) }()
	if o, ok := h.originals.Get(key); ok {
		h.metrics.cacheOps.WithLabelValues("original", "hit").Inc()
		span.SetAttributes(attribute.String("source", "cache"))
		if err := h.stillStored(ctx, of); err != nil {
			return nil, err
		}
		return o, nil
	}
	h.metrics.cacheOps.WithLabelValues("original", "miss").Inc()
	o, shared, err := h.fetches.Do(ctx, key, func(wctx context.Context) (*original, error) {
		if o, ok := h.originals.Get(key); ok {
			return o, nil
		}
		wctx, cancel := context.WithTimeout(wctx, h.cfg.StoreTimeout)
		defer cancel()
		start := time.Now()
		get := h.store.Get
		if n, ok := h.store.(nearby); ok && key != of {
			get = n.GetNearby // a far copy costs more than the original near
		}
		o, err := h.fetch(wctx, key, get)
		if err == nil {
			h.checks.mark(of, start) // a small copy is deleted with its original
		}
		h.metrics.stages.WithLabelValues("fetch").Observe(time.Since(start).Seconds())
		if err != nil {
			return nil, err
		}
		h.originals.Add(key, o)
		return o, nil
	})
	if shared {
		h.metrics.coalesced.WithLabelValues("fetch").Inc()
		span.SetAttributes(attribute.String("source", "coalesced"))
	} else {
		span.SetAttributes(attribute.String("source", "store"))
	}
	return o, err
}

// fetch reads an original within the read budget. Its first bytes are
// sniffed before the rest is read: a file that is no image allowed is
// refused having cost a few hundred bytes, and its refusal is remembered.
func (h *Handler) fetch(ctx context.Context, key string, get func(context.Context, string) (*storage.Object, error)) (*original, error) {
	if err, ok := h.recent.refused(key, time.Now()); ok {
		return nil, err
	}
	rd, err := h.reads.begin()
	if err != nil {
		return nil, err
	}
	defer rd.end()
	h.metrics.storeGets.Inc()
	obj, err := get(ctx, key)
	if err != nil {
		return nil, h.storeError(err)
	}
	o, err := h.read(obj, rd)
	var hdr imaging.Header
	if o != nil {
		hdr = o.header
	}
	h.recent.read(key, hdr, err, time.Now())
	return o, err
}

// storeError is a store's error as an answer: not found (or no key) as it
// is, anything else the store failing (503), counted.
func (h *Handler) storeError(err error) error {
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidKey) {
		return err
	}
	h.metrics.storeErrs.Inc()
	return httperr.Store(err)
}

// sniffBytes is enough of a file to name its format (an ISO media file's
// ftyp box lists its brands within it).
const sniffBytes = 256

func (h *Handler) read(obj *storage.Object, rd *read) (*original, error) {
	if obj.Size > h.cfg.MaxSourceBytes {
		obj.Body.Close()
		return nil, fmt.Errorf("%w: %s is over the %d byte limit", storage.ErrTooLarge, obj.Key, h.cfg.MaxSourceBytes)
	}
	// The whole file counts against the budget only once it has shown it
	// may be an image.
	head := make([]byte, sniffBytes)
	n, err := io.ReadFull(obj.Body, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		obj.Body.Close()
		h.metrics.storeErrs.Inc()
		return nil, httperr.Store(err)
	}
	if _, err := imaging.Sniff(head[:n]); err != nil {
		obj.Body.Close()
		return nil, err
	}
	if err := rd.reserve(max(obj.Size, sniffBytes)); err != nil {
		obj.Body.Close()
		return nil, err
	}
	data, err := storage.ReadRest(obj, head[:n], h.cfg.MaxSourceBytes)
	if errors.Is(err, storage.ErrTooLarge) {
		return nil, err
	} else if err != nil {
		h.metrics.storeErrs.Inc()
		return nil, httperr.Store(err)
	}
	hdr, err := imaging.Probe(data)
	if errors.Is(err, imaging.ErrCorrupt) {
		h.log.Warn("a stored image does not decode", "key", obj.Key, "err", err)
	}
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
