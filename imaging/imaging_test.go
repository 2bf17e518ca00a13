package imaging_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testnode"
)

func TestMain(m *testing.M) { testimage.Main(m) }

func TestSniff(t *testing.T) {
	photo := testimage.Photo(t, 32, 32)
	defer photo.Close()
	ftyp := func(major string, compat ...string) []byte {
		b := []byte("\x00\x00\x00\x00ftyp" + major + "\x00\x00\x00\x00")
		for _, c := range compat {
			b = append(b, c...)
		}
		b[3] = byte(len(b))
		return append(b, make([]byte, 16)...)
	}
	cases := []struct {
		name string
		in   []byte
		want imaging.Format
	}{
		{"jpeg", testimage.JPEG(t, photo), imaging.JPEG},
		{"png", testimage.PNG(t, photo), imaging.PNG},
		{"webp", testimage.WebP(t, photo), imaging.WebP},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), imaging.GIF},
		{"tiff little-endian", []byte("II*\x00\x08\x00\x00\x00\x00\x00\x00\x00"), imaging.TIFF},
		{"tiff big-endian", []byte("MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00"), imaging.TIFF},
		{"heic", ftyp("heic", "mif1", "heic"), imaging.HEIC},
		{"avif", ftyp("avif", "mif1", "avif"), imaging.AVIF},
		{"mif1 holding av1", ftyp("mif1", "mif1", "avif"), imaging.AVIF},
		{"mif1 holding hevc", ftyp("mif1", "mif1", "heic"), imaging.HEIC},
		{"bmp", append([]byte("BM"), make([]byte, 150)...), ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>`), ""},
		{"imagetragick mvg", []byte("push graphic-context\nviewbox 0 0 640 480\nfill 'url(https://x/y.jpg\"|ls \"-la)'\npop graphic-context"), ""},
		{"pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj"), ""},
		{"html", []byte("<!doctype html><html><body>hello</body></html>"), ""},
		{"mp4", ftyp("isom", "isom", "mp41"), ""},
		{"empty", nil, ""},
		{"short", []byte{0xFF, 0xD8, 0xFF}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := imaging.Sniff(c.in)
			if c.want == "" {
				if !errors.Is(err, imaging.ErrUnsupported) {
					t.Fatalf("Sniff = %q, %v; want ErrUnsupported", got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Sniff = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestUntrustedLoadersAreBlocked(t *testing.T) {
	// Start's self-test in action: even if bytes skipped Sniff, libvips refuses.
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`)
	if img, err := vips.LoadImageFromBuffer(svg, nil); err == nil {
		img.Close()
		t.Fatal("libvips loaded an SVG: VIPS_BLOCK_UNTRUSTED is not in force")
	}
}

func TestProbe(t *testing.T) {
	photo := testimage.Photo(t, 300, 200)
	defer photo.Close()
	h, err := imaging.Probe(testimage.JPEG(t, photo))
	if err != nil {
		t.Fatal(err)
	}
	if h != (imaging.Header{Format: imaging.JPEG, Width: 300, Height: 200, Pages: 1, Orientation: 1}) {
		t.Fatalf("Probe = %+v", h)
	}
	h, err = imaging.Probe(testimage.Oriented(t, 300, 200, 6))
	if err != nil {
		t.Fatal(err)
	}
	if w, ht := h.Upright(); h.Orientation != 6 || w != 300 || ht != 200 || h.Width != 200 {
		t.Fatalf("oriented Probe = %+v, upright %dx%d", h, w, ht)
	}
	h, err = imaging.Probe(testimage.Animated(t, 40, 30, 5))
	if err != nil {
		t.Fatal(err)
	}
	if h.Format != imaging.WebP || h.Pages != 5 || h.Width != 40 || h.Height != 30 {
		t.Fatalf("animated Probe = %+v", h)
	}
}

func TestHostileHeadersAreRefusedBeforeDecoding(t *testing.T) {
	lim := imaging.DefaultLimits()
	cases := map[string][]byte{
		"png claiming 30000x30000":  testimage.PNGClaiming(t, 30000, 30000),
		"jpeg claiming 65500x65500": testimage.JPEGClaiming(t, 65500, 65500),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			h, err := imaging.Probe(b)
			if err != nil {
				t.Fatalf("Probe: %v (the header is valid; only its size is hostile)", err)
			}
			if err := lim.Check(h, 1, 1); !errors.Is(err, imaging.ErrTooLarge) {
				t.Fatalf("Check(%dx%d) = %v, want ErrTooLarge", h.Width, h.Height, err)
			}
			_, err = imaging.Render(context.Background(), b, h, imaging.Transform{Width: 320}, webp(), lim)
			if !errors.Is(err, imaging.ErrTooLarge) {
				t.Fatalf("Render = %v, want ErrTooLarge", err)
			}
		})
	}
}

