package imaging_test

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
)

// A still WebP is decoded by libwebp straight to the thumbnail's size: it
// must come out as libvips' own thumbnail does (which has libwebp scale it
// too), the same size (or a pixel nearer the exact scale, where libvips'
// last resize rounds the other way) and the same pixels (a quarter of a
// level apart on average when stretched, 0 otherwise), with and without
// alpha, for every kind of box the resizer asks.
func TestLibwebpThumbnailsAreLibvipsThumbnails(t *testing.T) {
	photo := testimage.Photo(t, 1280, 853)
	defer photo.Close()
	opaque := testimage.WebP(t, photo)
	if err := photo.AddAlpha(); err != nil {
		t.Fatal(err)
	}
	withAlpha := testimage.WebP(t, photo)
	const none = 10000000 // libvips' unbounded side
	boxes := []struct {
		name  string
		w, h  int
		crop  vips.Interesting
		size  vips.Size
		fills bool // the answer is the whole box
	}{
		{"1080 wide", 1080, none, vips.InterestingNone, vips.SizeDown, false},
		{"320 wide", 320, none, vips.InterestingNone, vips.SizeDown, false},
		{"400 high", none, 400, vips.InterestingNone, vips.SizeDown, false},
		{"500 box", 500, 500, vips.InterestingNone, vips.SizeDown, false},
		{"as stored", 1280, 853, vips.InterestingNone, vips.SizeDown, true},
		{"larger box, not enlarged", 2000, 2000, vips.InterestingNone, vips.SizeDown, false},
		{"centre crop", 300, 300, vips.InterestingCentre, vips.SizeDown, true},
		{"attention crop", 640, 200, vips.InterestingAttention, vips.SizeDown, true},
		{"stretched", 200, 300, vips.InterestingNone, vips.SizeForce, true},
	}
	for _, src := range []struct {
		name string
		b    []byte
	}{{"opaque", opaque}, {"alpha", withAlpha}} {
		h, err := imaging.Probe(src.b)
		if err != nil {
			t.Fatal(err)
		}
		for _, box := range boxes {
			name := src.name + ", " + box.name
			dw, dh, ok := imaging.DirectSize(src.b, h, box.w, box.h, box.crop, box.size)
			if !ok {
				t.Errorf("%s: not decoded by libwebp", name)
				continue
			}
			got, err := imaging.LoadThumbnail(context.Background(), src.b, h, box.w, box.h, box.crop, box.size, vips.NewImportParams())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want, err := vips.LoadThumbnailFromBuffer(src.b, box.w, box.h, box.crop, box.size, vips.NewImportParams())
			if err != nil {
				t.Fatal(err)
			}
			gw, gh, ww, wh := got.Width(), got.Height(), want.Width(), want.Height()
			if box.crop == vips.InterestingNone && box.size != vips.SizeForce && (dw != gw || dh != gh) {
				t.Errorf("%s: decoded %dx%d, sized %dx%d", name, gw, gh, dw, dh)
			}
			if box.fills && (gw != min(box.w, h.Width) || gh != min(box.h, h.Height)) {
				t.Errorf("%s: %dx%d, want the box %dx%d", name, gw, gh, box.w, box.h)
			}
			if gw > box.w || gh > box.h || abs(gw-ww) > 1 || abs(gh-wh) > 1 || got.Bands() != want.Bands() {
				t.Errorf("%s: %dx%d (%d bands), libvips %dx%d (%d bands) in a box of %dx%d", name, gw, gh, got.Bands(), ww, wh, want.Bands(), box.w, box.h)
			} else if d := sharedDifference(t, got, want); d > 0.5 {
				t.Errorf("%s: %.2f levels from libvips' thumbnail on average, want at most 0.5", name, d)
			}
			got.Close()
			want.Close()
		}
	}
}

// What libwebp alone cannot give is left to libvips: a colour profile to
// convert from, an EXIF turn, an animation, an enlargement.
func TestLibvipsDecodesWhatLibwebpCannot(t *testing.T) {
	photo := testimage.Photo(t, 600, 400)
	defer photo.Close()
	plain := testimage.WebP(t, photo)
	withICC := withProfile(t, plain)
	if img, err := vips.NewImageFromBuffer(withICC); err != nil || !img.HasICCProfile() {
		t.Fatalf("the WebP made with a profile: %v, or libvips sees none", err)
	}
	h, err := imaging.Probe(plain)
	if err != nil {
		t.Fatal(err)
	}
	turned, animated := h, h
	turned.Orientation = 6
	animated.Pages = 3
	for _, c := range []struct {
		name string
		b    []byte
		h    imaging.Header
		w    int
		size vips.Size
		want bool
	}{
		{"plain", plain, h, 300, vips.SizeDown, true},
		{"ICC profile", withICC, h, 300, vips.SizeDown, false},
		{"turned", plain, turned, 300, vips.SizeDown, false},
		{"animated", plain, animated, 300, vips.SizeDown, false},
		{"enlarged", plain, h, 900, vips.SizeBoth, false},
		{"enlarged by force", plain, h, 900, vips.SizeForce, false},
		{"JPEG", testimage.JPEG(t, photo), imaging.Header{Format: imaging.JPEG, Width: 600, Height: 400, Pages: 1, Orientation: 1}, 300, vips.SizeDown, false},
	} {
		if _, _, ok := imaging.DirectSize(c.b, c.h, c.w, c.w, vips.InterestingNone, c.size); ok != c.want {
			t.Errorf("%s: decoded by libwebp %v, want %v", c.name, ok, c.want)
		}
	}
}

