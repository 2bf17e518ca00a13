package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// routes like the real roles': images on GET /, uploads on POST.
func corsHandler(origins ...string) http.Handler {
	s := &Server{mux: newRouter()}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	s.Handle("GET /", ok)
	s.Handle("POST /v1/uploads", ok)
	s.Handle("POST /v1/upload-tokens", ok)
	return newCORS(origins, s.mux, s.mux)
}

// The router's own answers are errors like any other, never cached: a 405
// for a URL that GET serves must not be kept by a CDN.
func TestRouterAnswersAreNeverCached(t *testing.T) {
	h := corsHandler()
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"POST", "/some-image", 405, "GET, HEAD"},
		{"DELETE", "/v1/uploads", 405, "POST"},
		{"GET", "/v1/uploads", 200, ""}, // the images' catch-all: a key named v1/uploads
		{"HEAD", "/some-image", 200, ""},
		{"PUT", "/v1/upload-tokens", 405, "POST"},
	} {
		w := call(h, c.method, c.path)
		if w.Code != c.status || w.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q; want %d %q", c.method, c.path, w.Code, w.Header().Get("Allow"), c.status, c.allow)
		}
		if c.status >= 400 && (w.Header().Get("Cache-Control") != "no-store" || !strings.HasPrefix(w.Body.String(), fmt.Sprint(c.status))) {
			t.Errorf("%s %s: Cache-Control %q, body %q; want no-store and a reason", c.method, c.path, w.Header().Get("Cache-Control"), w.Body)
		}
	}
	empty := &Server{mux: newRouter()}
	if w := call(empty.mux, "GET", "/nothing"); w.Code != 404 || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("no route: %d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
	}
}

func call(h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestCORSPreflight(t *testing.T) {
	const app = "https://app.example.com"
	list, any := corsHandler(app, "https://admin.example.com"), corsHandler("*")
	for _, c := range []struct {
		name    string
		h       http.Handler
		path    string
		header  []string
		status  int
		allowO  string
		allowM  string
		vary    string
		allowed string // Allow header
	}{
		{"upload preflight, listed origin", list, "/v1/uploads", []string{"Origin", app, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type"}, 204, app, "POST", "Origin", "POST, OPTIONS"},
		{"token preflight, any origin", any, "/v1/upload-tokens", []string{"Origin", app, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "Authorization,Content-Type"}, 204, "*", "POST", "", "POST, OPTIONS"},
		{"image preflight", any, "/abc", []string{"Origin", app, "Access-Control-Request-Method", "GET"}, 204, "*", "GET, HEAD", "", "GET, HEAD, OPTIONS"},
		{"origin not listed", list, "/v1/uploads", []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "POST"}, 403, "", "", "Origin", "POST, OPTIONS"},
		{"method the route does not serve", any, "/v1/uploads", []string{"Origin", app, "Access-Control-Request-Method", "DELETE"}, 405, "", "", "", "POST, OPTIONS"},
		{"header not allowed", any, "/v1/uploads", []string{"Origin", app, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-secret"}, 403, "", "", "", "POST, OPTIONS"},
		{"CORS off", corsHandler(), "/v1/uploads", []string{"Origin", app, "Access-Control-Request-Method", "POST"}, 403, "", "", "", "POST, OPTIONS"},
		{"plain OPTIONS, CORS off", corsHandler(), "/v1/uploads", nil, 204, "", "", "", "POST, OPTIONS"},
	} {
		w := call(c.h, "OPTIONS", c.path, c.header...)
		h := w.Header()
		if w.Code != c.status || h.Get("Access-Control-Allow-Origin") != c.allowO || h.Get("Access-Control-Allow-Methods") != c.allowM ||
			h.Get("Vary") != c.vary || h.Get("Allow") != c.allowed {
			t.Errorf("%s: %d ACAO %q ACAM %q Vary %q Allow %q; want %d %q %q %q %q (%s)", c.name, w.Code, h.Get("Access-Control-Allow-Origin"),
				h.Get("Access-Control-Allow-Methods"), h.Get("Vary"), h.Get("Allow"), c.status, c.allowO, c.allowM, c.vary, c.allowed, w.Body)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: OPTIONS answered with Cache-Control %q, want no-store", c.name, h.Get("Cache-Control"))
		}
		if w.Code == 204 && c.allowO != "" && (h.Get("Access-Control-Max-Age") == "" || h.Get("Access-Control-Allow-Headers") != corsAllowHeaders) {
			t.Errorf("%s: max-age %q, allow-headers %q", c.name, h.Get("Access-Control-Max-Age"), h.Get("Access-Control-Allow-Headers"))
		}
	}
}

func TestCORSOnAnswers(t *testing.T) {
	const app = "https://app.example.com"
	for _, c := range []struct {
		name   string
		h      http.Handler
		origin string
		allowO string
		vary   string
	}{
		{"any origin: same answer for all, no Vary", corsHandler("*"), app, "*", ""},
		{"any origin, no Origin header", corsHandler("*"), "", "*", ""},
		{"listed origin: echoed, Vary", corsHandler(app), app, app, "Origin"},
		{"other origin: nothing, still Vary", corsHandler(app), "https://other.example", "", "Origin"},
		{"no Origin header with a list: Vary", corsHandler(app), "", "", "Origin"},
		{"CORS off: nothing", corsHandler(), app, "", ""},
	} {
		w := call(c.h, "GET", "/abc?w=320", "Origin", c.origin)
		if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != c.allowO || w.Header().Get("Vary") != c.vary {
			t.Errorf("%s: %d ACAO %q Vary %q; want 200 %q %q", c.name, w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Vary"), c.allowO, c.vary)
		}
	}
}

func TestParseOrigins(t *testing.T) {
	if got, err := ParseOrigins([]string{"https://app.example.com", "http://localhost:3000", "*"}); err != nil || len(got) != 3 {
		t.Fatalf("good origins: %v %v", got, err)
	}
	for _, bad := range []string{"app.example.com", "https://app.example.com/", "https://app.example.com/path", "ftp://x", "https://x?q=1", "https://"} {
		if _, err := ParseOrigins([]string{bad}); err == nil {
			t.Errorf("%q taken as an origin", bad)
		}
	}
}