// A PNG's metadata is bounded before libpng reads it: 2,000 zTXt chunks
// cost seconds to inflate; a few are what photos carry.
func TestPNGMetadataIsBoundedBeforeReading(t *testing.T) {
	if _, err := imaging.Probe(testimage.PNGWithText(t, 3)); err != nil {
		t.Fatalf("a PNG with 3 text chunks: %v", err)
	}
	start := time.Now()
	_, err := imaging.Probe(testimage.PNGWithText(t, 2000))
	if !errors.Is(err, imaging.ErrTooLarge) || !strings.Contains(err.Error(), "metadata chunks") {
		t.Fatalf("a PNG with 2,000 zTXt chunks: %v, want ErrTooLarge naming them", err)
	}
	t.Logf("refused in %v", time.Since(start))
}

func TestLimits(t *testing.T) {
	lim := imaging.DefaultLimits()
	cases := []struct {
		h      imaging.Header
		frames int
		ok     bool
	}{
		{imaging.Header{Width: 20000, Height: 60}, 1, true}, // a legitimate panorama
		{imaging.Header{Width: 8000, Height: 6000}, 1, true},
		{imaging.Header{Width: 30001, Height: 10}, 1, false},
		{imaging.Header{Width: 10000, Height: 6000}, 1, false},
		{imaging.Header{Width: 2000, Height: 2000}, 30, false}, // 120 MP of frames
		{imaging.Header{Width: 200, Height: 200}, 100, true},
		{imaging.Header{Width: 20, Height: 20}, 101, false},
	}
	for _, c := range cases {
		err := lim.Check(c.h, c.frames, 1)
		if c.ok != (err == nil) || err != nil && !errors.Is(err, imaging.ErrTooLarge) {
			t.Errorf("Check(%dx%d, %d frames) = %v, want ok=%v", c.h.Width, c.h.Height, c.frames, err, c.ok)
		}
	}
}

func TestCorruptInputIsErrCorrupt(t *testing.T) {
	photo := testimage.Photo(t, 400, 300)
	defer photo.Close()
	full := testimage.JPEG(t, photo)
	truncated := full[:len(full)*6/10]
	h, err := imaging.Probe(truncated)
	if err != nil {
		t.Fatalf("Probe of a truncated JPEG: %v (its header is whole)", err)
	}
	if _, err := imaging.Render(context.Background(), truncated, h, imaging.Transform{Width: 100}, webp(), imaging.DefaultLimits()); !errors.Is(err, imaging.ErrCorrupt) {
		t.Fatalf("Render(truncated) = %v, want ErrCorrupt", err)
	}
	garbage := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)
	if _, err := imaging.Probe(garbage); !errors.Is(err, imaging.ErrCorrupt) {
		t.Fatalf("Probe(garbage PNG) = %v, want ErrCorrupt", err)
	}
}

