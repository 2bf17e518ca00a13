package jobqueue

import (
	"context"

	"github.com/imgorigin/imgorigin/storage"
)

// Deferred hands uploads the uploader is too busy to convert to the
// migration worker: the raw upload is stored under its final key in Pending,
// and a one-photo job converts it into the originals under that same key
// (the key the upload would have had), then deletes the raw bytes.
//
// Pending must be a store the resizer is never given: raw uploads still carry
// everything the conversion strips, GPS positions included.
type Deferred struct {
	Pending interface {
		Put(ctx context.Context, key string, data []byte, contentType string, meta storage.Meta) (storage.Info, error)
	}
	Queue Queue
}

// Defer stores raw and enqueues its conversion.
func (d Deferred) Defer(ctx context.Context, subject, key string, raw []byte, contentType string) error {
	if _, err := d.Pending.Put(ctx, key, raw, contentType, nil); err != nil {
		return err
	}
	return d.Queue.Send(ctx, []Job{{
		ID:      "upload/" + key,
		Group:   "upload/" + key,
		Subject: subject,
		Photos:  []JobPhoto{{Original: key, OriginalBytes: int64(len(raw)), DeleteOriginal: true}},
	}})
}
