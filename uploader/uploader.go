// Package uploader is what clients upload to and what backends ask for upload
// tokens: POST /v1/upload-tokens (service key), POST /v1/uploads (upload
// token), GET /.well-known/jwks.json. Uploads are read under a hard byte limit
// and timeouts, sniffed, checked from the header, converted once into a private
// WebP original (ingest), and answered with a signed result token.
package uploader

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/flight"
	"github.com/imgorigin/imgorigin/internal/httperr"
	"github.com/imgorigin/imgorigin/internal/tracing"
	"github.com/imgorigin/imgorigin/internal/workpool"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/token"
)

// Config of an uploader. DefaultConfig fills every field.
type Config struct {
	// MaxBytes caps an upload body; a token may lower it. Default 50 MiB.
	MaxBytes int64
	// TokenTTL is an upload token's life when the backend does not ask;
	// MaxTokenTTL caps what it may ask. Defaults 15 min and 1 h.
	TokenTTL    time.Duration
	MaxTokenTTL time.Duration
	// ResultTTL is how long the backend may take to verify a result token. Default 24 h.
	ResultTTL time.Duration
	// MaxUploadsPerToken caps the max_uploads a backend may ask for one
	// upload token; a token that asks none stores one object. Default 100.
	MaxUploadsPerToken int
	// Concurrency conversions run at once (default: cores); QueueLength more
	// may wait (default 2 x Concurrency); past that, 503.
	Concurrency int
	QueueLength int
	// ReadTimeout bounds reading a whole body; IdleTimeout the gap between two
	// reads. Defaults 2 min and 15 s: a stalled client is cut and its buffer freed.
	ReadTimeout time.Duration
	IdleTimeout time.Duration
	// QueueTimeout bounds waiting for a conversion slot. Default 10 s.
	QueueTimeout time.Duration
	// BodyMemory bounds the bytes all upload bodies in memory hold together;
	// an upload that finds it spent is answered 503 at once. Bodies grow as
	// bytes arrive, so a client that declares 50 MB and stalls holds 64 KiB.
	// Default 256 MiB: five 50 MB uploads, or sixty 4 MB photos, at once.
	BodyMemory int64
	// PerSubject bounds the uploads in progress for one subject (one token,
	// or many tokens for one user); past it, 429. Default 4.
	PerSubject int
	// StoreTimeout bounds each store write (the original, the archive copy,
	// a deferred upload): a store that is down or stalled costs a 503 with
	// Retry-After within this, never a hang. Default 10 s.
	StoreTimeout time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxBytes: 50 << 20, TokenTTL: 15 * time.Minute, MaxTokenTTL: time.Hour, ResultTTL: 24 * time.Hour, MaxUploadsPerToken: 100,
		Concurrency: runtime.NumCPU(), QueueLength: 2 * runtime.NumCPU(),
		ReadTimeout: 2 * time.Minute, IdleTimeout: 15 * time.Second, QueueTimeout: 10 * time.Second,
		BodyMemory: 256 << 20, PerSubject: 4, StoreTimeout: 10 * time.Second,
	}
}

// Validate reports a setting that cannot work, at start-up.
func (c Config) Validate() error {
	switch {
	case c.MaxBytes < 1:
		return errors.New("uploader: max bytes must be positive")
	case c.TokenTTL <= 0 || c.MaxTokenTTL < c.TokenTTL || c.ResultTTL <= 0:
		return errors.New("uploader: token lifetimes must be positive, the default within the maximum")
	case c.MaxTokenTTL > token.MaxUploadLifetime || c.ResultTTL > token.MaxResultLifetime:
		return fmt.Errorf("uploader: token lifetimes are at most %v (upload) and %v (result): verifiers refuse longer ones", token.MaxUploadLifetime, token.MaxResultLifetime)
	case c.MaxUploadsPerToken < 1:
		return errors.New("uploader: uploads per token must be at least 1")
	case c.Concurrency < 1 || c.QueueLength < 0:
		return errors.New("uploader: concurrency must be at least 1 and the queue not negative")
	case c.ReadTimeout <= 0 || c.IdleTimeout <= 0 || c.QueueTimeout <= 0 || c.StoreTimeout <= 0:
		return errors.New("uploader: timeouts must be positive")
	case c.BodyMemory < c.MaxBytes+firstChunk:
		return errors.New("uploader: body memory must hold at least one upload of max bytes")
	case c.PerSubject < 1:
		return errors.New("uploader: uploads per subject must be at least 1")
	}
	return nil
}