func TestRenderFits(t *testing.T) {
	photo := testimage.Photo(t, 1200, 800)
	defer photo.Close()
	src := testimage.JPEG(t, photo)
	h, err := imaging.Probe(src)
	if err != nil {
		t.Fatal(err)
	}
	red := &imaging.Color{R: 255, A: 255}
	cases := []struct {
		name  string
		tr    imaging.Transform
		w, ht int
	}{
		{"width only", imaging.Transform{Width: 320, Fit: imaging.FitClip}, 320, 213},
		{"height only", imaging.Transform{Height: 200, Fit: imaging.FitClip}, 300, 200},
		{"clip box keeps aspect", imaging.Transform{Width: 320, Height: 320, Fit: imaging.FitClip}, 320, 213},
		{"clip never upscales", imaging.Transform{Width: 4000, Fit: imaging.FitClip}, 1200, 800},
		{"max never upscales", imaging.Transform{Width: 2000, Height: 2000, Fit: imaging.FitMax}, 1200, 800},
		{"crop fills the box", imaging.Transform{Width: 320, Height: 320, Fit: imaging.FitCrop}, 320, 320},
		{"crop entropy", imaging.Transform{Width: 200, Height: 300, Fit: imaging.FitCrop, Gravity: imaging.GravityEntropy}, 200, 300},
		{"crop attention", imaging.Transform{Width: 300, Height: 100, Fit: imaging.FitCrop, Gravity: imaging.GravityAttention}, 300, 100},
		{"crop focal point", imaging.Transform{Width: 100, Height: 100, Fit: imaging.FitCrop, Gravity: imaging.GravityFocal, FocalX: 0.9, FocalY: 0.1}, 100, 100},
		{"crop larger than source keeps box aspect", imaging.Transform{Width: 2400, Height: 2400, Fit: imaging.FitCrop}, 800, 800},
		{"fill pads to the box", imaging.Transform{Width: 320, Height: 320, Fit: imaging.FitFill, Background: red}, 320, 320},
		{"scale ignores aspect", imaging.Transform{Width: 100, Height: 300, Fit: imaging.FitScale}, 100, 300},
		{"scale may upscale", imaging.Transform{Width: 2400, Height: 1000, Fit: imaging.FitScale}, 2400, 1000},
		{"no size keeps source", imaging.Transform{}, 1200, 800},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := imaging.Render(context.Background(), src, h, c.tr, webp(), imaging.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			got := decode(t, out.Bytes)
			defer got.Close()
			if got.Width() != c.w || got.Height() != c.ht || out.Width != c.w || out.Height != c.ht {
				t.Fatalf("got %dx%d (reported %dx%d), want %dx%d", got.Width(), got.Height(), out.Width, out.Height, c.w, c.ht)
			}
		})
	}
	t.Run("fill pads with the background colour", func(t *testing.T) {
		out, err := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 320, Height: 320, Fit: imaging.FitFill, Background: red}, jpeg(), imaging.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		img := decode(t, out.Bytes)
		defer img.Close()
		assertColor(t, img, 160, 5, [3]float64{255, 0, 0}) // padding above the 320x213 photo
	})
	t.Run("focal point decides what is kept", func(t *testing.T) {
		marked := testimage.Marked(t, 800, 400) // red in the top-left 200x100
		defer marked.Close()
		src := testimage.PNG(t, marked)
		h, _ := imaging.Probe(src)
		for _, fp := range []struct {
			x, y float64
			want [3]float64
		}{{0.05, 0.05, [3]float64{220, 0, 0}}, {0.95, 0.95, [3]float64{0, 0, 220}}} {
			out, err := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 50, Height: 50, Fit: imaging.FitCrop, Gravity: imaging.GravityFocal, FocalX: fp.x, FocalY: fp.y}, png(), imaging.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			img := decode(t, out.Bytes)
			assertColor(t, img, 5, 5, fp.want) // a centre crop would show blue here
			img.Close()
		}
	})
}

func TestOrientationIsApplied(t *testing.T) {
	for n := 1; n <= 8; n++ {
		src := testimage.Oriented(t, 400, 200, n)
		h, err := imaging.Probe(src)
		if err != nil {
			t.Fatal(err)
		}
		out, err := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 200}, png(), imaging.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		img := decode(t, out.Bytes)
		if img.Width() != 200 || img.Height() != 100 {
			t.Errorf("orientation %d: %dx%d, want 200x100", n, img.Width(), img.Height())
		}
		assertColor(t, img, 10, 10, [3]float64{220, 0, 0})
		assertColor(t, img, 190, 90, [3]float64{0, 0, 220})
		img.Close()
	}
}

