package httperr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/workpool"
	"github.com/imgorigin/imgorigin/storage"
)

// Every cause has one answer, wrapped or not; our own errors pass through.
func TestFromMapsEachCauseOnce(t *testing.T) {
	own := New(http.StatusTeapot, "short and %s", "stout")
	for _, c := range []struct {
		err        error
		status     int
		retry, log bool
	}{
		{storage.ErrNotFound, 404, false, false},
		{storage.ErrInvalidKey, 400, false, false},
		{storage.ErrTooLarge, 413, false, false},
		{imaging.ErrUnsupported, 415, false, false},
		{imaging.ErrTooLarge, 422, false, false},
		{imaging.ErrCorrupt, 422, false, false},
		{workpool.ErrOverloaded, 503, true, false},
		{context.DeadlineExceeded, 503, true, false},
		{context.Canceled, ClientClosed, false, false},
		{Store(errors.New("connection refused")), 503, true, true},
		{errors.New("surprise"), 500, false, true},
		{own, http.StatusTeapot, false, false},
	} {
		for _, err := range []error{c.err, fmt.Errorf("wrapped: %w", c.err)} {
			e := From(err)
			if e.Status != c.status || (e.RetryAfter > 0) != c.retry || e.Log != c.log {
				t.Errorf("%v: %+v, want status %d, retry %v, logged %v", err, e, c.status, c.retry, c.log)
			}
			if e.Msg == "" || (c.status == 500 && e.Msg != "internal error") {
				t.Errorf("%v: message %q", err, e.Msg)
			}
		}
	}
	if From(fmt.Errorf("x: %w", own)) != own || own.Msg != "short and stout" {
		t.Errorf("our own error is not passed through as it is: %+v", From(own))
	}
	if !errors.Is(Store(storage.ErrNotFound), storage.ErrNotFound) {
		t.Error("the cause is lost")
	}
}

func TestHeaders(t *testing.T) {
	h := http.Header{}
	(&Error{Status: 503, RetryAfter: 1500 * time.Millisecond}).SetHeaders(h)
	if h.Get("Retry-After") != "2" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v, want Retry-After 2 (rounded up) and nosniff", h)
	}
	h = http.Header{}
	New(404, "no").SetHeaders(h)
	if h.Get("Retry-After") != "" {
		t.Errorf("a 404 says when to come back: %v", h)
	}
}

// Reasons come from a bounded set: a Kind, a sentinel's name, or the
// status in words; never a message.
func TestReasonsAreBounded(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{Store(errors.New("connection reset")), "store"},
		{fmt.Errorf("render: %w", workpool.ErrOverloaded), "overloaded"},
		{fmt.Errorf("decode: %w", imaging.ErrCorrupt), "corrupt"},
		{New(http.StatusBadRequest, "w=%d is out of range", 99999), "bad_request"},
		{&Error{Status: http.StatusTooManyRequests, Kind: "subject_busy"}, "subject_busy"},
		{errors.New("something else"), "internal_server_error"},
	} {
		if got := From(c.err).Reason(); got != c.want {
			t.Errorf("%v: reason %q, want %q", c.err, got, c.want)
		}
	}
}
