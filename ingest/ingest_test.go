package ingest_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
	"github.com/imgorigin/imgorigin/storage/regions"
)

func TestMain(m *testing.M) { testimage.Main(m) }

type countingPuts struct {
	storage.Store
	puts int
}

func (c *countingPuts) Put(ctx context.Context, key string, data []byte, ct string, meta storage.Meta) (storage.Info, error) {
	c.puts++
	return c.Store.Put(ctx, key, data, ct, meta)
}

func TestKeysAreIdempotentPerSubjectAndSecret(t *testing.T) {
	st, _ := disk.New(t.TempDir())
	store := &countingPuts{Store: st}
	cfg := ingest.Config{Limits: imaging.DefaultLimits(), Original: imaging.DefaultOriginal(), KeySecret: []byte("0123456789abcdef")}
	in, err := ingest.New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	photo := testimage.Photo(t, 300, 200)
	src := testimage.JPEG(t, photo)
	first, err := in.Ingest(context.Background(), "alice", src)
	if err != nil {
		t.Fatal(err)
	}
	again, err := in.Ingest(context.Background(), "alice", src)
	if err != nil {
		t.Fatal(err)
	}
	if again.Key != first.Key || !again.Existed || first.Existed || store.puts != 1 {
		t.Fatalf("retry: key %s vs %s, existed %v/%v, %d puts", first.Key, again.Key, first.Existed, again.Existed, store.puts)
	}
	// Every way in (uploads, import, migration, deferred uploads) stores
	// through Save: the facts go with the original.
	info, err := st.Head(context.Background(), first.Key)
	if f, ok := facts.FromMeta(info.Meta); err != nil || !ok || !reflect.DeepEqual(f, first.Facts()) || f.Width != 300 || f.Color == "" {
		t.Fatalf("the facts kept with the original: %+v %v (%v), want %+v", f, ok, err, first.Facts())
	}
	if in.Key("bob", src) == first.Key {
		t.Fatal("another subject gets the same key")
	}
	cfg.KeySecret = []byte("another-secret-16")
	other, _ := ingest.New(store, cfg)
	if other.Key("alice", src) == first.Key {
		t.Fatal("the key does not depend on the secret: keys would be guessable")
	}
	if _, err := ingest.New(store, ingest.Config{KeySecret: []byte("short")}); err == nil {
		t.Fatal("a short key secret was accepted")
	}
}

// A photo with at least twice the small copy's pixels gets one, made once,
// from the upload's pixels: its facts and its original's ETag go with it. A
// copy lost (a crash between the two writes) is written again by a retry,
// without the original; a small photo gets none.
func TestSmallCopies(t *testing.T) {
	ctx := context.Background()
	st, _ := disk.New(t.TempDir())
	store := &countingPuts{Store: st}
	in, err := ingest.New(store, ingest.Config{Limits: imaging.DefaultLimits(), Original: imaging.DefaultOriginal(), KeySecret: []byte("0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	photo := testimage.Photo(t, 3000, 2000)
	src := testimage.JPEG(t, photo)
	res, err := in.Ingest(ctx, "alice", src)
	if err != nil || store.puts != 2 || res.Small == nil {
		t.Fatalf("ingest: %v, %d puts, small copy %d bytes; want the original and its copy", err, store.puts, len(res.Small))
	}
	orig, _ := st.Head(ctx, res.Key)
	small := ingest.SmallKey(res.Key)
	obj, err := st.Get(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := storage.ReadAll(obj, 1<<24)
	h, err := imaging.Probe(b)
	if err != nil || h.Format != imaging.WebP || h.Width != 1280 || h.Height != (res.Height+1)/2 {
		t.Fatalf("small copy: %+v %v, want a WebP half the original's %dx%d", h, err, res.Width, res.Height)
	}
	if f, ok := facts.FromMeta(obj.Info.Meta); !ok || !reflect.DeepEqual(f, res.Facts()) || obj.Info.Meta[facts.MetaOf] != orig.ETag {
		t.Fatalf("small copy's meta %v: want the original's facts %+v and ETag %s", obj.Info.Meta, res.Facts(), orig.ETag)
	}
	if res.Width != 2560 || res.Placeholder.ThumbHash == "" {
		t.Fatalf("original %dx%d, placeholder %+v", res.Width, res.Height, res.Placeholder)
	}
	if err := st.Delete(ctx, small); err != nil {
		t.Fatal(err)
	}
	again, err := in.Ingest(ctx, "alice", src)
	if err != nil || !again.Existed || store.puts != 3 {
		t.Fatalf("retry after the copy was lost: %v, existed %v, %d puts; want the copy alone written", err, again.Existed, store.puts)
	}
	if _, err := st.Head(ctx, small); err != nil {
		t.Fatalf("the retry wrote no small copy: %v", err)
	}
	if _, err := in.Ingest(ctx, "alice", src); err != nil || store.puts != 3 {
		t.Fatalf("a retry with both stored wrote %d objects (%v)", store.puts-3, err)
	}
	tiny := testimage.Photo(t, 1600, 1200) // less than twice 1280 x 960
	res, err = in.Ingest(ctx, "alice", testimage.JPEG(t, tiny))
	if err != nil || res.Small != nil {
		t.Fatalf("1600x1200: %v, small copy of %d bytes; want none", err, len(res.Small))
	}
	if _, err := st.Head(ctx, ingest.SmallKey(res.Key)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a small copy stored for a photo that has none: %v", err)
	}
}

// A fleet's keys start with their home and hash it in: the same upload to
// another home gets another 128 bits, so editing a key's prefix names no
// stored photo.
func TestTheHomeIsHashedIntoTheKey(t *testing.T) {
	st, _ := disk.New(t.TempDir())
	src := testimage.JPEG(t, testimage.Photo(t, 64, 48))
	key := func(home string) string {
		in, err := ingest.New(st, ingest.Config{Limits: imaging.DefaultLimits(), Original: imaging.DefaultOriginal(), KeySecret: []byte("0123456789abcdef"), Home: home})
		if err != nil {
			t.Fatal(err)
		}
		return in.Key("alice", src)
	}
	tokyo, paris, none := key("tokyo"), key("paris"), key("")
	if home, ok := regions.HomeOf(tokyo); !ok || home != "tokyo" || !ingest.MayHaveSmallCopy(tokyo) {
		t.Fatalf("tokyo's key %s: home %q %v", tokyo, home, ok)
	}
	if strings.TrimPrefix(tokyo, "tokyo-") == strings.TrimPrefix(paris, "paris-") || strings.TrimPrefix(tokyo, "tokyo-") == none {
		t.Fatalf("the home is not hashed in: %s, %s, %s", tokyo, paris, none)
	}
	if key("tokyo") != tokyo {
		t.Fatal("the same upload to the same home gets another key")
	}
}