func TestMetadataIsStripped(t *testing.T) {
	photo := testimage.Photo(t, 300, 200)
	defer photo.Close()
	src := testimage.WithPrivateMetadata(t, photo)
	if in := decode(t, src); !slices.Contains(in.GetFields(), "exif-ifd3-GPSLatitude") || !slices.Contains(in.GetFields(), "exif-ifd0-Artist") {
		t.Fatalf("test input lacks the metadata it should carry: %v", in.GetFields())
	}
	h, _ := imaging.Probe(src)
	for _, enc := range []imaging.Encoding{webp(), jpeg(), png(), avif()} {
		out, err := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 200}, enc, imaging.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out.Bytes, []byte("Jane Secret")) || bytes.Contains(out.Bytes, []byte("SecretCam")) {
			t.Errorf("%s output carries the artist or camera", enc.Format)
		}
		img := decode(t, out.Bytes)
		for _, f := range img.GetFields() {
			if f == "exif-data" || f == "xmp-data" || f == "iptc-data" || f == "icc-profile-data" || len(f) > 5 && f[:5] == "exif-" {
				t.Errorf("%s output has metadata field %q", enc.Format, f)
			}
		}
		img.Close()
		if enc.Format == imaging.WebP {
			for _, c := range testimage.WebPChunks(out.Bytes) {
				if c == "EXIF" || c == "XMP " || c == "ICCP" {
					t.Errorf("WebP output has a %q chunk", c)
				}
			}
		}
	}
}

func TestAnimationIsKeptOnlyWhereTheFormatAllows(t *testing.T) {
	src := testimage.Animated(t, 200, 100, 4)
	h, _ := imaging.Probe(src)
	out, err := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 100}, webp(), imaging.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := imaging.Probe(out.Bytes)
	if got.Pages != 4 || got.Width != 100 || got.Height != 50 || out.Frames != 4 {
		t.Fatalf("animated WebP out: %+v (frames %d), want 4 frames of 100x50", got, out.Frames)
	}
	out, err = imaging.Render(context.Background(), src, h, imaging.Transform{Width: 100}, jpeg(), imaging.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if out.Frames != 1 || out.Height != 50 {
		t.Fatalf("JPEG from animation: %+v", out)
	}
	lim := imaging.DefaultLimits()
	lim.MaxFrames = 3
	if _, err := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 100}, webp(), lim); !errors.Is(err, imaging.ErrTooLarge) {
		t.Fatalf("4 frames over a 3-frame limit: %v", err)
	}
}

func TestEncodeFormats(t *testing.T) {
	photo := testimage.Photo(t, 600, 400)
	defer photo.Close()
	src := testimage.JPEG(t, photo)
	h, _ := imaging.Probe(src)
	for _, enc := range []imaging.Encoding{webp(), jpeg(), png(), {Format: imaging.AVIF, Quality: 60, Effort: 0}, {Format: imaging.JPEG, Quality: 80, Progressive: true}} {
		out, err := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 300}, enc, imaging.DefaultLimits())
		if err != nil {
			t.Fatalf("%s: %v", enc.Format, err)
		}
		got, err := imaging.Probe(out.Bytes)
		if err != nil || got.Format != enc.Format || got.Width != 300 || got.Height != 200 {
			t.Fatalf("%s: output probes as %+v, %v", enc.Format, got, err)
		}
		if enc.Format == imaging.JPEG {
			progressive := bytes.Contains(out.Bytes, []byte{0xFF, 0xC2})
			if progressive != enc.Progressive {
				t.Errorf("JPEG progressive = %v, want %v", progressive, enc.Progressive)
			}
		}
	}
	lo, _ := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 300}, imaging.Encoding{Format: imaging.WebP, Quality: 30, Effort: 4}, imaging.DefaultLimits())
	hi, _ := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 300}, imaging.Encoding{Format: imaging.WebP, Quality: 95, Effort: 4}, imaging.DefaultLimits())
	if len(lo.Bytes) >= len(hi.Bytes) {
		t.Fatalf("quality has no effect: q30 %d bytes, q95 %d bytes", len(lo.Bytes), len(hi.Bytes))
	}
	// AVIF's effort reaches the encoder, 0 included (govips would send none).
	sizes := map[int]int{}
	for _, effort := range []int{0, 4} {
		out, err := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 300}, imaging.Encoding{Format: imaging.AVIF, Quality: 60, Effort: effort}, imaging.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		sizes[effort] = len(out.Bytes)
	}
	if sizes[0] == sizes[4] {
		t.Errorf("AVIF at effort 0 and 4 are both %d bytes: the effort is not applied", sizes[0])
	}
}

