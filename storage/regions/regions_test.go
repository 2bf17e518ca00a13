package regions

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imgorigin/imgorigin/internal/testwait"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
)

func TestParseSpec(t *testing.T) {
	got, err := ParseSpec("tokyo=s3://photos-apne1?region=ap-northeast-1, frankfurt=s3://photos-euc1?region=eu-central-1\n# a comment\nlocal=/var/photos")
	if err != nil || len(got) != 3 || got[0] != (Named{"tokyo", "s3://photos-apne1?region=ap-northeast-1"}) || got[2].URL != "/var/photos" {
		t.Fatalf("ParseSpec = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "tokyo", "Tokyo=s3://x", "to-kyo=s3://x", "a=s3://x,a=s3://y", "a="} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) accepted", bad)
		}
	}
}

func TestHomeOf(t *testing.T) {
	hex := strings.Repeat("ab", 16)
	for key, want := range map[string]string{"tokyo-" + hex: "tokyo", hex: "", "tokyo-" + hex[1:]: "", "tokyo-" + hex + "/x": "", "Tokyo-" + hex: ""} {
		if got, _ := HomeOf(key); got != want {
			t.Errorf("HomeOf(%q) = %q, want %q", key, got, want)
		}
	}
}

func newDisk(t *testing.T) storage.Store {
	st, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Keys go to their home; with a replica, keys homed elsewhere are read from
// it first and from home when it lacks them; unprefixed keys go to the legacy
// store; a prefix naming no store is not found.
func TestRouting(t *testing.T) {
	ctx := context.Background()
	tokyo, frankfurt := newDisk(t), newDisk(t)
	hex := strings.Repeat("0f", 16)
	put := func(st storage.Store, key, body string) {
		if _, err := st.Put(ctx, key, []byte(body), "image/webp", nil); err != nil {
			t.Fatal(err)
		}
	}
	put(tokyo, "tokyo-"+hex, "tokyo's photo")
	put(frankfurt, "frankfurt-"+hex, "frankfurt's photo")
	put(tokyo, "frankfurt-"+strings.Repeat("1e", 16), "replicated to tokyo")
	put(frankfurt, "frankfurt-"+strings.Repeat("1e", 16), "replicated to tokyo")
	put(tokyo, "legacy-key", "from before --stores")
	reg := prometheus.NewRegistry()
	r, err := NewRouter(Config{Stores: map[string]storage.Store{"tokyo": tokyo, "frankfurt": frankfurt}, Legacy: "tokyo", Replica: "tokyo"}, reg)
	if err != nil {
		t.Fatal(err)
	}
	read := func(key string) string {
		obj, err := r.Get(ctx, key)
		if err != nil {
			return err.Error()
		}
		b, _ := storage.ReadAll(obj, 1<<20)
		return string(b)
	}
	for key, want := range map[string]string{
		"tokyo-" + hex:                          "tokyo's photo",
		"frankfurt-" + hex:                      "frankfurt's photo",
		"frankfurt-" + strings.Repeat("1e", 16): "replicated to tokyo",
		"legacy-key":                            "from before --stores",
	} {
		if got := read(key); got != want {
			t.Errorf("Get(%s) = %q, want %q", key, got, want)
		}
	}
	if _, err := r.Get(ctx, "paris-"+hex); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a prefix naming no store: %v, want not found", err)
	}
	if _, err := r.Head(ctx, "tokyo-"+strings.Repeat("1e", 16)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("frankfurt's key with tokyo's prefix: %v, want not found", err)
	}
	if hit, fallback := testutil.ToFloat64(r.replica.WithLabelValues("hit")), testutil.ToFloat64(r.replica.WithLabelValues("fallback")); hit != 1 || fallback != 1 {
		t.Errorf("replica reads: hit %v fallback %v, want 1 and 1", hit, fallback)
	}
}

// A store that is down fails its keys at once after a few errors, and is
// read again when it is back; the other stores never notice. The far store
// is a directory moved away, which a disk store reports as an outage (a
// region's versitygw killed and restarted is e2e's TestRegionalFleet).
func TestAStoreDownFailsOnlyItsKeysFastAndRecovers(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "far")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	far, err := disk.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	near := newDisk(t)
	hex := strings.Repeat("0f", 16)
	far.Put(ctx, "far-"+hex, []byte("far"), "image/webp", nil)
	near.Put(ctx, "near-"+hex, []byte("near"), "image/webp", nil)
	r, err := NewRouter(Config{Stores: map[string]storage.Store{"near": near, "far": far}, Legacy: "near", BreakAfter: 2, BreakFor: 500 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, dir+".moved"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := r.Head(ctx, "far-"+hex); err == nil || errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("read %d of the store that is down: %v", i, err)
		}
	}
	start := time.Now()
	// "At once": no dial, no retry; the bound leaves room for a loaded CI machine.
	if _, err := r.Head(ctx, "far-"+hex); !errors.Is(err, ErrDown) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("after errors in a row: %v in %v, want ErrDown at once", err, time.Since(start))
	}
	if _, err := r.Head(ctx, "near-"+hex); err != nil {
		t.Fatalf("the other store: %v", err)
	}
	if err := os.Rename(dir+".moved", dir); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the store's keys to answer once it is back", func() bool {
		_, err := r.Head(ctx, "far-"+hex)
		return err == nil
	})
}
