package migrate

import (
	"context"

	"github.com/imgorigin/imgorigin/storage"
)

// PendingPrefix is where deferred uploads wait, raw, for their conversion.
const PendingPrefix = "pending/"

// Deferred hands uploads the uploader is too busy to convert to the
// migration worker: the raw upload is stored under pending/KEY and a
// one-photo job converts it to KEY (the key the upload would have had), then
// deletes the raw bytes.
type Deferred struct {
	Store interface {
		Put(ctx context.Context, key string, data []byte, contentType string) (storage.Info, error)
	}
	Queue Queue
}

// Defer stores raw and enqueues its conversion.
func (d Deferred) Defer(ctx context.Context, subject, key string, raw []byte, contentType string) error {
	if _, err := d.Store.Put(ctx, PendingPrefix+key, raw, contentType); err != nil {
		return err
	}
	return d.Queue.Send(ctx, []Job{{
		ID:      "upload/" + key,
		Group:   "upload/" + key,
		Subject: subject,
		Photos:  []JobPhoto{{Original: PendingPrefix + key, OriginalBytes: int64(len(raw)), DeleteOriginal: true}},
	}})
}
