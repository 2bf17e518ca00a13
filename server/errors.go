package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/imgorigin/imgorigin/internal/httperr"
)

// ErrorFormat is how a route answers errors: as text (images, and the
// listeners' own refusals) or as JSON {"error": "..."} (the API); whether
// a cache may keep its 4xx answers; and which log line names it.
type ErrorFormat struct {
	JSON bool
	// CacheClientErrors is the Cache-Control of 4xx answers a cache may
	// keep a while (a 404 of an image: the CDN then absorbs repeats); empty:
	// every error is no-store. 405 (an OPTIONS or POST must never poison a
	// cached URL), 429 (it says what others did, not what the URL is) and
	// 499 (nobody reads it) are never cached, nor is any 5xx.
	CacheClientErrors string
	// Log, when set, gets the errors httperr marks as logged, under Component.
	Log       *slog.Logger
	Component string
}

// WriteError answers err as httperr maps it, in f's format; it returns the
// status sent. It is the one place an error becomes an answer.
func WriteError(w http.ResponseWriter, r *http.Request, err error, f ErrorFormat) int {
	e := httperr.From(err)
	countError(f.Component, e)
	if f.Log != nil {
		e.LogTo(f.Log, r, f.Component, Truncate(r.RequestURI, 256))
	}
	hd := w.Header()
	for _, k := range []string{"Content-Type", "ETag", "Last-Modified"} {
		hd.Del(k) // of an answer begun before the error
	}
	e.SetHeaders(hd)
	cacheable := e.Status >= 400 && e.Status < 500 && e.Status != http.StatusMethodNotAllowed && e.Status != http.StatusTooManyRequests && e.Status != httperr.ClientClosed
	if f.CacheClientErrors != "" && cacheable {
		hd.Set("Cache-Control", f.CacheClientErrors)
	} else {
		hd.Set("Cache-Control", "no-store")
	}
	if e.Status == http.StatusUnauthorized {
		hd.Set("WWW-Authenticate", `Bearer realm="imgorigin"`)
	}
	if e.Close || e.Status == http.StatusRequestEntityTooLarge || e.Status == http.StatusRequestTimeout {
		hd.Set("Connection", "close") // the rest of the body is not read
	}
	if f.JSON {
		hd.Set("Content-Type", "application/json")
		w.WriteHeader(e.Status)
		json.NewEncoder(w).Encode(map[string]string{"error": e.Msg})
		return e.Status
	}
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(e.Status)
	fmt.Fprintf(w, "%d %s: %s\n", e.Status, http.StatusText(e.Status), e.Msg)
	return e.Status
}

// writeError answers what the listener itself refuses (no route, a method,
// CORS, readiness, a panic) as text, never cached: these answers change
// with the server's state and configuration, not with the URL.
func writeError(w http.ResponseWriter, e *httperr.Error) {
	WriteError(w, nil, e, ErrorFormat{})
}
