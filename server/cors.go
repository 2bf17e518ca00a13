package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/imgorigin/imgorigin/internal/httperr"
)

// CORS for browsers on other origins: uploads with fetch, images drawn on a
// canvas. Hand-written rather than go-chi/cors or rs/cors, which send Vary:
// Origin on every answer (that splits CDN caches even when every origin is
// allowed alike) and allow one method list for all routes; here a preflight
// is answered with the methods its route serves, and Vary: Origin is sent
// only when the answer depends on the origin (a list, not "*").
type cors struct {
	origins []string // allowed origins; nil: CORS off
	any     bool     // "*": every origin, alike
	mux     *chi.Mux
	next    http.Handler
}

const (
	corsAllowHeaders  = "Authorization, Content-Type"
	corsExposeHeaders = "ETag, Imgorigin-Rung, Retry-After"
	corsMaxAge        = "3600" // an hour; Chromium caps it at two
)

func newCORS(origins []string, mux *chi.Mux, next http.Handler) *cors {
	c := &cors{mux: mux, next: next}
	for _, o := range origins {
		if o = strings.TrimSpace(o); o == "*" {
			c.any = true
		} else if o != "" {
			c.origins = append(c.origins, strings.TrimSuffix(o, "/"))
		}
	}
	return c
}

func (c *cors) enabled() bool { return c.any || len(c.origins) > 0 }

// allowOrigin is the Access-Control-Allow-Origin for origin, or "".
func (c *cors) allowOrigin(origin string) string {
	switch {
	case c.any:
		return "*"
	case origin != "" && slices.Contains(c.origins, origin):
		return origin
	}
	return ""
}

func (c *cors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		c.options(w, r)
		return
	}
	if c.enabled() {
		hd := w.Header()
		if !c.any {
			hd.Add("Vary", "Origin")
		}
		if ao := c.allowOrigin(r.Header.Get("Origin")); ao != "" {
			hd.Set("Access-Control-Allow-Origin", ao)
			hd.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
	}
	c.next.ServeHTTP(w, r)
}

// options answers every OPTIONS request here: a CORS preflight, or a plain
// question about the methods allowed. No answer is cacheable by a CDN.
func (c *cors) options(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	methods := methodsOf(c.mux, r.URL.Path)
	if len(methods) == 0 {
		writeError(w, httperr.New(http.StatusNotFound, "no such resource"))
		return
	}
	allow := strings.Join(append(methods, http.MethodOptions), ", ")
	hd.Set("Allow", allow)
	origin, asked := r.Header.Get("Origin"), r.Header.Get("Access-Control-Request-Method")
	if origin == "" || asked == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if c.enabled() && !c.any {
		hd.Add("Vary", "Origin")
	}
	ao := c.allowOrigin(origin)
	switch {
	case !c.enabled():
		writeError(w, httperr.New(http.StatusForbidden, "cross-origin requests are not enabled on this server (--cors-origins)"))
		return
	case ao == "":
		writeError(w, httperr.New(http.StatusForbidden, "origin %s is not allowed (--cors-origins)", truncate(origin)))
		return
	case !slices.Contains(methods, asked):
		writeError(w, httperr.New(http.StatusMethodNotAllowed, "%s is not allowed here; allowed: %s", truncate(asked), allow))
		return
	}
	for _, h := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		if h = strings.TrimSpace(h); h != "" && !containsFold(corsAllowHeaders, h) {
			writeError(w, httperr.New(http.StatusForbidden, "request header %s is not allowed; allowed: %s", truncate(h), corsAllowHeaders))
			return
		}
	}
	hd.Set("Access-Control-Allow-Origin", ao)
	hd.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
	hd.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	hd.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
}

func containsFold(list, name string) bool {
	for _, h := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return true
		}
	}
	return false
}

func truncate(s string) string { return Truncate(s, 100) }

// ParseOrigins checks a list of CORS origins (scheme://host[:port], or "*"
// for any), as --cors-origins gives them.
func ParseOrigins(list []string) ([]string, error) {
	var out []string
	for _, o := range list {
		if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Path != "" || u.RawQuery != "") {
			return nil, fmt.Errorf("%q is not an origin (https://app.example.com) or '*'", o)
		}
		out = append(out, o)
	}
	return out, nil
}
