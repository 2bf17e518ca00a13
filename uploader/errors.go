package uploader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/workpool"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/token"
)

// httpError carries its status; every other error is mapped in writeError.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// storeError is a store that failed or did not answer in time: 503, our side.
type storeError struct{ err error }

func (e *storeError) Error() string { return "store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// tokenRefusal is what a client is told of a refused upload token: the kind,
// never the parser's own words.
func tokenRefusal(err error) string {
	switch {
	case errors.Is(err, token.ErrExpired):
		return "the upload token has expired; ask your backend for a new one"
	case errors.Is(err, token.ErrAudience):
		return "this is not an upload token"
	case errors.Is(err, token.ErrNotYetValid):
		return "the upload token is not valid yet; check the clocks"
	case errors.Is(err, token.ErrSignature), errors.Is(err, token.ErrUnknownKey):
		return "the upload token's signature is not valid here"
	}
	return "the upload token is malformed"
}

func errUnauthorized(msg string) error { return &httpError{http.StatusUnauthorized, msg} }
func badRequest(msg string) error      { return &httpError{http.StatusBadRequest, msg} }
func unsupported(msg string) error     { return &httpError{http.StatusUnsupportedMediaType, msg} }
func tooLarge(limit int64) error {
	return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is over the %d byte limit", limit)}
}

// writeError is the one place where the uploader's errors become statuses;
// the body is always JSON {"error": "..."}.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) int {
	var he *httpError
	status, msg := http.StatusInternalServerError, "internal error"
	var se *storeError
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.As(err, &se):
		status, msg = http.StatusServiceUnavailable, "the store is unavailable; retry shortly"
	case errors.Is(err, imaging.ErrUnsupported):
		status, msg = http.StatusUnsupportedMediaType, err.Error()
	case errors.Is(err, imaging.ErrTooLarge):
		status, msg = http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, imaging.ErrCorrupt):
		status, msg = http.StatusUnprocessableEntity, "the image could not be decoded: it is truncated or corrupt"
	case errors.Is(err, workpool.ErrOverloaded), errors.Is(err, context.DeadlineExceeded):
		status, msg = http.StatusServiceUnavailable, "too many uploads are converting; retry shortly"
	case errors.Is(err, context.Canceled):
		status, msg = 499, "client closed the request"
	}
	switch {
	case status == http.StatusInternalServerError || se != nil:
		h.log.ErrorContext(r.Context(), "uploader", "uri", server.Truncate(r.RequestURI, 256), "status", status, "err", err)
	case status == http.StatusUnprocessableEntity:
		h.log.InfoContext(r.Context(), "uploader", "status", status, "err", err)
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusUnauthorized {
		hd.Set("WWW-Authenticate", `Bearer realm="imgorigin"`)
	}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		hd.Set("Retry-After", "1")
	}
	if status == http.StatusRequestEntityTooLarge || status == http.StatusRequestTimeout || err == errBodyMemory {
		hd.Set("Connection", "close") // the rest of the body is not read
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
	return status
}
