package resizer

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
)

// exotic is the i-th of many distinct unsigned variants no srcset builds:
// each a new render key (q, blur, a height off the ladder, a focal point).
func exotic(i int) string {
	return fmt.Sprintf("w=%d&h=%d&fit=crop&q=%d&blur=%d", DefaultLadder[i%9], 17+i%97, 5+5*(i%18), 10*(i%20))
}

// A stranger who asks for 10,000 exotic variants of a photo from one
// address spends that photo's and that address's render budgets, and is
// told when to come back, in an answer no cache keeps; every size the
// photo's own srcsets ask for still answers 200, in AVIF and in WebP.
func TestStrangersCannotLockAnOwnersSizes(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Unsigned.PerOriginal = RenderBudget{Burst: 300 * time.Millisecond, Rate: 0.001}
		c.Unsigned.PerClient = RenderBudget{Burst: time.Second, Rate: 0.001}
	})
	f.put("p", testimage.WebP(t, testimage.Photo(t, 1200, 800)))
	statuses := map[int]int{}
	var refusal *http.Response
	for i := range 10_000 {
		resp, body := f.get("/p?" + exotic(i))
		statuses[resp.StatusCode]++
		if resp.StatusCode == 429 && refusal == nil {
			refusal = resp
			if !strings.Contains(string(body), "signed URL") {
				t.Errorf("429 says %q, want how to get the image", body)
			}
		}
	}
	t.Logf("10,000 exotic variants: %v", statuses)
	if refusal == nil || statuses[200] > 500 || statuses[200]+statuses[429] != 10_000 {
		t.Fatalf("statuses %v: want a few hundred renders at most, then 429", statuses)
	}
	if ra, _ := strconv.Atoi(refusal.Header.Get("Retry-After")); ra < 1 || refusal.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("429 with Retry-After %q, Cache-Control %q: want a wait and no-store", refusal.Header.Get("Retry-After"), refusal.Header.Get("Cache-Control"))
	}
	for _, accept := range []string{"image/avif,image/webp,*/*", "image/webp,*/*"} {
		for _, w := range DefaultLadder {
			for _, q := range []string{"w=%d&auto=format", "w=%d&auto=format&dpr=2", "w=%d&h=%[1]d&fit=crop&auto=format", "w=%d&auto=format,compress&ixlib=js-3.8.0"} {
				path := "/p?" + fmt.Sprintf(q, w)
				if resp, body := f.get(path, "Accept", accept); resp.StatusCode != 200 {
					t.Errorf("%s (Accept %s) after the attack: %d %s", path, accept, resp.StatusCode, body)
				}
			}
		}
	}
}

// With --client-address-header the CDN's header names the client: each
// viewer has a budget of its own, and a viewer's IPv6 /64 is one client.
func TestClientAddressHeaderNamesTheClient(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.ClientAddressHeader = "CloudFront-Viewer-Address"
		c.Unsigned.PerClient = RenderBudget{Burst: time.Millisecond, Rate: 0.0001}
	})
	f.put("p", testimage.WebP(t, testimage.Photo(t, 600, 400)))
	viewer := func(i int, addr string) int {
		resp, _ := f.get("/p?"+exotic(i), "CloudFront-Viewer-Address", addr)
		return resp.StatusCode
	}
	if a, b := viewer(1, "2001:db8:1:2:aaaa::1:443"), viewer(2, "2001:db8:1:2:bbbb::2:8080"); a != 200 || b != 429 {
		t.Errorf("two addresses of one IPv6 /64: %d then %d, want 200 then 429", a, b)
	}
	if a, b := viewer(3, "198.51.100.10:46532"), viewer(4, "198.51.100.11:46532"); a != 200 || b != 200 {
		t.Errorf("two IPv4 viewers: %d and %d, want 200 each", a, b)
	}
	if a := viewer(5, "198.51.100.10:1234"); a != 429 {
		t.Errorf("a viewer whose budget is spent, from another port: %d, want 429", a)
	}
	// Without the setting, the connecting address is the client, whatever a header says.
	g := newFixture(t, func(c *Config) { c.Unsigned.PerClient = RenderBudget{Burst: time.Millisecond, Rate: 0.0001} })
	g.put("p", testimage.WebP(t, testimage.Photo(t, 600, 400)))
	g.put("other", testimage.WebP(t, testimage.Photo(t, 600, 400)))
	if resp, _ := g.get("/p?" + exotic(1)); resp.StatusCode != 200 {
		t.Fatalf("first exotic render: %d", resp.StatusCode)
	}
	for _, hd := range []string{"X-Forwarded-For", "CloudFront-Viewer-Address"} {
		if resp, _ := g.get("/other?"+exotic(2), hd, "192.0.2.9:80"); resp.StatusCode != 429 {
			t.Errorf("%s, not trusted, changed the client: %d, want 429 (the spent connecting address)", hd, resp.StatusCode)
		}
	}
}

