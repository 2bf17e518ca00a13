package resizer

import (
	"bytes"
	"net/url"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/sign"
)

// signedPath signs path?query with the fixture's current key.
func signedPath(path, query string) string {
	q, _ := url.ParseQuery(query)
	return path + "?" + query + "&s=" + url.QueryEscape(sign.Sign([]byte("current-signing-key!"), path, q))
}

// imgix's fits on an 800x600 original: only signed clip, crop and fill
// enlarge; max, min and fillmax never do; unsigned requests never do.
func TestImgixFits(t *testing.T) {
	f := newFixture(t, nil)
	photo := testimage.Photo(t, 800, 600)
	f.put("p", testimage.JPEG(t, photo))
	photo.Close()
	for _, c := range []struct {
		path string
		w, h int
	}{
		{signedPath("/p", "w=1200"), 1200, 900},
		{signedPath("/p", "w=1200&fit=max"), 800, 600},
		{"/p?w=1280", 800, 600},
		{signedPath("/p", "w=1000&h=1000&fit=crop"), 1000, 1000},
		{signedPath("/p", "w=1000&h=1000&fit=min"), 600, 600},
		{"/p?w=960&h=960&fit=crop", 600, 600},
		{signedPath("/p", "w=1000&h=1000&fit=fill"), 1000, 1000},
		{signedPath("/p", "w=1000&h=1000&fit=fillmax"), 1000, 1000},
		{"/p?w=480&h=480&fit=fillmax", 480, 480},
		{"/p?ar=1:1&fit=crop", 600, 600},
		{"/p?ar=2:1&fit=crop", 800, 400},
		{"/p?w=400&ar=16:9&fit=crop", 400, 225},
		{"/p?h=320&ar=1:2&fit=min", 160, 320},
		// A clip box taller than the original is no reason to shrink it:
		// fitting inside never enlarges (an app's full-screen box got
		// 250x188 here). A crop box still shrinks to fit.
		{"/p?w=400&h=960&fit=max", 400, 300},
		{"/p?w=400&h=960&fit=clip", 400, 300},
		{"/p?w=400&h=960&fit=crop", 250, 600},
	} {
		if w, h, _ := f.size(c.path); w != c.w || h != c.h {
			t.Errorf("%s: %dx%d, want %dx%d", c.path, w, h, c.w, c.h)
		}
	}
	// fillmax pads a small original instead of enlarging it: the corner is
	// the background, not the photo.
	resp, body := f.get(signedPath("/p", "w=1000&h=1000&fit=fillmax&bg=ff0000&fm=png"))
	img := decode(t, body)
	defer img.Close()
	if px, _ := img.GetPoint(2, 2); resp.StatusCode != 200 || px[0] != 255 || px[1] != 0 {
		t.Errorf("fillmax corner = %v, want the red background", px)
	}
}

// Parameters imgix's libraries add, and parameters that mean the same,
// share one variant: same ETag, same bytes.
func TestImgixSpellingsShareAVariant(t *testing.T) {
	f := newFixture(t, nil)
	photo := testimage.Photo(t, 800, 600)
	f.put("p", testimage.JPEG(t, photo))
	photo.Close()
	same := [][]string{
		{"/p?w=320", "/p?w=320&ixlib=js-3.8.0", "/p?utm_source=mail&w=320&utm_campaign=x", "/p?w=300", "/p?w=301&ixlib=react-9"},
		{"/p?w=320&h=320&fit=crop&crop=faces", "/p?w=320&h=320&fit=crop&crop=faces,top", "/p?w=320&h=320&fit=crop&crop=top,faces"},
		{"/p?w=320&auto=compress", "/p?w=320&q=45", "/p?w=320&auto=compress&auto=enhance"},
		{"/p?w=320&auto=format,compress", "/p?w=320&auto=format&auto=compress"},
	}
	for _, group := range same {
		resp, first := f.get(group[0], "Accept", "image/webp")
		for _, p := range group[1:] {
			r, b := f.get(p, "Accept", "image/webp")
			if r.StatusCode != 200 || r.Header.Get("ETag") != resp.Header.Get("ETag") || !bytes.Equal(b, first) {
				t.Errorf("%s: %d %s, want the variant of %s (%s)", p, r.StatusCode, r.Header.Get("ETag"), group[0], resp.Header.Get("ETag"))
			}
		}
	}
	if resp, _ := f.get("/p?w=300"); resp.Header.Get("Imgorigin-Rung") != "w=320" {
		t.Errorf("Imgorigin-Rung = %q, want w=320", resp.Header.Get("Imgorigin-Rung"))
	}
	_, q80 := f.get("/p?w=320")
	_, q45 := f.get("/p?w=320&auto=compress")
	if len(q45) >= len(q80) {
		t.Errorf("auto=compress: %d bytes, not fewer than q80's %d", len(q45), len(q80))
	}
}

func TestBlurAndLossless(t *testing.T) {
	f := newFixture(t, nil)
	photo := testimage.Photo(t, 800, 600)
	for x := 0; x < 800; x += 10 { // sharp edges for a blur to soften
		photo.DrawRect(vips.ColorRGBA{A: 255}, x, 0, 3, 600, true)
	}
	f.put("p", testimage.PNG(t, photo))
	photo.Close()
	deviation := func(path string) float64 {
		resp, body := f.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		img := decode(t, body)
		defer img.Close()
		if img.Width() != 640 {
			t.Errorf("%s: %d px wide, want 640", path, img.Width())
		}
		// Noise survives a resize but not a blur: compare the image with a
		// 1-px shifted copy of itself.
		a, _ := img.Copy()
		defer a.Close()
		a.ExtractArea(1, 0, img.Width()-1, img.Height())
		b, _ := img.Copy()
		defer b.Close()
		b.ExtractArea(0, 0, img.Width()-1, img.Height())
		a.Subtract(b)
		a.Abs()
		d, _ := a.Average()
		return d
	}
	sharp, light, heavy := deviation("/p?w=640&fm=png"), deviation("/p?w=640&fm=png&blur=20"), deviation("/p?w=640&fm=png&blur=400")
	if !(heavy < light && light < sharp) || heavy > sharp/4 {
		t.Errorf("neighbour differences: sharp %.2f, blur=20 %.2f, blur=400 %.2f; want each blur smoother", sharp, light, heavy)
	}
	// lossless=1 makes a VP8L (lossless) WebP; with JPEG it means nothing.
	_, lossless := f.get("/p?w=320&fm=webp&lossless=1")
	_, lossy := f.get("/p?w=320&fm=webp")
	if !bytes.Contains(lossless[:40], []byte("VP8L")) || bytes.Contains(lossy[:40], []byte("VP8L")) {
		t.Errorf("lossless chunk: %q; lossy: %q", lossless[12:16], lossy[12:16])
	}
	r1, _ := f.get("/p?w=320&fm=jpg&lossless=1")
	r2, _ := f.get("/p?w=320&fm=jpg")
	if r1.Header.Get("ETag") == "" || r1.StatusCode != 200 || r2.StatusCode != 200 {
		t.Errorf("lossless JPEG: %d", r1.StatusCode)
	}
	// Unsigned lossless is a slow encoder: small outputs only.
	if resp, body := f.get("/p?w=800&fm=webp&lossless=1"); resp.StatusCode != 400 || !bytes.Contains(body, []byte("lossless")) {
		t.Errorf("unsigned lossless at 800 px: %d %s", resp.StatusCode, body)
	}
}
