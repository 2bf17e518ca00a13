package uploader

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/imgorigin/imgorigin/internal/httperr"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/token"
)

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

func errUnauthorized(msg string) error { return httperr.New(http.StatusUnauthorized, "%s", msg) }
func badRequest(msg string) error      { return httperr.New(http.StatusBadRequest, "%s", msg) }
func unsupported(msg string) error     { return httperr.New(http.StatusUnsupportedMediaType, "%s", msg) }
func tooLarge(limit int64) error {
	return httperr.New(http.StatusRequestEntityTooLarge, "the upload is over the %d byte limit", limit)
}

// writeError answers err as httperr maps it, as JSON {"error": "..."}.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) int {
	e := httperr.From(err)
	e.LogTo(h.log, r, "uploader", server.Truncate(r.RequestURI, 256))
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	e.SetHeaders(hd)
	if e.Status == http.StatusUnauthorized {
		hd.Set("WWW-Authenticate", `Bearer realm="imgorigin"`)
	}
	if e.Status == http.StatusRequestEntityTooLarge || e.Status == http.StatusRequestTimeout || err == errBodyMemory {
		hd.Set("Connection", "close") // the rest of the body is not read
	}
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(map[string]string{"error": e.Msg})
	return e.Status
}
