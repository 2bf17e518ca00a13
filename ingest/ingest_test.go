package ingest_test

import (
	"context"
	"testing"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
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
	if f, ok := facts.FromMeta(info.Meta); err != nil || !ok || f != first.Facts() || f.Width != 300 || f.Color == "" {
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
