package resizer

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testcdn"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
)

func TestBehindARealHTTPCache(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheControl = "public, max-age=1" })
	photo := testimage.Photo(t, 1200, 800)
	f.put("p", testimage.JPEG(t, photo))
	cdn := testcdn.StartNginx(t, strings.TrimPrefix(f.srv.URL, "http://"))
	get := func(path, accept string, header ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", cdn+path, nil)
		req.Header.Set("Accept", accept)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp, resp.Header.Get("X-Cache-Status")
	}
	// again asks once more for what was just fetched: nginx commits a cache
	// entry only after it has sent the response, so a request at once after
	// may still miss; within a second it must hit.
	again := func(path, accept string, header ...string) (resp *http.Response, st string) {
		t.Helper()
		testwait.Within(t, 2*time.Second, "nginx to commit the entry", func() bool {
			resp, st = get(path, accept, header...)
			return st != "MISS"
		})
		return resp, st
	}
	if _, st := get("/p?w=320", "image/webp"); st != "MISS" {
		t.Fatalf("first request: %s, want MISS", st)
	}
	if _, st := again("/p?w=320", "image/webp"); st != "HIT" {
		t.Fatalf("second request: %s, want HIT", st)
	}

	// auto=format: one entry per negotiated format (AVIF, WebP, JPEG), each
	// then a HIT with its own type and its own ETag.
	etags := map[string]string{}
	for _, c := range []struct{ accept, want string }{
		{"image/avif,image/webp,image/apng,*/*", "image/avif"},
		{"image/webp,*/*", "image/webp"},
		{"image/png,image/*;q=0.8", "image/jpeg"},
	} {
		resp, st := get("/p?w=640&auto=format", c.accept)
		if st != "MISS" || resp.Header.Get("Content-Type") != c.want {
			t.Errorf("auto=format %q: %s %s, want MISS %s", c.accept, st, resp.Header.Get("Content-Type"), c.want)
		}
		resp, st = again("/p?w=640&auto=format", c.accept)
		if st != "HIT" || resp.Header.Get("Content-Type") != c.want {
			t.Errorf("auto=format %q again: %s %s, want HIT %s", c.accept, st, resp.Header.Get("Content-Type"), c.want)
		}
		etags[resp.Header.Get("ETag")] = c.want
	}
	if len(etags) != 3 {
		t.Errorf("AVIF, WebP and JPEG answers share ETags: %v", etags)
	}

	// Client Hints: with ch, the hints are in the key, and each set of them
	// gets its own answer (the width hint snapped to the ladder's rung).
	width := func(resp *http.Response) string { return resp.Header.Get("Imgorigin-Rung") }
	hinted := "/p?ch=Width,DPR,Save-Data&fm=webp"
	for _, c := range []struct {
		hints []string
		rung  string
	}{
		{[]string{"Sec-CH-Width", "500"}, "w=640"},
		{[]string{"Sec-CH-Width", "900"}, "w=960"},
		{[]string{"Sec-CH-DPR", "2"}, ""},
	} {
		resp, st := get(hinted, "image/webp", c.hints...)
		if st != "MISS" || width(resp) != c.rung || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Sec-CH-Width") {
			t.Errorf("ch with %v: %s, rung %q, Vary %v; want MISS, %q, varying by the hints", c.hints, st, width(resp), resp.Header.Values("Vary"), c.rung)
		}
		if resp, st := again(hinted, "image/webp", c.hints...); st != "HIT" || width(resp) != c.rung {
			t.Errorf("ch with %v again: %s, rung %q", c.hints, st, width(resp))
		}
	}
	// Without ch the hints change nothing, in the key or the answer.
	if _, st := get("/p?w=320", "image/webp", "Sec-CH-Width", "1000"); st != "HIT" {
		t.Errorf("a hint on a URL without ch: %s, want the entry of that URL (HIT)", st)
	}

	// 5xx is not cached: both requests reach the origin.
	f.store.fail = errors.New("store down")
	gets := f.store.gets.Load()
	for i := range 2 {
		resp, st := get("/down?w=320", "image/webp")
		if resp.StatusCode != 503 || st == "HIT" {
			t.Errorf("failing origin, request %d: %d %s", i, resp.StatusCode, st)
		}
	}
	if n := f.store.gets.Load() - gets; n != 2 {
		t.Errorf("a 503 was served from the cache: origin read the store %d times for 2 requests", n)
	}
	f.store.fail = nil

	// Once stale, the cache revalidates with If-None-Match and the origin says 304.
	before := observations(t, f.reg, "imgorigin_resizer_request_duration_seconds", "304")
	// A sleep, not a wait: nothing to poll tells when nginx will count the
	// entry stale; it counts expiry in whole seconds.
	time.Sleep(2100 * time.Millisecond)
	if _, st := get("/p?w=320", "image/webp"); st != "REVALIDATED" {
		t.Fatalf("stale entry: %s, want REVALIDATED", st)
	}
	if n := observations(t, f.reg, "imgorigin_resizer_request_duration_seconds", "304") - before; n != 1 {
		t.Fatalf("origin answered %v 304s to the revalidation, want 1", n)
	}
}
