package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/imgorigin/imgorigin/internal/httperr"
)

// newRouter is a chi router whose own answers (no route, a method the route
// does not serve) are plain text like every other error here, and never
// cached: a CDN must not keep a 405 for a URL that GET serves.
func newRouter() *chi.Mux {
	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		writeError(w, httperr.New(http.StatusNotFound, "no such resource"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		allowed := methodsOf(r, req.URL.Path)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, httperr.New(http.StatusMethodNotAllowed, "%s is not allowed here; allowed: %s", truncate(req.Method), strings.Join(allowed, ", ")))
	})
	return r
}

// methodsOf lists what the route owning path serves, asking the router
// itself: of the routes that match the path under some method, the most
// specific ("POST /v1/uploads", not the images' catch-all "GET /*").
func methodsOf(mux *chi.Mux, path string) []string {
	var out []string
	best := -1
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		pattern := mux.Find(chi.NewRouteContext(), m, path)
		switch {
		case pattern == "":
			continue
		case len(pattern) > best:
			best, out = len(pattern), nil
		case len(pattern) < best:
			continue
		}
		out = append(out, m)
		if m == http.MethodGet {
			out = append(out, http.MethodHead)
		}
	}
	return out
}
