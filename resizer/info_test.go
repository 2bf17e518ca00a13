package resizer

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
)

// fm=json answers what is known of an original: the facts kept with it
// (read with its HEAD, not computed), or, for a file stored without them,
// its own size and format and a placeholder worked out from its bytes; it
// is cached and cacheable like any variant, and never writes to the store.
func TestFactsAsJSON(t *testing.T) {
	f := newFixture(t, nil)
	webp := testimage.WebP(t, testimage.Photo(t, 640, 480))
	kept := facts.Facts{Width: 640, Height: 480, Format: imaging.WebP, Placeholder: imaging.Placeholder{Color: "#010203", ThumbHash: "kept"}}
	if _, err := f.store.Put(context.Background(), "kept", webp, "image/webp", kept.Meta()); err != nil {
		t.Fatal(err)
	}
	f.place("photo.jpg", testimage.Oriented(t, 300, 200, 6)) // stored 200x300, upright 300x200
	info := func(path string) (Info, string) {
		t.Helper()
		resp, body := f.get(path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var i Info
		if err := json.Unmarshal(body, &i); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
		return i, resp.Header.Get("Cache-Control")
	}
	got, cc := info("/kept?fm=json&w=320&q=50")
	if !reflect.DeepEqual(got.Facts, kept) || got.Key != "kept" || got.Bytes != int64(len(webp)) || got.PixelWidth != 640 || cc != f.h.cacheControl {
		t.Errorf("kept facts: %+v, Cache-Control %q; want %+v and the variants' caching", got, cc, kept)
	}
	if f.store.gets.Load() != 0 {
		t.Errorf("kept facts read the original %d times, want a HEAD only", f.store.gets.Load())
	}
	legacy, _ := info("/photo.jpg?fm=json")
	if legacy.Width != 300 || legacy.Height != 200 || legacy.Format != imaging.JPEG || len(legacy.Color) != 7 || legacy.ThumbHash == "" {
		t.Errorf("a legacy file's facts: %+v, want 300x200 (upright) jpeg with a placeholder", legacy)
	}
	gets := f.store.gets.Load()
	if again, _ := info("/photo.jpg?fm=json"); !reflect.DeepEqual(again, legacy) || f.store.gets.Load() != gets {
		t.Errorf("asked again: %+v after %d more reads, want the same from the cache", again, f.store.gets.Load()-gets)
	}
	if _, err := f.h.store.Head(context.Background(), "photo.jpg"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.get("/missing?fm=json"); resp.StatusCode != 404 {
		t.Errorf("facts of a missing key: %d, want 404", resp.StatusCode)
	}
}
