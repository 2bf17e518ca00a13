package resizer

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
	"github.com/imgorigin/imgorigin/sign"
)

// renders is how many renders the handler has run.
func (f *fixture) renders() int {
	return int(observations(f.t, f.reg, "imgorigin_resizer_stage_duration_seconds", "render"))
}

func (f *fixture) size(path string, header ...string) (w, h int, contentType string) {
	f.t.Helper()
	resp, body := f.get(path, header...)
	if resp.StatusCode != 200 {
		f.t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	img := decode(f.t, body)
	defer img.Close()
	return img.Width(), img.Height(), resp.Header.Get("Content-Type")
}

// The most expensive URLs a stranger could build before: an upscaled 4096²
// AVIF at q=100 took 4-7 s of a core. Without a signature nothing upscales,
// slow encoders (PNG, lossless) are kept to small outputs, and q is capped.
func TestUnsignedRequestsHaveACostCeiling(t *testing.T) {
	f := newFixture(t, nil)
	f.put("p", testimage.JPEG(t, testimage.Photo(t, 1600, 1200)))

	for _, p := range []string{"/p?w=2048&h=2048&dpr=2&fit=scale&fm=png", "/p?w=1080&fm=webp&lossless=1", "/p?w=1080&fm=avif&lossless=1"} {
		if resp, body := f.get(p); resp.StatusCode != 400 || !strings.Contains(string(body), "signed URL") {
			t.Errorf("unsigned %s: %d %s, want 400 asking for a signature", p, resp.StatusCode, body)
		}
	}
	// Lossy AVIF at effort 0 is not a slow encoder (2560 px: 125 ms against
	// WebP's 97): any size, not enlarged.
	if w, h, ct := f.size("/p?w=2048&h=2048&dpr=2&fit=scale&fm=avif&q=100"); ct != "image/avif" || w != 1200 || h != 1200 {
		t.Errorf("unsigned large AVIF: %dx%d %s, want 1200x1200 image/avif (the box shrunk into the original)", w, h, ct)
	}
	for _, fit := range []string{"scale", "fill", "crop", "clip", "max"} {
		if w, h, _ := f.size("/p?w=2048&h=2048&dpr=2&fm=webp&fit=" + fit); w > 1600 || h > 1200 {
			t.Errorf("unsigned fit=%s: %dx%d from a 1600x1200 original, want no upscaling", fit, w, h)
		}
	}
	if w, h, _ := f.size("/p?w=1000&h=1000&fit=scale&fm=webp&s=" + url.QueryEscape(sign.Sign([]byte("current-signing-key!"), "/p", url.Values{"w": {"1000"}, "h": {"1000"}, "fit": {"scale"}, "fm": {"webp"}}))); w != 1000 || h != 1000 {
		t.Errorf("signed fit=scale: %dx%d, want 1000x1000 (signatures may upscale)", w, h)
	}
	// auto=format picks AVIF at every size for browsers that take it.
	for _, w := range []string{"320", "1080"} {
		if _, _, ct := f.size("/p?w="+w+"&auto=format", "Accept", "image/avif,image/webp"); ct != "image/avif" {
			t.Errorf("auto=format at %s px: %s, want image/avif", w, ct)
		}
	}
	if _, _, ct := f.size("/p?w=320&fm=png"); ct != "image/png" {
		t.Errorf("small PNG: %s", ct)
	}
	// q above the cap, and values within one step, are one variant.
	before := f.renders()
	var etags []string
	for _, q := range []string{"100", "90", "88", "92"} {
		resp, _ := f.get("/p?w=640&fm=jpg&q=" + q)
		etags = append(etags, resp.Header.Get("ETag"))
	}
	if n := f.renders() - before; n != 1 || etags[0] != etags[3] {
		t.Errorf("q=100,90,88,92 made %d renders (ETags %v), want 1", n, etags)
	}
}

// Parameters that change nothing must not buy a render.
func TestParametersWithoutEffectShareOneRender(t *testing.T) {
	f := newFixture(t, nil)
	f.put("opaque", testimage.JPEG(t, testimage.Photo(t, 800, 600)))
	f.put("alpha", testimage.Formats(t, 400, 300)["png-alpha"])
	count := func(paths ...string) int {
		t.Helper()
		before := f.renders()
		for _, p := range paths {
			if resp, body := f.get(p); resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", p, resp.StatusCode, body)
			}
		}
		return f.renders() - before
	}
	var bgs []string
	for i := range 20 {
		bgs = append(bgs, fmt.Sprintf("/opaque?w=320&fit=clip&bg=%06x", i*99991))
	}
	hits := testutil.ToFloat64(f.h.metrics.cacheOps.WithLabelValues("variant", "hit"))
	if n := count(bgs...); n != 1 {
		t.Errorf("20 bg values on fit=clip: %d renders, want 1", n)
	}
	if n := testutil.ToFloat64(f.h.metrics.cacheOps.WithLabelValues("variant", "hit")) - hits; n != 19 {
		t.Errorf("20 bg values on fit=clip: %v variant cache hits counted, want 19", n)
	}
	if n := count("/opaque?w=1080", "/opaque?w=1280", "/opaque?w=1920", "/opaque?w=2048&h=2048"); n != 0 {
		t.Errorf("clip boxes the whole stored original fits in: %d renders, want none (it is served as it is)", n)
	}
	if n := count("/opaque?w=320&fit=crop", "/opaque?w=320&fit=fill", "/opaque?w=320&fit=scale", "/opaque?w=320&fit=max"); n != 0 {
		t.Errorf("one side with any fit is clip, rendered above: %d renders, want 0", n)
	}
	if n := count("/opaque?w=320&h=320&fit=crop&crop=focalpoint&fp-x=0.301&fp-y=0.5", "/opaque?w=320&h=320&fit=crop&crop=focalpoint&fp-x=0.3&fp-y=0.5004"); n != 1 {
		t.Errorf("focal points within 0.01: %d renders, want 1", n)
	}
	// Where bg shows, it still counts: padding, and alpha flattened into JPEG.
	if n := count("/opaque?w=320&h=320&fit=fill&bg=ff0000", "/opaque?w=320&h=320&fit=fill&bg=00ff00"); n != 2 {
		t.Errorf("bg on fill: %d renders, want 2", n)
	}
	if n := count("/alpha?w=200&fm=jpg&bg=ff0000", "/alpha?w=200&fm=jpg&bg=0000ff"); n != 2 {
		t.Errorf("bg on alpha into JPEG: %d renders, want 2", n)
	}
}