// Deferrer takes an upload the uploader is too busy to convert now: it must
// store raw and arrange for it to become the original under key later.
type Deferrer interface {
	Defer(ctx context.Context, subject, key string, raw []byte, contentType string) error
}

// Archive keeps untouched uploads, for users who must keep camera originals.
type Archive interface {
	Put(ctx context.Context, key string, data []byte, contentType string, meta storage.Meta) (storage.Info, error)
}

// Handler serves the uploader's endpoints.
type Handler struct {
	cfg         Config
	ingest      *ingest.Ingester
	keys        *token.KeySet
	serviceKeys [][]byte
	archive     Archive  // nil: off
	deferrer    Deferrer // nil: overload answers 503
	deleter     Deleter  // nil: no delete routes
	deleted     func(keys []string)
	pool        *workpool.Pool
	budget      *memoryBudget
	subjects    *subjectLimiter
	ledger      *ledger
	conversions flight.Group[ingest.Result]
	log         *slog.Logger
	uploads     *prometheus.HistogramVec
	deletes     *prometheus.CounterVec // keys, by result
}

// New returns a Handler. serviceKeys authenticate backends; archive may be nil.
// Keys are the token keys the uploader signs and verifies with.
func (h *Handler) Keys() *token.KeySet { return h.keys }

func New(in *ingest.Ingester, keys *token.KeySet, serviceKeys [][]byte, archive Archive, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(serviceKeys) == 0 {
		return nil, errors.New("uploader: no service keys: backends could not ask for upload tokens")
	}
	h := &Handler{cfg: cfg, ingest: in, keys: keys, serviceKeys: serviceKeys, archive: archive, log: log,
		pool:     workpool.New(cfg.Concurrency, cfg.QueueLength),
		budget:   newMemoryBudget(cfg.BodyMemory),
		subjects: &subjectLimiter{inFlight: map[string]int{}, max: cfg.PerSubject},
		ledger:   newLedger(cfg.MaxTokenTTL + token.Leeway),
		uploads: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "imgorigin_uploader_request_duration_seconds", Help: "Uploader requests by endpoint and status.",
			Buckets: []float64{.01, .025, .05, .1, .2, .3, .5, .7, 1, 2, 5, 10, 30}}, []string{"endpoint", "status"}),
		deletes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_uploader_deleted_keys_total", Help: "Keys backends asked to delete, by result (deleted, error)."}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(h.uploads, h.deletes,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imgorigin_uploader_queue_depth", Help: "Uploads waiting for a conversion slot."}, func() float64 { return float64(h.pool.Waiting()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imgorigin_uploader_conversions_in_flight", Help: "Conversions running now."}, func() float64 { return float64(h.pool.InFlight()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imgorigin_uploader_body_bytes", Help: "Memory held by upload bodies, charged against --upload-body-memory."}, func() float64 { return float64(h.budget.held.Load()) }))
	}
	return h, nil
}

// Register adds the uploader's routes to mux.
func (h *Handler) Register(mux interface {
	Handle(pattern string, handler http.Handler)
}) {
	mux.Handle("POST /v1/upload-tokens", h.endpoint("upload-tokens", h.uploadToken))
	mux.Handle("POST /v1/uploads", h.endpoint("uploads", h.upload))
	mux.Handle("GET /.well-known/jwks.json", h.endpoint("jwks", h.jwks))
	if h.deleter != nil {
		mux.Handle("DELETE /v1/originals/", h.endpoint("delete", h.deleteOne))
		mux.Handle("POST /v1/originals/delete", h.endpoint("delete-batch", h.deleteBatch))
	}
}

