package deferred

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
)

func TestMain(m *testing.M) { testimage.Main(m) }

type rig struct {
	dir                string
	pending, originals storage.Store
	in                 *ingest.Ingester
}

func newRig(t *testing.T) *rig {
	dir := t.TempDir()
	pending, err := disk.New(filepath.Join(dir, "pending"))
	if err != nil {
		t.Fatal(err)
	}
	originals, err := disk.New(filepath.Join(dir, "originals"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := ingest.New(originals, ingest.Config{Limits: imaging.DefaultLimits(), Original: imaging.DefaultOriginal(), KeySecret: []byte("deferred-test-secret")})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{dir: filepath.Join(dir, "deferred"), pending: pending, originals: originals, in: in}
}

func (r *rig) open(t *testing.T) *Worker {
	t.Helper()
	w, err := Open(r.dir, r.pending, r.in, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.closeQueue() })
	return w
}

// drain runs a worker over the queue in the rig's directory until no job
// is left, and returns the queue's counts then.
func (r *rig) drain(t *testing.T) (int, int) {
	t.Helper()
	w := r.open(t)
	w.Drain = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	pending, dead, err := r.open(t).queue.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return pending, dead
}

// checkConverted fails unless key holds exactly what a direct upload of src
// stores, facts included, and no raw bytes are left pending.
func (r *rig) checkConverted(t *testing.T, key string, src []byte) {
	t.Helper()
	ctx := context.Background()
	if _, err := r.pending.Head(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("raw upload still pending after conversion: %v", err)
	}
	obj, err := r.originals.Get(ctx, key)
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
	if got, ok := facts.FromMeta(obj.Meta); !ok || !reflect.DeepEqual(got, direct.Facts()) {
		t.Fatalf("the facts kept with the deferred original: %+v (%v), want a direct upload's %+v", got, ok, direct.Facts())
	}
}

// An upload the uploader was too busy to convert (the raw bytes pending
// under the final key, one job naming it) becomes, through the worker,
// exactly the original a direct upload stores, and the raw bytes are
// removed. The uploader's half is its TestBusyUploadsAreDeferred.
func TestDeferredUploadBecomesTheDirectOriginal(t *testing.T) {
	r := newRig(t)
	w := r.open(t)
	src := testimage.JPEG(t, testimage.Photo(t, 2600, 1700))
	key := r.in.Key("couple-7", src)
	if err := w.Deferrer().Defer(context.Background(), "couple-7", key, src, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	w.closeQueue()
	if pending, dead := r.drain(t); pending+dead != 0 {
		t.Fatalf("queue holds %d pending and %d dead jobs", pending, dead)
	}
	r.checkConverted(t, key, src)
	if _, err := r.originals.Head(context.Background(), ingest.SmallKey(key)); err != nil {
		t.Fatalf("no small copy beside the deferred original: %v", err)
	}
	// Delivered again (an ack lost), the job finds nothing to do.
	if err := r.open(t).convert(context.Background(), Upload{Key: key}); err != nil {
		t.Fatalf("a job delivered again: %v", err)
	}
	r.checkConverted(t, key, src)
}

// Uploads that a version before this package queued in the migration's
// database (DATA/deferred/state.db, table migrate_queue, one-photo jobs)
// are converted too, and the old file is read once.
func TestUploadsQueuedByAnEarlierVersionAreConverted(t *testing.T) {
	r := newRig(t)
	src := testimage.JPEG(t, testimage.Photo(t, 800, 600))
	key := r.in.Key("couple-8", src)
	if _, err := r.pending.Put(context.Background(), key, src, "image/jpeg", nil); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(r.dir, "state.db")
	db, err := sql.Open("sqlite", "file:"+old)
	if err != nil {
		t.Fatal(err)
	}
	// The table and a job as the earlier version wrote them.
	for _, stmt := range []string{
		`CREATE TABLE migrate_queue (id TEXT PRIMARY KEY, body TEXT NOT NULL, visible_at BIGINT NOT NULL, attempts INTEGER NOT NULL, receipt TEXT NOT NULL, dead BOOLEAN NOT NULL)`,
		`INSERT INTO migrate_queue VALUES ('upload/` + key + `', '{"id":"upload/` + key + `","group":"upload/` + key + `","photos":[{"original":"` + key + `","original_bytes":1,"thumbnails":null,"thumbnail_bytes":0,"delete_original":true}],"subject":"couple-8"}', 0, 0, '', FALSE)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if pending, dead := r.drain(t); pending+dead != 0 {
		t.Fatalf("queue holds %d pending and %d dead jobs", pending, dead)
	}
	r.checkConverted(t, key, src)
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the earlier version's queue is still in place: %v", err)
	}
	if _, err := os.Stat(old + ".imported"); err != nil {
		t.Fatalf("the earlier version's queue was not kept: %v", err)
	}
}
