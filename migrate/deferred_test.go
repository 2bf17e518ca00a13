package migrate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/jobqueue"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
)

// An upload the uploader was too busy to convert (jobqueue.Deferred: the raw
// bytes pending under the final key, one job naming it) becomes, through the
// worker, exactly the original a direct upload stores, and the raw bytes are
// removed. The uploader's half is its TestBusyUploadsAreDeferred.
func TestDeferredUploadBecomesTheDirectOriginal(t *testing.T) {
	ctx := context.Background()
	pending, _ := disk.New(t.TempDir())
	originals, _ := disk.New(t.TempDir())
	r := newRig(t, pending, originals, engines[0])
	src := testimage.JPEG(t, testimage.Photo(t, 900, 600))
	key := r.in.Key("couple-7", src)
	if err := (jobqueue.Deferred{Pending: pending, Queue: r.queue}).Defer(ctx, "couple-7", key, src, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	r.run(t, WorkerConfig{})
	if _, err := pending.Head(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("raw upload still pending after conversion: %v", err)
	}
	obj, err := originals.Get(ctx, key)
	if err != nil {
		t.Fatalf("no original under the deferred key: %v", err)
	}
	defer obj.Body.Close()
	stored, _ := io.ReadAll(obj.Body)
	direct, err := r.in.Prepare(key, src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, direct.Data) {
		t.Fatalf("the worker stored %d bytes under %s; a direct upload stores %d", len(stored), key, len(direct.Data))
	}
	if got, ok := facts.FromMeta(obj.Meta); !ok || got != direct.Facts() {
		t.Fatalf("the facts kept with the deferred original: %+v (%v), want a direct upload's %+v", got, ok, direct.Facts())
	}
	if pendingJobs, dead, err := r.queue.Counts(ctx); err != nil || pendingJobs+dead != 0 {
		t.Fatalf("queue holds %d pending and %d dead jobs (%v)", pendingJobs, dead, err)
	}
}
