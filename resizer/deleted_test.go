package resizer

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
)

// A photo deleted from the store behind this resizer's back is served from
// its caches for at most Revalidate: then one HEAD finds it gone, and its
// original and every variant answer 404. A photo still stored costs one
// HEAD per Revalidate, not one per request.
func TestDeletedPhotosLeaveTheCachesWithinRevalidate(t *testing.T) {
	const revalidate = time.Second
	f := newFixture(t, func(c *Config) { c.Revalidate = revalidate })
	f.put("gone", testimage.WebP(t, testimage.Photo(t, 800, 600)))
	f.put("kept", testimage.WebP(t, testimage.Photo(t, 800, 600)))
	paths := []string{"/gone?w=320", "/gone?w=640&fm=jpg", "/gone"}
	for _, p := range append(paths, "/kept?w=320") {
		if resp, body := f.get(p); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	if err := f.store.Delete(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	testwait.Within(t, 5*revalidate, "every cached variant of the deleted photo to answer 404", func() bool {
		for _, p := range paths {
			if resp, _ := f.get(p); resp.StatusCode != 404 {
				return false
			}
		}
		return true
	})
	took := time.Since(deleted)
	t.Logf("404 for every variant %v after the delete (Revalidate %v)", took.Round(time.Millisecond), revalidate)
	if _, ok := f.h.originals.Get("gone"); ok {
		t.Error("the deleted original is still cached")
	}
	heads := testutil.ToFloat64(f.h.metrics.revalidations.WithLabelValues("present"))
	for range 50 {
		if resp, _ := f.get("/kept?w=320"); resp.StatusCode != 200 {
			t.Fatal("the photo still stored stopped rendering")
		}
	}
	if n := testutil.ToFloat64(f.h.metrics.revalidations.WithLabelValues("present")) - heads; n > 2 {
		t.Errorf("50 quick requests of a cached photo asked the store %v times, want at most one per Revalidate", n)
	}
}
