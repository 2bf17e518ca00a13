package resizer

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/testimage"
)

// Lossy answers up to the small copy's size are made from it, and only
// those: larger or lossless answers read the original. An answer has the
// same ETag whichever it was made from. A photo without a copy is served
// from its original, its copy asked for once; a file another program named
// has none to ask for.
func TestSmallCopiesServeWhatTheyCan(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.AnySizeUnsigned = true })
	in, err := ingest.New(f.store, ingest.Config{Limits: imaging.DefaultLimits(), Original: imaging.DefaultOriginal(), KeySecret: []byte("0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	large, err := in.Ingest(ctx, "u", testimage.JPEG(t, testimage.Photo(t, 3000, 2000)))
	if err != nil || large.Small == nil {
		t.Fatalf("ingest: %v (small copy %d bytes)", err, len(large.Small))
	}
	plain, err := in.Ingest(ctx, "u", testimage.JPEG(t, testimage.Photo(t, 800, 600)))
	if err != nil || plain.Small != nil {
		t.Fatalf("ingest: %v (small copy %d bytes, want none)", err, len(plain.Small))
	}
	f.put("another-program.webp", testimage.WebP(t, testimage.Photo(t, 800, 600)))

	fromSmall := func() float64 { return testutil.ToFloat64(f.h.metrics.smallCopies) }
	for _, c := range []struct {
		path        string
		gets, small float64 // store reads and answers from the copy it adds
		w, h        int
	}{
		{"/" + large.Key + "?w=320", 1, 1, 320, 213}, // the copy alone is read
		{"/" + large.Key + "?w=1080&fm=avif", 0, 1, 1080, 720},
		{"/" + large.Key + "?w=1080&h=1080&fit=crop&fm=avif", 1, 0, 1080, 1080}, // 1080 of 1707 px high: 0.63 of the original
		{"/" + large.Key + "?h=301", 0, 1, 451, 301},                            // each side as the original's would be
		{"/" + large.Key + "?w=320&h=100&fit=scale", 0, 1, 320, 100},
		{"/" + large.Key + "?w=2048", 0, 0, 2048, 1366},               // more than the copy has: the original
		{"/" + large.Key + "?w=320&fm=png", 0, 0, 320, 213},           // lossless: the original (in memory now)
		{"/" + large.Key + "?w=320&h=1000&fit=crop", 0, 0, 320, 1000}, // a crop of 1000 px high needs 0.59 of it
		{"/" + plain.Key + "?w=320", 2, 0, 320, 240},                  // the copy asked for, then the original
		{"/" + plain.Key + "?w=160", 0, 0, 160, 120},                  // not asked for again
		{"/another-program.webp?w=320", 1, 0, 320, 240},               // no copy to ask for
	} {
		gets, small := f.store.gets.Load(), fromSmall()
		resp, body := f.get(c.path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
		}
		img := decode(t, body)
		w, h := img.Width(), img.Height()
		img.Close()
		if got := float64(f.store.gets.Load() - gets); got != c.gets || fromSmall()-small != c.small || w != c.w || h != c.h {
			t.Errorf("%s: %v store reads, %v answers from the copy, %dx%d; want %v, %v, %dx%d", c.path, got, fromSmall()-small, w, h, c.gets, c.small, c.w, c.h)
		}
	}

	// The same URL made from the original has the same ETag.
	path := "/" + large.Key + "?w=640"
	resp, _ := f.get(path)
	etag := resp.Header.Get("ETag")
	if err := f.store.Delete(ctx, ingest.SmallKey(large.Key)); err != nil {
		t.Fatal(err)
	}
	f.h.Forget(large.Key)
	small := fromSmall()
	if resp, _ := f.get(path); resp.StatusCode != 200 || resp.Header.Get("ETag") != etag || fromSmall() != small {
		t.Errorf("from the original: %d, ETag %s; want 200 with the copy's answer's ETag %s", resp.StatusCode, resp.Header.Get("ETag"), etag)
	}
}
