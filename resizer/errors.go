package resizer

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/workpool"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/storage"
)

var errMethod = errors.New("only GET and HEAD are allowed")

// storeError is a store failure other than not-found: our fault, not the client's.
type storeError struct{ err error }

func (e *storeError) Error() string { return "store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// writeError is the one place where errors become statuses. 4xx answers may be
// cached briefly (the CDN then absorbs repeats); 5xx and 405 (an OPTIONS or
// POST must never poison a cached URL) never are, and 503 says when to come
// back. Messages are our own and stable; what libvips or a store
// said stays in the log.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var optErr *OptionsError
	var stErr *storeError
	status := http.StatusInternalServerError
	msg := "internal error"
	switch {
	case errors.As(err, &optErr):
		status, msg = http.StatusBadRequest, optErr.Msg
	case errors.Is(err, errMethod):
		status, msg = http.StatusMethodNotAllowed, err.Error()
	case errors.Is(err, errTooManyVariants):
		status, msg = http.StatusTooManyRequests, err.Error()
	case errors.Is(err, errBadSignature):
		status, msg = http.StatusForbidden, err.Error()
	case errors.Is(err, storage.ErrInvalidKey):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, storage.ErrNotFound):
		status, msg = http.StatusNotFound, "no such image"
	case errors.Is(err, storage.ErrTooLarge):
		status, msg = http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, imaging.ErrUnsupported):
		status, msg = http.StatusUnsupportedMediaType, err.Error()
	case errors.Is(err, imaging.ErrTooLarge):
		status, msg = http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, imaging.ErrCorrupt):
		status, msg = http.StatusUnprocessableEntity, "the stored image could not be decoded"
	case errors.As(err, &stErr):
		// Before the deadline cases: a store call that timed out is the
		// store's fault, and says so.
		status, msg = http.StatusServiceUnavailable, "store unavailable"
	case errors.Is(err, workpool.ErrOverloaded), errors.Is(err, errReadsBusy):
		status, msg = http.StatusServiceUnavailable, err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		status, msg = http.StatusServiceUnavailable, "deadline exceeded"
	case errors.Is(err, context.Canceled):
		status, msg = 499, "client closed the request" // nginx's code; nobody reads it
	}
	uri := server.Truncate(r.RequestURI, 256)
	switch {
	case status == http.StatusInternalServerError || stErr != nil:
		h.log.ErrorContext(r.Context(), "resizer", "uri", uri, "status", status, "err", err)
	case status == http.StatusUnprocessableEntity:
		h.log.WarnContext(r.Context(), "resizer", "uri", uri, "status", status, "err", err)
	}
	hd := w.Header()
	for _, k := range []string{"Content-Type", "ETag", "Last-Modified"} {
		hd.Del(k)
	}
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	if status >= 500 || status == 499 || status == http.StatusMethodNotAllowed {
		hd.Set("Cache-Control", "no-store")
	} else {
		hd.Set("Cache-Control", h.cfg.ErrorCacheControl)
	}
	if status == http.StatusServiceUnavailable {
		hd.Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, "%d %s: %s\n", status, http.StatusText(status), msg)
}