// endpoint adapts a handler that returns an error, answered as JSON.
func (h *Handler) endpoint(name string, f func(http.ResponseWriter, *http.Request) (int, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status, err := f(w, r)
		if err != nil {
			status = server.WriteError(w, r, err, server.ErrorFormat{JSON: true, Log: h.log, Component: "uploader"})
		}
		h.uploads.WithLabelValues(name, fmt.Sprint(status)).Observe(time.Since(start).Seconds())
	})
}

// readSmallBody reads a backend's JSON body of at most limit bytes.
func readSmallBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	switch {
	case err != nil:
		return nil, badRequest("could not read the body")
	case int64(len(body)) > limit:
		return nil, tooLarge(limit)
	}
	return body, nil
}

// strictObject checks that b is one JSON object whose names are each one of
// names, exactly, and given once, with nothing after it (the values are
// left for json.Unmarshal to type).
// encoding/json alone would take the last of a repeated name, match names
// without regard to case or Unicode folding ("ſubject" is "subject" to it)
// and ignore what follows the object.
func strictObject(b []byte, names ...string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("body must be a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errors.New("body is not valid JSON")
		}
		name := t.(string) // inside an object the decoder yields names as strings
		switch {
		case !slices.Contains(names, name):
			return fmt.Errorf("unknown field %q (fields, spelt exactly: %s)", name, strings.Join(names, ", "))
		case seen[name]:
			return fmt.Errorf("%q is given twice", name)
		}
		seen[name] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return errors.New("body is not valid JSON")
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return errors.New("body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("nothing may follow the JSON object")
	}
	return nil
}

type tokenRequest struct {
	Subject    string `json:"subject"`
	MaxBytes   int64  `json:"max_bytes"`
	MaxUploads int    `json:"max_uploads"`
	TTLSeconds *int64 `json:"ttl_seconds"` // nil: the server's TokenTTL
}

func (h *Handler) uploadToken(w http.ResponseWriter, r *http.Request) (int, error) {
	if !h.serviceKeyValid(r) {
		return 0, errUnauthorized("a valid service key is required (Authorization: Bearer KEY)")
	}
	var req tokenRequest
	body, err := readSmallBody(r, 64<<10)
	if err != nil {
		return 0, err
	}
	if err := strictObject(body, "subject", "max_bytes", "max_uploads", "ttl_seconds"); err != nil {
		return 0, badRequest(err.Error())
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, badRequest(`body must be JSON {"subject": string, "max_bytes": number, "max_uploads": number, "ttl_seconds": number}, with whole numbers in range`)
	}
	if req.Subject == "" || len(req.Subject) > 256 {
		return 0, badRequest("subject must be 1 to 256 characters")
	}
	if req.MaxBytes < 0 || req.MaxBytes > h.cfg.MaxBytes {
		return 0, badRequest(fmt.Sprintf("max_bytes must be from 0 (server default) to %d", h.cfg.MaxBytes))
	}
	ttl := h.cfg.TokenTTL
	if req.TTLSeconds != nil {
		// Checked in seconds before it is multiplied: a huge value must not
		// overflow into a token that expired before it was made.
		if maxTTL := int64(h.cfg.MaxTokenTTL / time.Second); *req.TTLSeconds < 1 || *req.TTLSeconds > maxTTL {
			return 0, badRequest(fmt.Sprintf("ttl_seconds must be from 1 to %d", maxTTL))
		}
		ttl = time.Duration(*req.TTLSeconds) * time.Second
	}
	if req.MaxUploads < 0 || req.MaxUploads > h.cfg.MaxUploadsPerToken {
		return 0, badRequest(fmt.Sprintf("max_uploads must be from 0 (one upload) to %d", h.cfg.MaxUploadsPerToken))
	}
	tok, claims, err := h.keys.MintUpload(req.Subject, token.UploadLimits{MaxBytes: req.MaxBytes, MaxUploads: req.MaxUploads}, ttl, time.Now())
	if err != nil {
		return 0, err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "max_uploads": max(1, req.MaxUploads),
		"expires_at": claims.ExpiresAt.UTC().Format(time.RFC3339)})
}

