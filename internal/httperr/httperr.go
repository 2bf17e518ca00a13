// Package httperr is the one error type the handlers answer with: a status,
// the message a client may read, when to come back, and how loudly the
// failure is logged. From maps every other error to one, in one table, so
// the resizer and the uploader give the same cause the same answer.
package httperr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/workpool"
	"github.com/imgorigin/imgorigin/storage"
)

// Error is an answer to a request that failed.
type Error struct {
	Status int
	// Msg is the client's to read: our own stable words, never a library's.
	Msg string
	// RetryAfter, when set, becomes the Retry-After header.
	RetryAfter time.Duration
	// Log says whether the failure is logged, at Level. A client's mistake
	// is not; our fault is an error; bad stored data a warning.
	Log   bool
	Level slog.Level
	// Err is the cause, for the log and errors.Is; never shown.
	Err error
	// Close asks for the connection to be closed after the answer: the
	// request's body was not read.
	Close bool
	// Kind names the cause in metrics when Err wraps no sentinel Reason
	// knows (a store that failed, a spent budget); empty: the status.
	Kind string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// New is an answer with status and a message (fmt.Sprintf of format and a).
func New(status int, format string, a ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, a...)}
}

// Unavailable is a 503 for our side being busy or down: come back in a second.
func Unavailable(msg string, cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Msg: msg, RetryAfter: time.Second, Err: cause}
}

// Store is a store that failed or did not answer in time: 503, logged as
// an error (it is ours to fix).
func Store(cause error) *Error {
	e := Unavailable("the store is unavailable; retry shortly", cause)
	e.Log, e.Level, e.Kind = true, slog.LevelError, "store"
	return e
}

// ClientClosed is nginx's code for a client that left before the answer;
// nobody reads it, but metrics and logs tell it from our failures.
const ClientClosed = 499

// From is err as an answer: an *Error in its chain as it is, else the
// answer for the sentinel it wraps, else a logged 500.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, storage.ErrInvalidKey):
		return &Error{Status: http.StatusBadRequest, Msg: err.Error(), Err: err}
	case errors.Is(err, storage.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Msg: "no such image", Err: err}
	case errors.Is(err, storage.ErrTooLarge):
		return &Error{Status: http.StatusRequestEntityTooLarge, Msg: err.Error(), Err: err}
	case errors.Is(err, imaging.ErrUnsupported):
		return &Error{Status: http.StatusUnsupportedMediaType, Msg: err.Error(), Err: err}
	case errors.Is(err, imaging.ErrTooLarge):
		return &Error{Status: http.StatusUnprocessableEntity, Msg: err.Error(), Err: err}
	case errors.Is(err, imaging.ErrCorrupt):
		return &Error{Status: http.StatusUnprocessableEntity, Msg: "the image could not be decoded: it is truncated or corrupt", Err: err}
	case errors.Is(err, workpool.ErrOverloaded):
		return Unavailable(workpool.ErrOverloaded.Error(), err)
	case errors.Is(err, context.DeadlineExceeded):
		return Unavailable("deadline exceeded", err)
	case errors.Is(err, context.Canceled):
		return &Error{Status: ClientClosed, Msg: "client closed the request", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Msg: "internal error", Log: true, Level: slog.LevelError, Err: err}
}

// reasons name the causes From knows, for metrics.
var reasons = []struct {
	err  error
	name string
}{
	{storage.ErrInvalidKey, "invalid_key"}, {storage.ErrNotFound, "not_found"}, {storage.ErrTooLarge, "body_too_large"},
	{imaging.ErrUnsupported, "unsupported"}, {imaging.ErrTooLarge, "too_many_pixels"}, {imaging.ErrCorrupt, "corrupt"},
	{workpool.ErrOverloaded, "overloaded"}, {context.DeadlineExceeded, "deadline"}, {context.Canceled, "client_closed"},
}

// Reason is a short name of why e was answered, from a bounded set, for
// metrics: its Kind, else the sentinel it wraps, else its status
// ("bad_request", "too_many_requests").
func (e *Error) Reason() string {
	if e.Kind != "" {
		return e.Kind
	}
	for _, r := range reasons {
		if errors.Is(e.Err, r.err) {
			return r.name
		}
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(e.Status), " ", "_"))
}

// SetHeaders sets what every error answer carries besides its body:
// nosniff, and Retry-After when there is one.
func (e *Error) SetHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
}

// LogTo logs e at its level, if it is logged, with the request's URI.
func (e *Error) LogTo(log *slog.Logger, r *http.Request, msg string, uri string) {
	if e.Log {
		log.Log(r.Context(), e.Level, msg, "uri", uri, "status", e.Status, "err", e.Err)
	}
}
