package resizer

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/httperr"
	"github.com/imgorigin/imgorigin/server"
)

var errMethod = httperr.New(http.StatusMethodNotAllowed, "only GET and HEAD are allowed")

// corrupt is a stored original that does not decode: the data is ours, so
// it is logged.
func corrupt(err error) error {
	if !errors.Is(err, imaging.ErrCorrupt) {
		return err
	}
	return &httperr.Error{Status: http.StatusUnprocessableEntity, Msg: "the stored image could not be decoded", Log: true, Level: slog.LevelWarn, Err: err}
}

// writeError answers err as httperr maps it, as text. 4xx answers may be
// cached briefly (the CDN then absorbs repeats); 5xx, 405 (an OPTIONS or
// POST must never poison a cached URL) and 429 (it says what others did,
// not what the URL is) never are.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := httperr.From(err)
	e.LogTo(h.log, r, "resizer", server.Truncate(r.RequestURI, 256))
	hd := w.Header()
	for _, k := range []string{"Content-Type", "ETag", "Last-Modified"} {
		hd.Del(k)
	}
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	e.SetHeaders(hd)
	if e.Status >= 500 || e.Status == httperr.ClientClosed || e.Status == http.StatusMethodNotAllowed || e.Status == http.StatusTooManyRequests {
		hd.Set("Cache-Control", "no-store")
	} else {
		hd.Set("Cache-Control", h.cfg.ErrorCacheControl)
	}
	w.WriteHeader(e.Status)
	fmt.Fprintf(w, "%d %s: %s\n", e.Status, http.StatusText(e.Status), e.Msg)
}
