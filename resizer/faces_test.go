package resizer

import (
	"encoding/json"
	"image"
	"math"
	"net/url"
	"strings"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/sign"
)

// busy is a w x h saturated, high-contrast pattern: thin stripes of skin
// tones and orange between dark lines, what libvips' attention crop (skin
// tones, saturation, edges) goes for, like the coffee cup.
func busy(t *testing.T, w, h int) *vips.ImageRef {
	t.Helper()
	g := image.NewNRGBA(image.Rect(0, 0, w, h))
	colours := [][3]uint8{{255, 0, 0}, {0, 0, 0}, {255, 255, 0}, {255, 255, 255}, {0, 200, 255}, {0, 0, 0}, {255, 0, 200}}
	for y := range h {
		for x := range w {
			c := colours[(x/20+y/20*3)%len(colours)]
			i := y*g.Stride + 4*x
			g.Pix[i], g.Pix[i+1], g.Pix[i+2], g.Pix[i+3] = c[0], c[1], c[2], 255
		}
	}
	return testimage.FromGo(t, g)
}

// facesIn finds the faces in an answer.
func facesIn(t *testing.T, body []byte) []facts.Face {
	t.Helper()
	h, err := imaging.Probe(body)
	if err != nil {
		t.Fatalf("not an image: %v", err)
	}
	found, err := facts.FacesOf(body, h)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A face beside a busy, saturated region: crop=faces keeps the face, where
// libvips' attention crop keeps the busy region. A group: as many faces as
// fit are inside the crop. fit=facearea centres the face.
func TestFaceCrops(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AnySizeUnsigned = true })
	// 1536x512: the busy region on the left, gravel-grey in the middle, a
	// head on the right (the coffee cup, gravel and man).
	scene := busy(t, 1536, 512)
	if err := scene.DrawRect(vips.ColorRGBA{R: 128, G: 124, B: 118, A: 255}, 512, 0, 1024, 512, true); err != nil {
		t.Fatal(err)
	}
	f.place("scene.jpg", testimage.WithFaces(t, scene, [][3]int{{1150, 100, 300}}))
	_, faces := f.get("/scene.jpg?w=160&h=160&fit=crop&crop=faces")
	_, attention := f.get("/scene.jpg?w=160&h=160&fit=crop&crop=attention")
	if n := len(facesIn(t, faces)); n != 1 {
		t.Errorf("crop=faces: %d faces in the 160 px crop, want the one", n)
	}
	if n := len(facesIn(t, attention)); n != 0 {
		t.Errorf("crop=attention: %d faces in the crop, want the busy region's none (or the test shows nothing)", n)
	}

	// Three faces on a busy 1600x1000 picture; a 1000x1000 window holds
	// the two largest, not the third.
	group := busy(t, 1600, 1000)
	f.place("group.jpg", testimage.WithFaces(t, group, [][3]int{{150, 200, 420}, {800, 120, 260}, {1250, 550, 170}}))
	resp, body := f.get("/group.jpg?w=1000&h=1000&fit=crop&crop=faces")
	if got := facesIn(t, body); resp.StatusCode != 200 || len(got) != 2 {
		t.Errorf("crop=faces of the group in a 1000x1000 window: %d, %d faces (%+v), want the two that fit", resp.StatusCode, len(got), got)
	}
	if got := facesIn(t, mustGet(t, f, "/group.jpg?fm=webp&q=90")); len(got) != 3 {
		t.Errorf("the group itself: %d faces, want 3: %+v", len(got), got)
	}

	// fit=facearea&facepad=1.5 at 128x128: the face in the middle, two
	// thirds of the side, within 8 px.
	_, area := f.get("/scene.jpg?fit=facearea&facepad=1.5&w=128&h=128&fm=png")
	got := facesIn(t, area)
	if len(got) != 1 {
		t.Fatalf("fit=facearea: %d faces in the answer", len(got))
	}
	cx, cy := float64(got[0].X)+float64(got[0].Width)/2, float64(got[0].Y)+float64(got[0].Height)/2
	if math.Abs(cx-64) > 8 || math.Abs(cy-64) > 8 || math.Abs(float64(got[0].Width)-128/1.5) > 16 {
		t.Errorf("fit=facearea&facepad=1.5: face at %.0f,%.0f, %d px wide; want the centre within 8 px, about 85 px", cx, cy, got[0].Width)
	}
}

func mustGet(t *testing.T, f *fixture, path string) []byte {
	t.Helper()
	resp, body := f.get(path)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// fm=json&faces=1 lists the faces of an ingested original (kept with it)
// and of one another program stored (found on the read, not written).
func TestFacesInJSON(t *testing.T) {
	f := newFixture(t, nil)
	scene := busy(t, 1200, 800)
	src := testimage.WithFaces(t, scene, [][3]int{{600, 200, 400}})
	in, err := ingest.New(f.store, ingest.Config{Limits: imaging.DefaultLimits(), Original: imaging.DefaultOriginal(), KeySecret: []byte("faces-test-secret!")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.Ingest(t.Context(), "someone", src)
	if err != nil {
		t.Fatal(err)
	}
	f.place("raw.jpg", src)
	for _, key := range []string{res.Key, "raw.jpg"} {
		var info Info
		if err := json.Unmarshal(mustGet(t, f, "/"+key+"?fm=json&faces=1"), &info); err != nil {
			t.Fatal(err)
		}
		if len(info.Faces) != 1 || info.Faces[0].X < 560 || info.Faces[0].X > 760 || info.Faces[0].Confidence < facesMin {
			t.Errorf("%s: faces %+v, want the one near x=600", key, info.Faces)
		}
	}
	if got, _ := facts.FromMeta(mustHead(t, f, "raw.jpg")); got.FacesKnown {
		t.Errorf("a read wrote the faces of raw.jpg to the store")
	}
	if _, body := f.get("/" + res.Key + "?fm=json"); strings.Contains(string(body), `"faces"`) {
		t.Errorf("fm=json without faces=1 lists faces: %s", body)
	}
}

// facesMin is the least confidence a kept face has.
const facesMin = 20

func mustHead(t *testing.T, f *fixture, key string) map[string]string {
	t.Helper()
	info, err := f.store.Head(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return info.Meta
}

// mask=ellipse (a round avatar) keeps alpha: its corners are transparent in
// WebP, AVIF and PNG.
func TestRoundAvatarsKeepAlpha(t *testing.T) {
	f := newFixture(t, nil)
	bg := testimage.Photo(t, 1200, 800)
	defer bg.Close()
	f.place("face.jpg", testimage.WithFaces(t, bg, [][3]int{{500, 150, 400}}))
	for _, fm := range []string{"webp", "avif", "png"} {
		q, _ := url.ParseQuery("w=160&h=160&fit=facearea&facepad=2&mask=ellipse&fm=" + fm)
		body := mustGet(t, f, "/face.jpg?"+q.Encode()+"&s="+sign.Sign([]byte("current-signing-key!"), "/face.jpg", q))
		img, err := vips.NewImageFromBuffer(body)
		if err != nil {
			t.Fatal(err)
		}
		corner, _ := img.GetPoint(1, 1)
		middle, _ := img.GetPoint(80, 80)
		if img.Width() != 160 || !img.HasAlpha() || corner[len(corner)-1] != 0 || middle[len(middle)-1] != 255 {
			t.Errorf("fm=%s: %dx%d, alpha %v, corner %v, middle %v", fm, img.Width(), img.Height(), img.HasAlpha(), corner, middle)
		}
		img.Close()
	}
}