// Render work whose every client has gone never reaches libvips.
func TestAbandonedRendersDoNotRun(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Concurrency = 1 })
	f.put("p", testimage.JPEG(t, testimage.Photo(t, 800, 600)))
	if err := f.h.pool.Acquire(context.Background()); err != nil { // the one slot is busy
		t.Fatal(err)
	}
	for _, w := range []string{"128", "160", "200"} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/p?w="+w, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("w=%s answered while the slot is busy", w)
		}
		cancel()
	}
	// Each render left the queue when its last client left; with none queued,
	// the freed slot has nothing to run.
	testwait.For(t, "abandoned renders to leave the queue", func() bool { return f.h.pool.Waiting() == 0 })
	f.h.pool.Release()
	if n := f.renders(); n != 0 {
		t.Fatalf("%d renders ran for clients that had gone", n)
	}
	if resp, _ := f.get("/p?w=128"); resp.StatusCode != 200 {
		t.Fatalf("a new request after abandonment: %d", resp.StatusCode)
	}
}

func TestMalformedRequestsAre4xx(t *testing.T) {
	f := newFixture(t, nil)
	f.put("p", testimage.JPEG(t, testimage.Photo(t, 400, 300)))
	f.put("broken", testimage.JPEG(t, testimage.Photo(t, 400, 300))[:3000])
	for path, want := range map[string]int{
		"/" + strings.Repeat("a", 256) + "?w=320": 400, // longer than any file name
		"/p?w=320;h=320":   400,
		"/p?w=320&junk;=1": 400,
		"/p?w=%zz":         400,
		"/" + strings.Repeat("a/", 600) + "a?w=320": 400,
	} {
		resp, body := f.get(path)
		if resp.StatusCode != want {
			t.Errorf("%.60s: %d %s, want %d", path, resp.StatusCode, body, want)
		}
	}
	resp, body := f.get("/broken?w=320")
	if resp.StatusCode != 422 || strings.Contains(strings.ToLower(string(body)), "vips") || strings.Contains(string(body), "jpeg") {
		t.Errorf("corrupt original: %d %q, want 422 with our own words", resp.StatusCode, body)
	}
	if n := testutil.ToFloat64(f.h.metrics.storeErrs); n != 0 {
		t.Errorf("bad keys counted as %v store errors", n)
	}
}