// Every render an exotic request causes is charged, however it is asked:
// again after the variant was evicted, by HEAD, by If-None-Match: *. A
// budget of one render shows each.
func TestRendersAreChargedNotNames(t *testing.T) {
	for _, first := range []struct {
		name   string
		method string
		header []string
	}{
		{"GET", "GET", nil},
		{"HEAD", "HEAD", nil},
		{"If-None-Match: *", "GET", []string{"If-None-Match", "*"}},
	} {
		t.Run(first.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.Unsigned.PerOriginal = RenderBudget{Burst: time.Millisecond, Rate: 0.0001} })
			f.put("p", testimage.WebP(t, testimage.Photo(t, 600, 400)))
			if resp, body := f.do(first.method, "/p?"+exotic(0), first.header...); resp.StatusCode != 200 && resp.StatusCode != 304 {
				t.Fatalf("first exotic render: %d %s", resp.StatusCode, body)
			}
			f.h.variants = newByteCache(1<<20, func(v *variant) int64 { return int64(len(v.data)) }) // evicted
			if resp, _ := f.get("/p?" + exotic(0)); resp.StatusCode != 429 {
				t.Errorf("the same exotic variant rendered again: %d, want 429 (the first render was charged)", resp.StatusCode)
			}
			if resp, body := f.get("/p?w=320"); resp.StatusCode != 200 {
				t.Errorf("a canonical size after: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// What a canonical form is: the forms srcsets and imgix's libraries build.
func TestCanonicalForms(t *testing.T) {
	cfg := DefaultConfig()
	for query, want := range map[string]bool{
		"":                                 true,
		"w=320":                            true,
		"w=320&dpr=2&auto=format":          true,
		"w=640&h=640&fit=crop&auto=format": true,
		"h=480&fit=max&fm=avif":            true,
		"w=400&dpr=3&q=35":                 true, // @imgix/js-core's per-dpr quality
		"w=400&auto=compress":              true,
		"w=320&dpr=4":                      false,
		"w=320&h=213&fit=crop":             false, // a height off the ladder
		"w=320&q=61":                       false,
		"w=320&blur=100":                   false,
		"w=320&bg=ff0000&fit=fill&h=320":   false,
		"w=320&ar=16:9&fit=crop":           false,
		"w=320&fm=png":                     false,
		"w=320&lossless=1":                 false,
		"w=320&h=320&fit=crop&crop=focalpoint&fp-x=0.3": false,
	} {
		q := mustQuery(t, query)
		o, err := ParseOptions(q, "image/webp", ParseConfig{MaxOutput: cfg.MaxOutput, AutoAVIF: true})
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if got := cfg.canonical(q, cfg.Unsigned.quantize(o)); got != want {
			t.Errorf("canonical(%q) = %v, want %v", query, got, want)
		}
	}
}

// A refusal or a failed render of an original is remembered for a minute:
// asking again neither reads the original nor renders it.
func TestRefusalsAndFailuresAreRemembered(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.OriginalCacheBytes = 4 << 20 })
	big := testimage.Photo(t, 5000, 3500)
	png := testimage.PNG(t, big) // too large to decode unsigned at any size; too large to cache
	big.Close()
	f.place("big.png", png)
	f.put("broken", testimage.JPEG(t, testimage.Photo(t, 800, 600))[:6000])
	for _, c := range []struct {
		path   string
		status int
	}{{"/big.png?w=320", 400}, {"/big.png?w=640&fm=webp", 400}, {"/broken?w=320", 422}, {"/broken?w=640", 422}} {
		gets, renders := f.store.gets.Load(), f.renders()
		for i := range 3 {
			if resp, body := f.get(c.path); resp.StatusCode != c.status {
				t.Fatalf("%s (#%d): %d %s, want %d", c.path, i, resp.StatusCode, body, c.status)
			}
		}
		if g, r := f.store.gets.Load()-gets, f.renders()-renders; g > 1 || r > 1 {
			t.Errorf("%s three times: %d reads of the original and %d renders, want 1 at most", c.path, g, r)
		}
	}
}

// The dear cases are bounded or refused before any work: animations by
// their frames' pixels, blur by the output's size, an answer without a size
// by the output caps; several ranges get the whole image, once.
func TestDearRequestsAreBoundedBeforeTheWork(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Limits.MaxFrames = 20 })
	anim := testimage.Animated(t, 300, 300, 12)
	f.put("anim", anim)
	f.put("gif", testimage.AnimatedGIF(t, 32, 32, 24))
	f.put("p", testimage.WebP(t, testimage.Photo(t, 2560, 1700)))
	wide := testimage.Photo(t, 3600, 2400)
	f.place("wide.jpg", testimage.JPEG(t, wide))
	wide.Close()
	for _, c := range []struct {
		path, want string
		status     int
	}{
		{"/anim?w=240", "frames", 400},
		{"/anim", "frames", 400},
		{"/anim?w=240&fm=jpg", "", 200}, // its first frame
		{signedPath("/anim", "w=240"), "", 200},
		{"/anim?w=64&blur=50&fm=jpg", "", 200},
		{"/anim?w=64&blur=50", "still images", 400},
		{signedPath("/anim", "w=64&blur=50"), "still images", 400},
		{"/gif?w=32&fm=jpg", "frame limit", 422}, // 24 frames, over --max-frames, even for one
		{"/p?w=1920&blur=200", "blur", 400},
		{"/p?w=1080&blur=200&fm=avif", "", 200},
		{"/p?dpr=0x1p1", "plain decimal", 400},
		{"/p?w=%2B320", "plain digits", 400},
	} {
		resp, body := f.get(c.path)
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %.200s, want %d naming %q", c.path, resp.StatusCode, body, c.status, c.want)
		}
	}
	if w, h, _ := f.size("/wide.jpg"); w != 2560 || h != 1707 {
		t.Errorf("unsigned, no size, of a 3600x2400 file: %dx%d, want 2560x1707 (--unsigned-max-side)", w, h)
	}
	// Several ranges: the whole variant, once.
	_, whole := f.get("/p?w=320")
	var ranges []string
	for i := range 300 {
		ranges = append(ranges, fmt.Sprintf("%d-%d", i, i))
	}
	resp, body := f.get("/p?w=320", "Range", "bytes="+strings.Join(ranges, ","))
	if resp.StatusCode != 200 || !bytes.Equal(body, whole) {
		t.Errorf("300 ranges: %d, %d bytes, want 200 and the %d bytes of the image", resp.StatusCode, len(body), len(whole))
	}
	if resp, body := f.get("/p?w=320", "Range", "bytes=0-9"); resp.StatusCode != 206 || len(body) != 10 {
		t.Errorf("one range: %d, %d bytes, want 206 and 10", resp.StatusCode, len(body))
	}
}

// A stored original asked at its own size is itself, without a render: no
// full-size encode (which at effort 2 was 56 % dearer than the sized ones).
func TestFullSizeOwnOriginalIsServedAsItIs(t *testing.T) {
	f := newFixture(t, nil)
	orig := testimage.WebP(t, testimage.Photo(t, 1600, 1000))
	f.put("p", orig)
	for _, accept := range []string{"image/avif,image/webp,*/*", "image/webp,*/*"} {
		resp, body := f.get("/p?auto=format", "Accept", accept)
		if resp.StatusCode != 200 || !bytes.Equal(body, orig) || resp.Header.Get("Content-Type") != "image/webp" {
			t.Errorf("full size, Accept %s: %d %s, %d bytes, want the stored WebP as it is", accept, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	if n := f.renders(); n != 0 {
		t.Errorf("%d renders, want none", n)
	}
	if e := imaging.Effort(imaging.WebP, 2560, 1700); e != 0 {
		t.Errorf("a full-size WebP render at effort %d, want 0 (the large renders' effort)", e)
	}
	img := decode(t, orig)
	defer img.Close()
	if img.Pages() != 1 || img.Format() != vips.ImageTypeWEBP {
		t.Fatal("the test's original is not a still WebP")
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