// serviceKeyValid compares against every key in constant time.
func (h *Handler) serviceKeyValid(r *http.Request) bool {
	got, ok := bearer(r)
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	valid := 0
	for _, k := range h.serviceKeys {
		want := sha256.Sum256(k)
		valid |= subtle.ConstantTimeCompare(sum[:], want[:])
	}
	return valid == 1
}

func bearer(r *http.Request) (string, bool) {
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
}

// UploadResult is the 201 answer to an upload.
type UploadResult struct {
	Key         string              `json:"key"`
	Width       int                 `json:"width"`
	Height      int                 `json:"height"`
	Bytes       int64               `json:"bytes"`
	Format      string              `json:"format"`
	Home        string              `json:"home,omitempty"`
	Placeholder imaging.Placeholder `json:"placeholder"`
	ResultToken string              `json:"result_token"`
}

func (h *Handler) upload(w http.ResponseWriter, r *http.Request) (int, error) {
	tok, ok := bearer(r)
	if !ok {
		return 0, errUnauthorized("an upload token is required (Authorization: Bearer TOKEN)")
	}
	claims, err := h.keys.VerifyUpload(tok, time.Now())
	if err != nil {
		h.log.InfoContext(r.Context(), "upload token refused", "err", err)
		return 0, errUnauthorized(tokenRefusal(err))
	}
	if !h.subjects.acquire(claims.Subject) {
		return 0, &httperr.Error{Status: http.StatusTooManyRequests, RetryAfter: time.Second, Kind: "subject_busy",
			Msg: fmt.Sprintf("%d uploads are already in progress for this subject; retry when one is done", h.cfg.PerSubject)}
	}
	defer h.subjects.release(claims.Subject)
	limit := h.cfg.MaxBytes
	if claims.MaxBytes > 0 {
		limit = min(limit, claims.MaxBytes)
	}
	body, contentType, release, err := h.readBody(w, r, limit)
	if err != nil {
		return 0, err
	}
	defer release()
	key := h.ingest.Key(claims.Subject, body)
	if !h.ledger.reserve(claims.ID, key, max(1, claims.MaxUploads)) {
		return 0, httperr.New(http.StatusForbidden, "this upload token has stored its %d objects; ask your backend for a new one", max(1, claims.MaxUploads))
	}
	stored := false
	defer func() {
		if !stored {
			h.ledger.release(claims.ID, key)
		}
	}()
	res, err := h.convert(r.Context(), key, body)
	if errors.Is(err, workpool.ErrOverloaded) && h.deferrer != nil {
		status, err := h.deferUpload(w, r, claims.Subject, key, body, contentType)
		stored = err == nil
		return status, err
	}
	if err != nil {
		return 0, err
	}
	if h.archive != nil && !res.Existed {
		if err := h.storeWrite(r.Context(), "archive", func(ctx context.Context) error {
			_, err := h.archive.Put(ctx, res.Key, body, contentType, nil)
			return err
		}); err != nil {
			return 0, err
		}
	}
	stored = true
	_, span := tracing.Start(r.Context(), "token")
	result, err := h.keys.MintResult(claims.Subject, token.Result{Key: res.Key, Width: res.Width, Height: res.Height, Bytes: res.Bytes, SHA256: res.SHA256, Home: h.ingest.Home(),
		Color: res.Placeholder.Color, ThumbHash: res.Placeholder.ThumbHash},
		h.cfg.ResultTTL, time.Now())
	tracing.End(span, err)
	if err != nil {
		return 0, err
	}
	return writeJSON(w, http.StatusCreated, UploadResult{Key: res.Key, Width: res.Width, Height: res.Height, Bytes: res.Bytes, Format: res.Format, Home: h.ingest.Home(), Placeholder: res.Placeholder, ResultToken: result})
}