// One q looks about alike in every format: the map rises with q, keeps its
// ends, and gives AVIF less and JPEG less than WebP's q where measured.
func TestEncoderQuality(t *testing.T) {
	for _, f := range []imaging.Format{imaging.AVIF, imaging.JPEG, imaging.WebP, imaging.PNG} {
		prev := 0
		for q := 1; q <= 100; q++ {
			got := imaging.EncoderQuality(f, q, 640)
			if got < prev || got < 1 || got > 100 {
				t.Fatalf("%s: q=%d maps to %d after %d", f, q, got, prev)
			}
			prev = got
		}
		if imaging.EncoderQuality(f, 100, 1080) != 100 || imaging.EncoderQuality(f, 1, 640) != 1 {
			t.Errorf("%s: the ends move", f)
		}
	}
	for _, c := range []struct {
		f             imaging.Format
		q, edge, want int
	}{{imaging.AVIF, 80, 640, 65}, {imaging.AVIF, 78, 640, 63}, {imaging.AVIF, 80, 320, 64}, {imaging.AVIF, 80, 1080, 63},
		{imaging.JPEG, 80, 1080, 75}, {imaging.WebP, 80, 320, 80}, {imaging.AVIF, 0, 640, 1}} {
		if got := imaging.EncoderQuality(c.f, c.q, c.edge); got != c.want {
			t.Errorf("%s q=%d at %d px: %d, want %d", c.f, c.q, c.edge, got, c.want)
		}
	}
}

func webp() imaging.Encoding { return imaging.Encoding{Format: imaging.WebP, Quality: 80, Effort: 4} }
func jpeg() imaging.Encoding { return imaging.Encoding{Format: imaging.JPEG, Quality: 90} }
func png() imaging.Encoding  { return imaging.Encoding{Format: imaging.PNG, Effort: 1} }
func avif() imaging.Encoding { return imaging.Encoding{Format: imaging.AVIF, Quality: 60} }

func decode(t *testing.T, b []byte) *vips.ImageRef {
	t.Helper()
	img, err := vips.NewImageFromBuffer(b)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// assertColor checks a pixel's RGB within a lossy-codec tolerance.
func assertColor(t *testing.T, img *vips.ImageRef, x, y int, want [3]float64) {
	t.Helper()
	px, err := img.GetPoint(x, y)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if d := px[i] - want[i]; d > 40 || d < -40 {
			t.Errorf("pixel (%d,%d) = %v, want about %v", x, y, px[:3], want)
			return
		}
	}
}

