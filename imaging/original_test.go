package imaging_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
)

// The faces and the placeholder are taken of one small image made from the
// decoded upload, the copy's pixels when it has a copy and the original's
// when not: either way they are what the upload shows. The faces are
// where they were put, and the placeholder's colour is the one
// MakePlaceholder finds by decoding the upload again.
func TestTheGlanceIsTheSameWithOrWithoutACopy(t *testing.T) {
	bg := testimage.Photo(t, 3000, 2000)
	defer bg.Close()
	put := [][3]int{{300, 400, 700}, {1900, 700, 420}}
	src := testimage.WithFaces(t, bg, put)
	want, err := imaging.MakePlaceholder(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, edge := range []int{1280, 0} {
		cfg := imaging.DefaultOriginal()
		cfg.SmallEdge = edge
		c, err := imaging.ConvertOriginal(src, imaging.DefaultLimits(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if (c.Small.Bytes != nil) != (edge > 0) || c.Placeholder == nil {
			t.Fatalf("copy edge %d: copy of %d bytes, placeholder %v", edge, len(c.Small.Bytes), c.Placeholder)
		}
		if d := colourDistance(c.Placeholder.Color, want.Color); d > 3 || c.Placeholder.ThumbHash == "" {
			t.Errorf("copy edge %d: placeholder %+v, %d levels from the upload's %s", edge, *c.Placeholder, d, want.Color)
		}
		if len(c.Faces) != len(put) {
			t.Fatalf("copy edge %d: faces %+v, want %d", edge, c.Faces, len(put))
		}
		k := c.FaceScale * 2560 / 3000 // the original is 2560 px wide
		for i, p := range put {
			cx, cy := float64(c.Faces[i].X+c.Faces[i].Size/2)/k, float64(c.Faces[i].Y+c.Faces[i].Size/2)/k
			if cx < float64(p[0]) || cx > float64(p[0]+p[2]) || cy < float64(p[1]) || cy > float64(p[1]+p[2]) {
				t.Errorf("copy edge %d: face %d centred at %.0f,%.0f in the upload, outside %v", edge, i, cx, cy, p)
			}
		}
	}
}

// colourDistance is the largest difference of two #rrggbb colours' channels.
func colourDistance(a, b string) int {
	d := 0
	for i := 1; i < 7; i += 2 {
		x, _ := strconv.ParseInt(a[i:i+2], 16, 0)
		y, _ := strconv.ParseInt(b[i:i+2], 16, 0)
		d = max(d, int(math.Abs(float64(x-y))))
	}
	return d
}

// reduceTo halves until the last step, and never leaves a pixel past the
// edge asked, whatever the rounding.
func TestReduceToStaysWithinTheEdge(t *testing.T) {
	for _, size := range [][2]int{{2560, 1920}, {1281, 721}, {999, 3001}, {640, 480}, {101, 33}} {
		for _, edge := range []int{640, 100, 99} {
			img := testimage.Photo(t, size[0], size[1])
			if err := imaging.ReduceTo(img, edge); err != nil {
				t.Fatal(err)
			}
			long := max(img.Width(), img.Height())
			if want := min(edge, max(size[0], size[1])); long > want || long < want-1 {
				t.Errorf("%v to %d px: %dx%d", size, edge, img.Width(), img.Height())
			}
			img.Close()
		}
	}
}

// The copy's Lanczos 3 reduce, made with a quarter turn so that libvips
// reduces vertically both times, is libvips' own resize: the same size, and
// on fine grain the same pixels within a level (a quarter of one on
// average, 0.6 where a side does not halve exactly; Catmull-Rom instead
// would be 1.1-1.4 away), for originals from just large enough to have a
// copy to 12 MP, landscape and portrait, with alpha.
func TestQuarterTurnReduceIsLibvipsResize(t *testing.T) {
	for _, c := range []struct {
		w, h  int
		alpha bool
	}{{2560, 1920, false}, {2560, 1600, false}, {1811, 1207, false}, {1920, 2560, false}, {4000, 3000, false}, {2560, 1707, true}} {
		img := testimage.Grain(t, c.w, c.h)
		if c.alpha {
			if err := img.AddAlpha(); err != nil {
				t.Fatal(err)
			}
		}
		scale := 1280 / float64(max(c.w, c.h))
		got, err := imaging.LanczosReduce(img, scale)
		if err != nil {
			t.Fatal(err)
		}
		want, err := img.Copy()
		if err != nil {
			t.Fatal(err)
		}
		if err := want.Resize(scale, vips.KernelLanczos3); err != nil {
			t.Fatal(err)
		}
		if got.Width() != want.Width() || got.Height() != want.Height() || got.Bands() != want.Bands() {
			t.Errorf("%dx%d: %dx%d (%d bands), libvips' resize %dx%d (%d bands)", c.w, c.h, got.Width(), got.Height(), got.Bands(), want.Width(), want.Height(), want.Bands())
		} else if d := meanDifference(t, got, want); d > 0.75 {
			t.Errorf("%dx%d: %.2f levels from libvips' resize on average, want at most 0.75", c.w, c.h, d)
		}
		got.Close()
		want.Close()
		img.Close()
	}
}

// An opaque upload shrunk down by libvips' thumbnail and across in memory
// with a quarter turn is the thumbnail libvips makes alone: the same size
// and, on fine grain, the same pixels within a level on average (0.2-0.9:
// libvips' vertical reduce is vector code of its own precision), whatever
// the sides' rounding, and for a photo stored turned.
func TestOriginalPixelsAreLibvipsThumbnails(t *testing.T) {
	box := imaging.Transform{Width: 2560, Height: 2560, Fit: imaging.FitMax}
	for _, c := range []struct{ w, h int }{{4000, 3000}, {3001, 2001}, {2999, 4001}, {2600, 2599}, {9000, 1500}} {
		img := testimage.Grain(t, c.w, c.h)
		src := testimage.JPEG(t, img)
		img.Close()
		compare(t, fmt.Sprintf("%dx%d", c.w, c.h), src, box)
	}
	compare(t, "turned", testimage.Oriented(t, 3000, 4000, 6), box)
}

func compare(t *testing.T, name string, src []byte, box imaging.Transform) {
	t.Helper()
	h, err := imaging.Probe(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := imaging.OriginalPixels(context.Background(), src, h, box, false)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	want, err := imaging.Thumbnail(context.Background(), src, h, box, false)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if got.Width() != want.Width() || got.Height() != want.Height() || got.Bands() != want.Bands() {
		t.Errorf("%s: %dx%d (%d bands), libvips' thumbnail %dx%d (%d bands)", name, got.Width(), got.Height(), got.Bands(), want.Width(), want.Height(), want.Bands())
	} else if d := meanDifference(t, got, want); d > 1 {
		t.Errorf("%s: %.2f levels from libvips' thumbnail on average, want at most 1", name, d)
	}
}
