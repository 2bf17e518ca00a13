package resizer

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/sign"
)

// The table's parameters through the handler: sizes, the answers that are
// not images, the headers, and what unknown parameters do.
func TestParametersThroughTheHandler(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AnySizeUnsigned = true })
	f.put("p", testimage.JPEG(t, testimage.Photo(t, 800, 600)))
	signed := func(path string) string {
		p, query, _ := strings.Cut(path, "?")
		q, _ := url.ParseQuery(query)
		return path + "&s=" + sign.Sign([]byte("current-signing-key!"), p, q)
	}
	sizes := []struct {
		path string
		w, h int
	}{
		{"/p?width=200", 200, 150},
		{"/p?w64=MjAw", 200, 150},
		{"/p?w=0.5", 400, 300},
		{"/p?w=200&or=6", 200, 267},
		{"/p?w=200&rect=0,0,0.5,1.0", 200, 300},
		{"/p?w=200&h=200&fit=crop&max-w=100", 100, 100},
		{"/p?w=100&h=100&fit=crop&min-h=150", 150, 150},
		{"/p?w=200&h=100&fit=clamp", 200, 100},
		{"/p?w=200&pad=10", 200, 155}, // the image gets 180 wide, as imgix sizes padding
		{"/p?w=200&bri=20&con=10&flip=h&border=2,red", 200, 151},
		{signed("/p?w=200&bri=20&con=10&sat=-50&sepia=40&px=4&flip=h&rot=5&border=2,red"), 200, 151},
		{signed("/p?w=200&rot=90&rot-type=pivot"), 150, 200},
		{"/p?w=200&dpr=0.5", 100, 75},
	}
	for _, c := range sizes {
		if w, h, _ := f.size(c.path); w != c.w || h != c.h {
			t.Errorf("%s: %dx%d, want %dx%d", c.path, w, h, c.w, c.h)
		}
	}
	// An unknown parameter is ignored, named, and buys no render.
	before := f.renders()
	resp, _ := f.get("/p?width=200&v=3&utm_x=1&foo=hi")
	if resp.StatusCode != 200 || resp.Header.Get("Imgorigin-Ignored") != "foo, v" {
		t.Errorf("unknown parameters: %d, Imgorigin-Ignored %q", resp.StatusCode, resp.Header.Get("Imgorigin-Ignored"))
	}
	if n := f.renders() - before; n != 0 {
		t.Errorf("unknown parameters made %d renders of a variant already made", n)
	}
	// palette=json and css.
	resp, body := f.get("/p?palette=json&colors=3")
	var pal paletteAnswer
	if err := json.Unmarshal(body, &pal); resp.StatusCode != 200 || err != nil || len(pal.Colors) == 0 || len(pal.Colors) > 3 ||
		resp.Header.Get("Content-Type") != "application/json" || pal.AverageLuminance <= 0 {
		t.Errorf("palette=json: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, body := f.get("/p?palette=css&prefix=hero"); resp.StatusCode != 200 || !strings.Contains(string(body), ".hero-bg-1 { background-color:#") {
		t.Errorf("palette=css: %d %q", resp.StatusCode, body)
	}
	// expires and dl.
	past, future := time.Now().Add(-time.Minute).Unix(), time.Now().Add(time.Hour).Unix()
	if resp, body := f.get(fmt.Sprintf("/p?w=200&expires=%d", past)); resp.StatusCode != 404 || !strings.Contains(string(body), "expired") {
		t.Errorf("expired: %d %q", resp.StatusCode, body)
	}
	resp, _ = f.get(fmt.Sprintf("/p?w=200&expires=%d&dl=beach.jpg", future))
	var maxAge int
	fmt.Sscanf(resp.Header.Get("Cache-Control"), "public, max-age=%d", &maxAge)
	if resp.StatusCode != 200 || maxAge <= 0 || maxAge > 3600 || resp.Header.Get("Content-Disposition") != "attachment; filename=beach.jpg" {
		t.Errorf("expires in an hour, dl: %d, Cache-Control %q, Content-Disposition %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Disposition"))
	}
	for _, bad := range []string{"/p?w=200&sat=-50", "/p?w=100&trim=auto", "/p?w=100&mask=ellipse", "/p?w=100&rot=5", "/p?w=200&bri=101", "/p?w=200&dl=a/b", "/p?palette=css&prefix=x%7By", "/p?w=200&rect=0,0,2.0,1"} {
		if resp, body := f.get(bad); resp.StatusCode != 400 {
			t.Errorf("%s: %d %q, want 400", bad, resp.StatusCode, body)
		}
	}
}

// A watermark, a blend image or text needs a signature; signed, it is another
// original of the store, laid on the output.
func TestMarksNeedASignature(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AnySizeUnsigned = true })
	f.put("p", testimage.JPEG(t, testimage.Photo(t, 800, 600)))
	f.put("logo", testimage.PNG(t, testimage.Marked(t, 40, 20)))
	signed := func(query string) string {
		q, _ := url.ParseQuery(query)
		return "/p?" + query + "&s=" + sign.Sign([]byte("current-signing-key!"), "/p", q)
	}
	for _, q := range []string{"w=200&mark=logo", "w=200&blend=logo", "w=200&m=logo&mark-align=top,left", "w=200&txt=hello", "w=200&txt64=aGVsbG8"} {
		if resp, body := f.get("/p?" + q); resp.StatusCode != 400 || !strings.Contains(string(body), "signed URL") {
			t.Errorf("unsigned %s: %d %q", q, resp.StatusCode, body)
		}
	}
	for _, q := range []string{"w=200&mark=logo&mark-align=top,left&mark-pad=0", "w=200&blend=logo&blend-mode=multiply&blend-size=inherit", "w=200&blend=red&bm=multiply",
		"w=200&txt64=SGVsbG8sIFdvcmxkIQ&txt-size=30&txt-color=fff&txt-align=bottom,center&txt-line=2&txt-line-color=000&txt-shad=3"} {
		resp, body := f.get(signed(q))
		if resp.StatusCode != 200 {
			t.Errorf("signed %s: %d %q", q, resp.StatusCode, body)
			continue
		}
		img := decode(t, body)
		if img.Width() != 200 || img.Height() != 150 {
			t.Errorf("signed %s: %dx%d", q, img.Width(), img.Height())
		}
		img.Close()
	}
	// The mark's red corner lands at the output's top left.
	_, body := f.get(signed("w=200&fm=png&mark=logo&mark-align=top,left&mark-pad=0"))
	img := decode(t, body)
	defer img.Close()
	if p, _ := img.GetPoint(2, 2); p[0] < 200 || p[2] > 60 {
		t.Errorf("signed mark at the top left: %v, not its red corner", p)
	}
	if resp, body := f.get(signed("w=200&mark=nothing-here")); resp.StatusCode != 400 || !strings.Contains(string(body), "no such image") {
		t.Errorf("a mark that is not stored: %d %q", resp.StatusCode, body)
	}
}
