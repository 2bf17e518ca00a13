package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/httperr"
	"github.com/imgorigin/imgorigin/storage"
)

// One writer answers every error: text or JSON as the route says, cached
// only where a cache may keep the URL's answer, with the headers its
// status calls for.
func TestWriteError(t *testing.T) {
	images := ErrorFormat{CacheClientErrors: "public, max-age=60"}
	api := ErrorFormat{JSON: true}
	closing := httperr.Unavailable("busy", nil)
	closing.Close = true
	for _, c := range []struct {
		name   string
		err    error
		f      ErrorFormat
		status int
		cache  string
		header string // name: value that must be set
	}{
		{"an image not found", storage.ErrNotFound, images, 404, "public, max-age=60", ""},
		{"a method", httperr.New(405, "no"), images, 405, "no-store", ""},
		{"a budget", &httperr.Error{Status: 429, Msg: "later", RetryAfter: 2 * time.Second}, images, 429, "no-store", "Retry-After: 2"},
		{"a client gone", httperr.New(httperr.ClientClosed, "gone"), images, httperr.ClientClosed, "no-store", ""},
		{"our fault", http.ErrHandlerTimeout, images, 500, "no-store", ""},
		{"an API 404", storage.ErrNotFound, api, 404, "no-store", ""},
		{"no token", httperr.New(401, "who?"), api, 401, "no-store", `WWW-Authenticate: Bearer realm="imgorigin"`},
		{"a body too large", httperr.New(413, "big"), api, 413, "no-store", "Connection: close"},
		{"a body not read", closing, api, 503, "no-store", "Connection: close"},
	} {
		w := httptest.NewRecorder()
		w.Header().Set("ETag", `"begun"`)
		w.Header().Set("Content-Type", "image/webp")
		r := httptest.NewRequest("GET", "/x", nil)
		if got := WriteError(w, r, c.err, c.f); got != c.status || w.Code != c.status {
			t.Errorf("%s: returned %d, sent %d; want %d", c.name, got, w.Code, c.status)
		}
		hd := w.Header()
		if hd.Get("Cache-Control") != c.cache || hd.Get("ETag") != "" || hd.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: Cache-Control %q (want %q), ETag %q, nosniff %q", c.name, hd.Get("Cache-Control"), c.cache, hd.Get("ETag"), hd.Get("X-Content-Type-Options"))
		}
		if name, value, ok := strings.Cut(c.header, ": "); ok && hd.Get(name) != value {
			t.Errorf("%s: %s %q, want %q", c.name, name, hd.Get(name), value)
		}
		body := w.Body.String()
		if c.f.JSON {
			var m map[string]string
			if hd.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &m) != nil || m["error"] == "" {
				t.Errorf("%s: %s %q, want JSON with an error", c.name, hd.Get("Content-Type"), body)
			}
		} else if !strings.HasPrefix(hd.Get("Content-Type"), "text/plain") || !strings.HasPrefix(body, strconv.Itoa(c.status)+" ") {
			t.Errorf("%s: %s %q, want text", c.name, hd.Get("Content-Type"), body)
		}
		if strings.Contains(body, "timeout") {
			t.Errorf("%s: the cause leaked: %q", c.name, body)
		}
	}
}