func TestSSIM(t *testing.T) {
	photo := testimage.Photo(t, 400, 300)
	defer photo.Close()
	src := testimage.PNG(t, photo)
	same, err := imaging.SSIM(src, src)
	if err != nil || same < 0.9999 {
		t.Fatalf("SSIM(x, x) = %v, %v; want 1", same, err)
	}
	h, _ := imaging.Probe(src)
	var last float64 = 1.01
	for _, q := range []int{95, 60, 10} {
		out, err := imaging.Render(context.Background(), src, h, imaging.Transform{}, imaging.Encoding{Format: imaging.JPEG, Quality: q}, imaging.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		s, err := imaging.SSIM(src, out.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if s >= last || s <= 0 {
			t.Fatalf("SSIM at q%d = %.4f, not below the higher quality's %.4f", q, s, last)
		}
		last = s
	}
}

// FuzzSniff: any bytes at all get a format from the allowlist whose magic
// they carry, or ErrUnsupported; never a panic. Nothing else reaches libvips.
func FuzzSniff(f *testing.F) {
	photo := testimage.Photo(f, 16, 16)
	defer photo.Close()
	for _, b := range testimage.Formats(f, 16, 16) {
		f.Add(b[:min(len(b), 64)])
	}
	f.Add([]byte("BM\x9a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"))
	f.Add([]byte("\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1"))
	f.Add([]byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`))
	magic := map[imaging.Format][]string{
		imaging.JPEG: {"\xff\xd8\xff"}, imaging.PNG: {"\x89PNG\r\n\x1a\n"}, imaging.WebP: {"RIFF"},
		imaging.GIF: {"GIF87a", "GIF89a"}, imaging.TIFF: {"II*\x00", "MM\x00*"}, imaging.HEIC: {"ftyp"}, imaging.AVIF: {"ftyp"},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fm, err := imaging.Sniff(b)
		if err != nil {
			if !errors.Is(err, imaging.ErrUnsupported) {
				t.Fatalf("Sniff error %v is not ErrUnsupported", err)
			}
			return
		}
		for _, m := range magic[fm] {
			if bytes.HasPrefix(b, []byte(m)) || m == "ftyp" && string(b[4:8]) == m {
				return
			}
		}
		t.Fatalf("Sniff said %s of %q, which lacks its magic", fm, b[:min(len(b), 16)])
	})
}

// A render nobody waits for stops at the next point libvips allows, not at
// the end of its work: making a 2048 px WebP of a 7000 x 7000 PNG (49 MP,
// no shrink-on-load) takes most of a second, and must end within a fraction
// of that once its context is done. libvips checks between the tiles of the
// image being saved, so a larger output stops sooner; libwebp's own encode
// cannot be stopped in libvips 8.14 (slow encodes are bounded by size
// instead, see resizer).
func TestRenderStopsWhenItsContextIsDone(t *testing.T) {
	photo := testimage.Photo(t, 7000, 7000)
	src := testimage.PNG(t, photo)
	photo.Close()
	h, err := imaging.Probe(src)
	if err != nil {
		t.Fatal(err)
	}
	tr := imaging.Transform{Width: 2048}
	timeWhole := func() time.Duration {
		start := time.Now()
		if _, err := imaging.Render(context.Background(), src, h, tr, webp(), imaging.DefaultLimits()); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	whole := timeWhole()
	ctx, cancel := context.WithTimeout(context.Background(), whole/10)
	defer cancel()
	start := time.Now()
	_, err = imaging.Render(ctx, src, h, tr, webp(), imaging.DefaultLimits())
	stopped := time.Since(start)
	// Other tests share the machine: a whole render timed on both sides of
	// the stopped one measures what the machine does meanwhile.
	whole = max(whole, timeWhole())
	t.Logf("whole render %v; with a deadline of %v it stopped after %v: %v", whole.Round(time.Millisecond), (whole / 10).Round(time.Millisecond), stopped.Round(time.Millisecond), err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Render past its deadline = %v, want context.DeadlineExceeded", err)
	}
	if stopped > whole/2 {
		t.Fatalf("the render went on for %v of its %v after nobody waited", stopped, whole)
	}
}

// LoadShrink follows libvips 8.14's thumbnail (checked with vipsthumbnail
// --vips-info on a 4000 px JPEG: 2000 px loads at 1, 1000 at 2, 500 at 4,
// 250 at 8), and the limits count what is decoded: a 200 MP phone JPEG
// converts to a 2560 px original at 1/2 a side, its progressive twin does
// not.
func TestLimitsCountDecodedPixels(t *testing.T) {
	jpeg := imaging.Header{Format: imaging.JPEG, Width: 4000, Height: 3000, Pages: 1, Orientation: 1}
	for _, c := range []struct {
		w, h int
		fit  imaging.Fit
		want int
	}{
		{2000, 0, imaging.FitClip, 1},
		{1000, 0, imaging.FitClip, 2},
		{500, 0, imaging.FitClip, 4},
		{250, 0, imaging.FitClip, 8},
		{0, 250, imaging.FitClip, 4}, // 3000 / 250 = 12
		{250, 250, imaging.FitClip, 8},
		{250, 250, imaging.FitCrop, 4}, // covers 250 x 250: 12x
		{400, 100, imaging.FitCrop, 4}, // covers 400 x 100 from 4000: 10x
		{0, 0, imaging.FitClip, 1},
	} {
		if got := imaging.LoadShrink(jpeg, imaging.Transform{Width: c.w, Height: c.h, Fit: c.fit}); got != c.want {
			t.Errorf("LoadShrink(4000x3000 to %dx%d %s) = %d, want %d", c.w, c.h, c.fit, got, c.want)
		}
	}
	progressive := jpeg
	progressive.Progressive = true
	png := jpeg
	png.Format = imaging.PNG
	for _, h := range []imaging.Header{progressive, png} {
		if got := imaging.LoadShrink(h, imaging.Transform{Width: 250}); got != 1 {
			t.Errorf("LoadShrink(%s progressive=%v) = %d, want 1", h.Format, h.Progressive, got)
		}
	}
	lim := imaging.DefaultLimits()
	phone := imaging.Header{Format: imaging.JPEG, Width: 16000, Height: 12000, Pages: 1, Orientation: 1}
	original := imaging.Transform{Width: 2560, Height: 2560, Fit: imaging.FitMax}
	if err := lim.Check(phone, 1, imaging.LoadShrink(phone, original)); err != nil {
		t.Errorf("a 192 MP baseline JPEG to 2560 px: %v", err)
	}
	phone.Progressive = true
	if err := lim.Check(phone, 1, imaging.LoadShrink(phone, original)); !errors.Is(err, imaging.ErrTooLarge) {
		t.Errorf("a 192 MP progressive JPEG: %v, want ErrTooLarge", err)
	}
	huge := imaging.Header{Format: imaging.JPEG, Width: 29000, Height: 29000, Pages: 1, Orientation: 1}
	if err := lim.Check(huge, 1, 8); !errors.Is(err, imaging.ErrTooLarge) {
		t.Errorf("841 MP declared, 13 MP decoded: %v, want ErrTooLarge (the declared bound)", err)
	}
}

// ThumbHash is a port: clients decode what it makes with the reference
// implementation, so it must make the same bytes as the reference's
// encoder (the npm thumbhash package, run by node) for opaque photos,
// alpha, portrait and landscape, and degenerate sizes.
func TestThumbHashMatchesTheReference(t *testing.T) {
	type sample struct {
		w, h int
		rgba []byte
	}
	rgbaOf := func(img *vips.ImageRef) sample {
		if err := img.Cast(vips.BandFormatUchar); err != nil {
			t.Fatal(err)
		}
		if !img.HasAlpha() {
			if err := img.AddAlpha(); err != nil {
				t.Fatal(err)
			}
		}
		b, err := img.ToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return sample{img.Width(), img.Height(), b}
	}
	var samples []sample
	for _, size := range [][2]int{{100, 75}, {37, 100}, {100, 1}, {1, 1}, {64, 64}} {
		photo := testimage.Photo(t, size[0], size[1])
		samples = append(samples, rgbaOf(photo))
		photo.Close()
	}
	// Alpha: the photo fading out from left to right.
	photo := testimage.Photo(t, 90, 60)
	alpha, err := vips.XYZ(90, 60)
	if err != nil {
		t.Fatal(err)
	}
	if err := alpha.ExtractBand(0, 1); err != nil {
		t.Fatal(err)
	}
	if err := alpha.Linear1(255.0/90, 0); err != nil {
		t.Fatal(err)
	}
	if err := alpha.Cast(vips.BandFormatUchar); err != nil {
		t.Fatal(err)
	}
	if err := photo.BandJoin(alpha); err != nil {
		t.Fatal(err)
	}
	samples = append(samples, rgbaOf(photo))
	photo.Close()
	alpha.Close()

	dir := t.TempDir()
	var args []string
	for i, s := range samples {
		if len(s.rgba) != s.w*s.h*4 {
			t.Fatalf("sample %d: %d bytes for %dx%d RGBA", i, len(s.rgba), s.w, s.h)
		}
		path := filepath.Join(dir, fmt.Sprintf("%d.rgba", i))
		if err := os.WriteFile(path, s.rgba, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, fmt.Sprintf("%dx%d:%s", s.w, s.h, path))
	}
	var stderr bytes.Buffer
	cmd := exec.Command("node", append([]string{testnode.Script(t, filepath.Join("testdata", "thumbhash.mjs"))}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	want := strings.Fields(string(out))
	if len(want) != len(samples) {
		t.Fatalf("the reference printed %d hashes for %d images", len(want), len(samples))
	}
	// The constants must match exactly, each varying factor to within one
	// step of its 4 bits: V8's cos and Go's differ in the last bit, and a
	// factor that should be 0 (on the alpha ramp, every vertical one) lands
	// on either side of a rounding boundary.
	for i, s := range samples {
		got := imaging.ThumbHash(s.w, s.h, s.rgba)
		ref, _ := base64.StdEncoding.DecodeString(want[i])
		header := 5
		if ref[2]&0x80 != 0 { // has alpha: one byte more of constants
			header = 6
		}
		ok := len(got) == len(ref) && bytes.Equal(got[:header], ref[:header])
		for j := header; ok && j < len(ref); j++ {
			for _, shift := range []uint{0, 4} {
				if d := int(got[j]>>shift&15) - int(ref[j]>>shift&15); d < -1 || d > 1 {
					ok = false
				}
			}
		}
		if !ok {
			t.Errorf("%dx%d: ThumbHash %s, the reference %s", s.w, s.h, base64.StdEncoding.EncodeToString(got), want[i])
		}
	}
}
