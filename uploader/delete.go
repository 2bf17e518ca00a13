package uploader

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/httperr"
	"github.com/imgorigin/imgorigin/storage"
)

// Deleter deletes originals for good: for a fleet, from each key's home
// store and its replica. Deleting a key that is not stored is no error.
type Deleter interface {
	DeleteMany(ctx context.Context, keys []string) error
}

// SetDeleter enables DELETE /v1/originals/{key} and POST
// /v1/originals/delete for backends with a service key; deleted, when not
// nil, is told the keys once they are gone (the resizer of this process
// drops them from its caches at once).
func (h *Handler) SetDeleter(d Deleter, deleted func(keys []string)) {
	h.deleter, h.deleted = d, deleted
}

// maxDeleteBatch is S3 DeleteObjects' batch: an account deletion sends its
// keys a thousand at a time.
const maxDeleteBatch = 1000

// deleteTimeout bounds one delete request: a thousand keys are one S3
// DeleteObjects per store.
const deleteTimeout = 30 * time.Second

// deleteOne is DELETE /v1/originals/{key}.
func (h *Handler) deleteOne(w http.ResponseWriter, r *http.Request) (int, error) {
	if err := h.authorizeBackend(r); err != nil {
		return 0, err
	}
	key := strings.TrimPrefix(r.URL.Path, "/v1/originals/")
	if err := h.delete(r, []string{key}); err != nil {
		return 0, err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"key": key, "deleted": true})
}

// deleteBatch is POST /v1/originals/delete {"keys": [...]}: up to 1,000
// keys, all well formed or none deleted. Idempotent like the single form.
func (h *Handler) deleteBatch(w http.ResponseWriter, r *http.Request) (int, error) {
	if err := h.authorizeBackend(r); err != nil {
		return 0, err
	}
	body, err := readSmallBody(r, 1<<20) // 1,000 keys of up to 1,024 bytes, quoted
	if err != nil {
		return 0, err
	}
	if err := strictObject(body, "keys"); err != nil {
		return 0, badRequest(err.Error())
	}
	var req struct {
		Keys []string `json:"keys"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, badRequest(`body must be JSON {"keys": ["key", ...]}`)
	}
	if len(req.Keys) == 0 || len(req.Keys) > maxDeleteBatch {
		return 0, badRequest(fmt.Sprintf("keys must list 1 to %d keys, not %d", maxDeleteBatch, len(req.Keys)))
	}
	if err := h.delete(r, req.Keys); err != nil {
		return 0, err
	}
	results := make([]map[string]any, len(req.Keys))
	for i, k := range req.Keys {
		results[i] = map[string]any{"key": k, "deleted": true}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"deleted": len(req.Keys), "results": results})
}

// delete checks every key, then deletes them all: a malformed key refuses
// the request whole, so a typo never deletes a part of what was meant.
func (h *Handler) delete(r *http.Request, keys []string) error {
	for _, k := range keys {
		if err := storage.ValidateKey(k); err != nil {
			return badRequest(err.Error())
		}
		if storage.Hidden(k) {
			return badRequest(fmt.Sprintf("%q is no key: no segment of a key starts with '.'", k))
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), deleteTimeout)
	defer cancel()
	start := time.Now()
	if err := h.deleter.DeleteMany(ctx, ingest.Objects(keys)); err != nil {
		h.deletes.WithLabelValues("error").Add(float64(len(keys)))
		return httperr.Store(err)
	}
	h.deletes.WithLabelValues("deleted").Add(float64(len(keys)))
	h.log.Info("deleted originals", "keys", len(keys), "first", keys[0], "ms", time.Since(start).Milliseconds())
	if h.deleted != nil {
		h.deleted(keys)
	}
	return nil
}

// authorizeBackend lets a request through with a valid service key: 401
// without one, 403 with a wrong one.
func (h *Handler) authorizeBackend(r *http.Request) error {
	if _, ok := bearer(r); !ok {
		return errUnauthorized("a service key is required (Authorization: Bearer KEY)")
	}
	if !h.serviceKeyValid(r) {
		return httperr.New(http.StatusForbidden, "that is not a service key of this server")
	}
	return nil
}
