package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/jobqueue"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
	s3store "github.com/imgorigin/imgorigin/storage/s3"
	"github.com/imgorigin/imgorigin/storage/s3/s3test"
	"github.com/imgorigin/imgorigin/storage/storagetest"
)

func TestMain(m *testing.M) { testimage.Main(m) }

const (
	originalsT  = "legacy/{group}/{photo}.jpg"
	thumbnailsT = "legacy/{group}/{photo}_{size}.jpg"
)

var sizes = []string{"64", "128", "320", "640", "1080"}

func TestLayout(t *testing.T) {
	l, err := ParseLayout(originalsT, thumbnailsT)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][4]string{
		"legacy/couple-1/p9.jpg":     {"couple-1", "p9", "", "ok"},
		"legacy/couple-1/p9_320.jpg": {"couple-1", "p9", "320", "ok"},
		"legacy/couple-1/x/p9.jpg":   {"", "", "", ""},
		"legacy/couple-1/p9.png":     {"", "", "", ""},
		"other/couple-1/p9.jpg":      {"", "", "", ""},
		"legacy/c.d/some.photo.jpg":  {"c.d", "some.photo", "", "ok"},
	} {
		g, p, s, ok := l.Match(key)
		if got := [4]string{g, p, s, map[bool]string{true: "ok"}[ok]}; got != want {
			t.Errorf("Match(%q) = %v, want %v", key, got, want)
		}
	}
	if l.Prefix() != "legacy/" {
		t.Errorf("Prefix = %q", l.Prefix())
	}
	for _, bad := range [][2]string{{"legacy/{photo}.jpg", thumbnailsT}, {originalsT, "legacy/{group}/{photo}.jpg"}, {"legacy/{group}/{photo}/{photo}.jpg", thumbnailsT}, {"legacy/{group}/{photo}_{who}.jpg", thumbnailsT}} {
		if _, err := ParseLayout(bad[0], bad[1]); err == nil {
			t.Errorf("ParseLayout(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

// legacy fills src with groups x photos originals (unique bytes each) and
// five thumbnails per photo; it returns the originals' keys.
func legacy(t *testing.T, src storage.Store, groups, photos int) []string {
	t.Helper()
	img := testimage.Photo(t, 64, 48)
	base := testimage.JPEG(t, img)
	img.Close()
	var keys []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for g := range groups {
		for p := range photos {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				prefix := fmt.Sprintf("legacy/couple-%03d/photo_%02d", g, p)
				// Bytes after the JPEG's end marker make each photo unique.
				data := append(append([]byte{}, base...), fmt.Sprintf("%s", prefix)...)
				if _, err := src.Put(context.Background(), prefix+".jpg", data, "image/jpeg", nil); err != nil {
					t.Error(err)
				}
				for _, s := range sizes {
					if _, err := src.Put(context.Background(), prefix+"_"+s+".jpg", []byte("thumb "+s), "image/jpeg", nil); err != nil {
						t.Error(err)
					}
				}
				mu.Lock()
				keys = append(keys, prefix+".jpg")
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return keys
}

type rig struct {
	src, dst storage.Store
	state    *State
	queue    Queue
	in       *ingest.Ingester
	layout   *Layout
}

// engine is a progress store and queue pair: the embedded default, or the
// multi-machine engines on the real servers `make test` starts.
type engine struct {
	name string
	open func(t *testing.T) (*State, Queue)
}

var engines = []engine{
	{"sqlite+embedded", func(t *testing.T) (*State, Queue) {
		st, err := OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st, st.Queue(5)
	}},
	{"postgres+sqs", func(t *testing.T) (*State, Queue) {
		st := freshPostgres(t)
		q, err := jobqueue.OpenSQS[Job](context.Background(), jobqueue.SQSConfig{Name: "migrate-" + randomName(), Endpoint: storagetest.SQSEndpoint(t), MaxAttempts: 5})
		if err != nil {
			t.Fatal(err)
		}
		return st, q
	}},
}

func randomName() string { return strings.ToLower(rand.Text()[:12]) }

// freshPostgres makes a new database on the test server for one test.
func freshPostgres(t *testing.T) *State {
	dsn := os.Getenv("IMGORIGIN_TEST_POSTGRES")
	if dsn == "" {
		t.Fatal("IMGORIGIN_TEST_POSTGRES is not set: run the tests with `make test`, which starts PostgreSQL")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "mt_" + randomName()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	st, err := OpenPostgres(strings.Replace(dsn, "/postgres?", "/"+name+"?", 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newRig(t *testing.T, src, dst storage.Store, e engine) *rig {
	t.Helper()
	st, q := e.open(t)
	in, err := ingest.New(dst, ingest.Config{Limits: imaging.DefaultLimits(), Original: imaging.DefaultOriginal(), KeySecret: []byte("migration-test-secret")})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ParseLayout(originalsT, thumbnailsT)
	return &rig{src: src, dst: dst, state: st, queue: q, in: in, layout: l}
}

func (r *rig) worker(cfg WorkerConfig) *Worker {
	cfg.Drain = true
	if cfg.Visibility == 0 {
		cfg.Visibility = time.Second // SQS's least
	}
	return NewWorker(r.src, r.dst, r.in, r.state, r.queue, cfg, slog.New(slog.DiscardHandler))
}

func (r *rig) run(t *testing.T, cfg WorkerConfig) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.worker(cfg).Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func list(t *testing.T, st storage.Store, prefix string) []string {
	t.Helper()
	var keys []string
	after := ""
	for {
		page, err := st.List(context.Background(), prefix, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			keys = append(keys, it.Key)
		}
		if page.Next == "" {
			return keys
		}
		after = page.Next
	}
}

// checkFinal asserts the exact end state: one new original per legacy photo
// and nothing else in the target, every record done and pointing at an object
// that exists, no legacy thumbnail left, legacy originals kept (or not).
func (r *rig) checkFinal(t *testing.T, originals []string, originalsDeleted bool) {
	t.Helper()
	ctx := context.Background()
	newKeys := map[string]string{}
	if err := r.state.EachPhoto(ctx, func(p PhotoRecord) error {
		if prev, dup := newKeys[p.NewKey]; dup {
			t.Errorf("%s and %s share new key %s", prev, p.OldKey, p.NewKey)
		}
		newKeys[p.NewKey] = p.OldKey
		if p.Width != 64 || p.Height != 48 || p.NewBytes <= 0 || p.Thumbnails != len(sizes) {
			t.Errorf("record %+v", p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(newKeys) != len(originals) {
		t.Errorf("%d photos recorded done, want %d", len(newKeys), len(originals))
	}
	target := list(t, r.dst, "")
	if len(target) != len(originals) {
		t.Errorf("target holds %d objects, want %d (one per photo: no orphans, no duplicates)", len(target), len(originals))
	}
	for i, k := range target {
		if _, ok := newKeys[k]; !ok {
			t.Errorf("orphan in target: %s", k)
		}
		if i == 0 { // the facts go with a migrated original, read with its HEAD
			info, err := r.dst.Head(ctx, k)
			if f, ok := facts.FromMeta(info.Meta); err != nil || !ok || f.Width != 64 || f.Height != 48 || f.Color == "" {
				t.Errorf("the facts kept with migrated %s: %+v %v %v", k, f, ok, err)
			}
		}
	}
	isOriginal := map[string]bool{}
	for _, k := range originals {
		isOriginal[k] = true
	}
	var thumbs, origs int
	for _, k := range list(t, r.src, "legacy/") {
		if isOriginal[k] {
			origs++
		} else {
			thumbs++
		}
	}
	wantOrigs := len(originals)
	if originalsDeleted {
		wantOrigs = 0
	}
	if thumbs != 0 || origs != wantOrigs {
		t.Errorf("legacy bucket has %d thumbnails and %d originals left, want 0 and %d", thumbs, origs, wantOrigs)
	}
	st, err := r.state.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.GroupsDone != st.Groups || st.Done != len(originals) {
		t.Errorf("stats %+v", st)
	}
	if pending, dead, err := r.queue.Counts(ctx); err != nil || pending+dead != 0 {
		t.Errorf("queue still holds %d pending and %d dead jobs (%v)", pending, dead, err)
	}
}

// A generated legacy bucket in the real S3-compatible server: 200 groups,
// 1,000 photos, 5 thumbnails each, run to completion by two workers.
func TestMigrateLegacyBucketOnS3(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { migrateLegacyBucketOnS3(t, e) })
	}
}

func migrateLegacyBucketOnS3(t *testing.T, e engine) {
	src, dst := s3test.NewStore(t, ""), s3test.NewStore(t, "originals/")
	// 1,440 legacy objects: listing them takes two pages.
	originals := legacy(t, src, 60, 4)
	r := newRig(t, src, dst, e)
	res, err := Plan(context.Background(), src, r.layout, r.state, r.queue)
	if err != nil {
		t.Fatal(err)
	}
	if res.Groups != 60 || res.Photos != 240 || res.Thumbnails != 1200 || res.Enqueued != 60 || res.Unmatched != 0 {
		t.Fatalf("plan %+v", res)
	}
	var wg sync.WaitGroup
	for range 2 { // two workers, as on two machines
		wg.Add(1)
		go func() { defer wg.Done(); r.run(t, WorkerConfig{Concurrency: 4}) }()
	}
	wg.Wait()
	r.checkFinal(t, originals, false)
	st, _ := r.state.Stats(context.Background())
	if st.OldObjects != 1440 || st.NewObjects != 480 {
		t.Errorf("report objects %d -> %d, want 1440 -> 480 (legacy originals kept)", st.OldObjects, st.NewObjects)
	}
	// A re-run of plan enqueues nothing.
	if res, err := Plan(context.Background(), src, r.layout, r.state, r.queue); err != nil || res.Enqueued != 0 {
		t.Fatalf("re-plan: %+v, %v", res, err)
	}
}

// A worker that dies before any step leaves a state from which the job's
// redelivery completes: nothing lost, nothing duplicated, nothing orphaned.
func TestCrashAtEveryStepThenRecover(t *testing.T) {
	for i, step := range []string{"convert", "put", "verify", "record", "delete", "record-done"} {
		for _, deleteOriginals := range []bool{false, true} {
			e := engines[i%len(engines)] // each step on one engine, the steps spread over both
			t.Run(fmt.Sprintf("%s/%s/delete-originals=%v", e.name, step, deleteOriginals), func(t *testing.T) {
				t.Parallel() // each waits out its redelivery's visibility timeout
				src, _ := disk.New(t.TempDir())
				dst, _ := disk.New(t.TempDir())
				originals := legacy(t, src, 3, 4)
				r := newRig(t, src, dst, e)
				if _, err := Plan(context.Background(), src, r.layout, r.state, r.queue); err != nil {
					t.Fatal(err)
				}
				var crashes atomic.Int32
				hook := func(s, key string) error {
					// Crash the third time the step is reached (mid-group), once.
					if s == step && crashes.Add(1) == 3 {
						return errors.New("worker killed at " + step)
					}
					return nil
				}
				r.run(t, WorkerConfig{Concurrency: 2, Hook: hook, DeleteOriginals: deleteOriginals})
				if crashes.Load() < 3 {
					t.Fatalf("the %s step was reached only %d times", step, crashes.Load())
				}
				r.checkFinal(t, originals, deleteOriginals)
			})
		}
	}
}

// The same job delivered twice, even at once, ends in the same state.
func TestDuplicateDelivery(t *testing.T) {
	src, _ := disk.New(t.TempDir())
	dst, _ := disk.New(t.TempDir())
	originals := legacy(t, src, 2, 5)
	r := newRig(t, src, dst, engines[0])
	if _, err := Plan(context.Background(), src, r.layout, r.state, r.queue); err != nil {
		t.Fatal(err)
	}
	ds, err := r.queue.Receive(context.Background(), 10, time.Minute)
	if err != nil || len(ds) != 2 {
		t.Fatalf("receive: %d, %v", len(ds), err)
	}
	w := r.worker(WorkerConfig{})
	var wg sync.WaitGroup
	for _, d := range append(ds, ds...) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.MigrateGroup(context.Background(), d.Job); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, d := range ds { // and once more, after it is all done
		if err := w.MigrateGroup(context.Background(), d.Job); err != nil {
			t.Fatal(err)
		}
		r.queue.Ack(context.Background(), d.Ticket)
	}
	r.checkFinal(t, originals, false)
}

// S3 answers SlowDown to a hammered bucket. The store's SDK retryer is the
// one retry layer: every request of the migration is throttled once, and it
// finishes with every photo moved and no job dead.
func TestSlowDownStorm(t *testing.T) {
	bucket, endpoint := s3test.NewBucket(t), storagetest.S3Endpoint(t)
	direct, err := s3store.New(context.Background(), s3store.Config{Bucket: bucket, Endpoint: endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	originals := legacy(t, direct, 4, 5)
	storm := storagetest.NewSlowDown(t, endpoint, 1)
	src, err := s3store.New(context.Background(), s3store.Config{Bucket: bucket, Endpoint: storm.URL, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := disk.New(t.TempDir())
	r := newRig(t, src, dst, engines[1])
	if _, err := Plan(context.Background(), src, r.layout, r.state, r.queue); err != nil {
		t.Fatal(err)
	}
	r.run(t, WorkerConfig{Concurrency: 4})
	if n := storm.Hits.Load(); n < 20 {
		t.Fatalf("the storm throttled %d requests of the migration, want one for each of 20 reads at least", n)
	}
	r.checkFinal(t, originals, false)
	if _, dead, err := r.queue.Counts(context.Background()); err != nil || dead != 0 {
		t.Fatalf("%d jobs dead-lettered (%v): the retries did not hold", dead, err)
	}
}

// A job that can never succeed (its original is not an image) is
// dead-lettered after its attempts, on both queues, and draining still ends.
func TestPoisonJobIsDeadLettered(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel() // most of each is waiting out visibility timeouts
			src, _ := disk.New(t.TempDir())
			dst, _ := disk.New(t.TempDir())
			originals := legacy(t, src, 2, 2)
			src.Put(context.Background(), "legacy/poison/p.jpg", []byte("not an image"), "image/jpeg", nil)
			r := newRig(t, src, dst, e)
			if _, err := Plan(context.Background(), src, r.layout, r.state, r.queue); err != nil {
				t.Fatal(err)
			}
			r.run(t, WorkerConfig{Concurrency: 3})
			_, dead, err := r.queue.Counts(context.Background())
			if err != nil || dead != 1 {
				t.Fatalf("dead letters: %d, want the poison group's 1", dead)
			}
			if done, _ := r.state.GroupDone(context.Background(), "couple-000"); !done {
				t.Fatal("a healthy group did not finish")
			}
			_ = originals
		})
	}
}

// A progress store made before schema versions (tables, no goose table)
// is kept: version 1 is recorded over it and every row stays. Opening again
// applies nothing.
func TestSchemaVersionsKeepOldDatabases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	up, err := schema.ReadFile("schema/00001_initial.sql")
	if err != nil {
		t.Fatal(err)
	}
	create, _, _ := strings.Cut(strings.SplitN(string(up), "-- +goose Up", 2)[1], "-- +goose Down")
	for _, stmt := range strings.Split(create, ";") {
		if strings.TrimSpace(stmt) != "" {
			if _, err := old.Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := old.Exec(`INSERT INTO migrate_groups (grp, photos, state, updated_at) VALUES ('g', 3, 'done', 1)`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	for range 2 {
		st, err := OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		var photos, version int
		if err := st.db.QueryRow(`SELECT photos FROM migrate_groups WHERE grp = 'g'`).Scan(&photos); err != nil || photos != 3 {
			t.Fatalf("old row: %d, %v", photos, err)
		}
		if err := st.db.QueryRow(`SELECT MAX(version_id) FROM goose_db_version WHERE is_applied`).Scan(&version); err != nil || version != 1 {
			t.Fatalf("schema version %d, %v; want 1", version, err)
		}
		st.Close()
	}
}

// A migrated photo keeps the faces found in it with its facts, as an
// upload does.
func TestMigratedPhotosKeepTheirFaces(t *testing.T) {
	ctx := context.Background()
	src, _ := disk.New(t.TempDir())
	dst, _ := disk.New(t.TempDir())
	bg := testimage.Photo(t, 1200, 800)
	defer bg.Close()
	if _, err := src.Put(ctx, "legacy/couple-9/p1.jpg", testimage.WithFaces(t, bg, [][3]int{{500, 150, 400}}), "image/jpeg", nil); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, src, dst, engines[0])
	if _, err := Plan(ctx, src, r.layout, r.state, r.queue); err != nil {
		t.Fatal(err)
	}
	r.run(t, WorkerConfig{})
	keys := list(t, dst, "")
	if len(keys) != 1 {
		t.Fatalf("target holds %v", keys)
	}
	info, err := dst.Head(ctx, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := facts.FromMeta(info.Meta); !ok || !f.FacesKnown || len(f.Faces) != 1 || f.Faces[0].X < 500 || f.Faces[0].X > 700 {
		t.Errorf("the migrated original's faces: %+v (known %v)", f.Faces, f.FacesKnown)
	}
}