// convert runs the conversion in the bounded pool, once for all concurrent
// uploads of the same bytes by the same subject (a client retrying on a slow
// network): they share one conversion and one key instead of taking a slot
// each. The work outlives the first caller, so its leaving does not fail the
// others, and is dropped when all have left (a conversion already running
// finishes: libvips cannot be interrupted).
func (h *Handler) convert(ctx context.Context, key string, body []byte) (ingest.Result, error) {
	res, _, err := h.conversions.Do(ctx, key, func(wctx context.Context) (ingest.Result, error) {
		qctx, cancel := context.WithTimeout(wctx, h.cfg.QueueTimeout) // bounds the wait, not the work
		defer cancel()
		if err := h.pool.Acquire(qctx); err != nil {
			if errors.Is(err, workpool.ErrOverloaded) || errors.Is(err, context.DeadlineExceeded) {
				err = httperr.Unavailable("too many uploads are converting; retry shortly", err)
			}
			return ingest.Result{}, err
		}
		defer h.pool.Release()
		if err := wctx.Err(); err != nil {
			return ingest.Result{}, err // every uploader has gone
		}
		var res ingest.Result
		if err := tracing.Step(wctx, "convert", func(context.Context) (err error) {
			res, err = h.ingest.Prepare(key, body)
			return err
		}); err != nil {
			return ingest.Result{}, err
		}
		if err := tracing.Step(wctx, "store", func(ctx context.Context) error {
			return h.storeWrite(ctx, "original", func(ctx context.Context) error { return h.ingest.Save(ctx, &res) })
		}); err != nil {
			return ingest.Result{}, err
		}
		return res, nil
	})
	return res, err
}

// SetDeferrer turns on deferred conversion: when the conversion queue is
// full, uploads are stored raw and converted later instead of refused.
func (h *Handler) SetDeferrer(d Deferrer) { h.deferrer = d }

// deferUpload answers 202 with the key the photo will have once converted and
// a result token marked pending (no dimensions yet): the backend can record
// the key now; the resizer serves it once the worker has converted it.
func (h *Handler) deferUpload(w http.ResponseWriter, r *http.Request, subject, key string, body []byte, contentType string) (int, error) {
	if err := h.storeWrite(r.Context(), "defer conversion", func(ctx context.Context) error {
		return h.deferrer.Defer(ctx, subject, key, body, contentType)
	}); err != nil {
		return 0, err
	}
	result, err := h.keys.MintResult(subject, token.Result{Key: key, Home: h.ingest.Home(), Pending: true}, h.cfg.ResultTTL, time.Now())
	if err != nil {
		return 0, err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"key": key, "status": "pending", "format": "webp", "result_token": result})
}

// storeWrite runs one store write under StoreTimeout; its failure, the
// store's fault, becomes a 503 with Retry-After.
func (h *Handler) storeWrite(ctx context.Context, what string, write func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.StoreTimeout)
	defer cancel()
	if err := write(ctx); err != nil {
		return httperr.Store(fmt.Errorf("%s: %w", what, err))
	}
	return nil
}

func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) (int, error) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	return writeJSON(w, http.StatusOK, h.keys.JWKS())
}

func writeJSON(w http.ResponseWriter, status int, v any) (int, error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return status, json.NewEncoder(w).Encode(v)
}

// mediaType is the request's Content-Type without parameters.
func mediaType(r *http.Request) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return "", nil
	}
	return mt, params
}