// A truncated or damaged WebP is a corrupt image, and a decode whose
// request has gone stops with the request's error.
func TestLibwebpDecodeFailsCleanly(t *testing.T) {
	photo := testimage.Photo(t, 2000, 1500)
	defer photo.Close()
	src, _, err := photo.ExportWebp(&vips.WebpExportParams{Quality: 100})
	if err != nil {
		t.Fatal(err)
	}
	h, err := imaging.Probe(src)
	if err != nil {
		t.Fatal(err)
	}
	load := func(ctx context.Context, b []byte) error {
		img, err := imaging.LoadThumbnail(ctx, b, h, 1000, 1000, vips.InterestingNone, vips.SizeDown, vips.NewImportParams())
		if err == nil {
			img.Close()
		}
		return err
	}
	if err := load(context.Background(), src[:len(src)/2]); !errors.Is(err, imaging.ErrCorrupt) {
		t.Errorf("half a WebP: %v, want a corrupt image", err)
	}
	damaged := append([]byte(nil), src...)
	for i := 200; i < len(damaged); i += 97 {
		damaged[i] ^= 0x5a
	}
	if err := load(context.Background(), damaged); !errors.Is(err, imaging.ErrCorrupt) {
		t.Errorf("a damaged WebP: %v, want a corrupt image", err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if err := load(gone, src); !errors.Is(err, context.Canceled) {
		t.Errorf("a request gone before the decode: %v", err)
	}
	// A request that goes once libwebp has had the first 32 KB.
	if len(src) < 3*32<<10 {
		t.Fatalf("the WebP is %d bytes, too few to stop in the middle", len(src))
	}
	if err := load(&goneAfter{Context: context.Background(), asked: 2}, src); !errors.Is(err, context.Canceled) {
		t.Errorf("a request gone during the decode: %v", err)
	}
}

// goneAfter is a context that is done from the asked-th time it is asked.
type goneAfter struct {
	context.Context
	asked int
}

func (c *goneAfter) Err() error {
	if c.asked--; c.asked <= 0 {
		return context.Canceled
	}
	return nil
}

// withProfile is the lossy WebP b's picture in an extended container with
// govips' Adobe RGB profile, as a camera app might write it.
func withProfile(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/davidbyttow/govips/v2").Output()
	if err != nil {
		t.Fatalf("locating govips' bundled Adobe RGB profile: %v", err)
	}
	icc, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "resources", "adobe-rgb.icc"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := imaging.Probe(b)
	if err != nil {
		t.Fatal(err)
	}
	var vp8 []byte // the picture's chunk, whatever else libvips wrote
	for i := 12; i+8 <= len(b) && vp8 == nil; {
		n := int(binary.LittleEndian.Uint32(b[i+4:]))
		if string(b[i:i+4]) == "VP8 " {
			vp8 = b[i : i+8+n+n%2]
		}
		i += 8 + n + n%2
	}
	if vp8 == nil {
		t.Fatal("no lossy picture in the WebP")
	}
	chunk := func(name string, data []byte) []byte {
		c := binary.LittleEndian.AppendUint32([]byte(name), uint32(len(data)))
		c = append(c, data...)
		if len(data)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	vp8x := []byte{0x20, 0, 0, 0} // flags: ICC
	vp8x = append(vp8x, byte(h.Width-1), byte((h.Width-1)>>8), byte((h.Width-1)>>16))
	vp8x = append(vp8x, byte(h.Height-1), byte((h.Height-1)>>8), byte((h.Height-1)>>16))
	body := append(append(chunk("VP8X", vp8x), chunk("ICCP", icc)...), vp8...)
	riff := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(4+len(body)))
	return append(append(riff, "WEBP"...), body...)
}

// sharedDifference is meanDifference over the area a and b share.
func sharedDifference(t *testing.T, a, b *vips.ImageRef) float64 {
	t.Helper()
	w, h := min(a.Width(), b.Width()), min(a.Height(), b.Height())
	for _, img := range []*vips.ImageRef{a, b} {
		if err := img.ExtractArea(0, 0, w, h); err != nil {
			t.Fatal(err)
		}
	}
	return meanDifference(t, a, b)
}

func abs(n int) int { return max(n, -n) }