// Files another program put in the store are not capped at 2560 px like
// stored originals: unsigned requests may have at most MaxDecodePixels
// decoded, counting JPEG's shrink-on-load. A 12 MP baseline JPEG is a
// thumbnail's cost at 320 px (decoded at 1/4 a side) but not at 1080; a
// progressive one or a PNG costs its full size at every size. Signed URLs
// go past it.
func TestUnsignedRendersOfLargeFilesAreBoundedInDecodedPixels(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Unsigned.MaxDecodePixels = 2560 * 2560 })
	photo := testimage.Photo(t, 4000, 3000)
	baseline, _, err := photo.ExportJpeg(&vips.JpegExportParams{Quality: 85})
	if err != nil {
		t.Fatal(err)
	}
	progressive, _, err := photo.ExportJpeg(&vips.JpegExportParams{Quality: 85, Interlace: true})
	if err != nil {
		t.Fatal(err)
	}
	png := testimage.PNG(t, photo)
	photo.Close()
	f.place("baseline.jpg", baseline)
	f.place("progressive.jpg", progressive)
	f.place("photo.png", png)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/baseline.jpg?w=320", 200},
		{"/baseline.jpg?w=640", 200}, // 1/2 a side: 3 MP
		{"/baseline.jpg?w=1080", 400},
		{"/progressive.jpg?w=320", 400},
		{"/photo.png?w=320", 400},
		{signedPath("/progressive.jpg", "w=320"), 200},
		{signedPath("/photo.png", "w=1080"), 200},
	} {
		resp, body := f.get(c.path)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.path, resp.StatusCode, body, c.status)
		} else if c.status == 400 && !strings.Contains(string(body), "signed URL") {
			t.Errorf("%s: %s, want a reason that names signed URLs", c.path, body)
		}
	}
}

// The conversion stores originals stripped, so an original may be served
// as it is when re-encoding would be larger; a file another program put in
// the store never is: it may carry GPS, or bytes no decoder should meet.
func TestOnlyOwnOriginalsPassThrough(t *testing.T) {
	f := newFixture(t, nil)
	photo := testimage.Photo(t, 640, 480)
	gps := testimage.WithPrivateMetadata(t, photo)
	photo.Close()
	f.place("foreign.jpg", gps)
	f.put("own.jpg", gps) // what a passthrough would serve as it is
	// q=100 re-encodes a q=90 JPEG into more bytes than it has.
	_, foreign := f.get(signedPath("/foreign.jpg", "fm=jpg&q=100"))
	if bytes.Equal(foreign, gps) || bytes.Contains(foreign, []byte("SecretCam")) {
		t.Fatalf("a foreign JPEG was served as it is (%d bytes, metadata kept)", len(foreign))
	}
	_, own := f.get(signedPath("/own.jpg", "fm=jpg&q=100"))
	if !bytes.Equal(own, gps) {
		t.Fatalf("the store's own original, smaller than its re-encode, was not served as it is")
	}
}

// A signed render gets the request deadline like any other, and once nobody
// waits for it, it gives its render slot back at the next tile libvips
// computes instead of running to its end: a 2048 px WebP of a 49 MP PNG.
func TestARenderPastItsDeadlineGivesItsSlotBack(t *testing.T) {
	photo := testimage.Photo(t, 7000, 7000)
	png := testimage.PNG(t, photo)
	photo.Close()
	warm := func(f *fixture) { // the original in memory: what is timed is the render
		f.place("huge.png", png)
		if _, err := f.h.original(context.Background(), "huge.png"); err != nil {
			t.Fatal(err)
		}
	}
	whole := newFixture(t, nil)
	warm(whole)
	timeWhole := func(w string) time.Duration { // a new variant each time
		start := time.Now()
		if resp, body := whole.get(signedPath("/huge.png", "w="+w)); resp.StatusCode != 200 {
			t.Fatalf("signed render: %d %s", resp.StatusCode, body)
		}
		return time.Since(start)
	}
	full := timeWhole("2048")

	f := newFixture(t, func(c *Config) { c.Deadline = full / 10 })
	warm(f)
	start := time.Now()
	resp, body := f.get(signedPath("/huge.png", "w=2048"))
	answered := time.Since(start)
	if resp.StatusCode != 503 {
		t.Fatalf("signed render past the deadline: %d %s, want 503", resp.StatusCode, body)
	}
	testwait.Within(t, 2*full, "the render to free its slot", func() bool { return f.h.pool.InFlight() == 0 })
	freed := time.Since(start)
	// Other tests share the machine: a whole render timed on both sides of
	// the stopped one measures what the machine does meanwhile.
	full = max(full, timeWhole("2047"))
	t.Logf("a whole render takes %v; with a deadline of %v, 503 after %v and the slot free after %v",
		full.Round(time.Millisecond), (full / 10).Round(time.Millisecond), answered.Round(time.Millisecond), freed.Round(time.Millisecond))
	if freed > full/2 {
		t.Fatalf("the render held its slot %v after the request began; a whole render takes %v", freed, full)
	}
}
