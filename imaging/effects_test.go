package imaging_test

import (
	"context"
	"image"
	"math"
	"strings"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
)

// render makes a PNG (lossless: the pixels compare exactly) of src with t
// and decodes it.
func render(t *testing.T, src []byte, tr imaging.Transform) *vips.ImageRef {
	t.Helper()
	return renderAs(t, src, tr, imaging.Encoding{Format: imaging.PNG, Quality: 90})
}

// renderAs renders src with tr as e and decodes it.
func renderAs(t *testing.T, src []byte, tr imaging.Transform, e imaging.Encoding) *vips.ImageRef {
	t.Helper()
	h, err := imaging.Probe(src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := imaging.Render(context.Background(), src, h, tr, e, imaging.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	img, err := vips.NewImageFromBuffer(out.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(img.Close)
	return img
}

// meanDifference is the mean absolute difference of a and b's bands, 0..255.
func meanDifference(t *testing.T, a, b *vips.ImageRef) float64 {
	t.Helper()
	if a.Width() != b.Width() || a.Height() != b.Height() || a.Bands() != b.Bands() {
		t.Fatalf("%dx%d (%d bands) against %dx%d (%d bands)", a.Width(), a.Height(), a.Bands(), b.Width(), b.Height(), b.Bands())
	}
	d, err := a.Copy()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Cast(vips.BandFormatFloat); err != nil {
		t.Fatal(err)
	}
	if err := d.Subtract(b); err != nil {
		t.Fatal(err)
	}
	if err := d.Abs(); err != nil {
		t.Fatal(err)
	}
	m, err := d.Average()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// expected applies op, libvips' own operation for what an effect promises,
// to a copy of the plain render.
func expected(t *testing.T, plain *vips.ImageRef, op func(*vips.ImageRef) error) *vips.ImageRef {
	t.Helper()
	img, err := plain.Copy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(img.Close)
	if err := op(img); err != nil {
		t.Fatal(err)
	}
	if img.BandFormat() != vips.BandFormatUchar {
		if err := img.Cast(vips.BandFormatUchar); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// Each effect, rendered, against the libvips operation that says what it
// does, applied to the plain render: the same size, and a mean difference
// (0..255) under the stated bound. The tone effects are one lookup table;
// their expectations are libvips' linear and gamma operations.
func TestEffectsMatchLibvips(t *testing.T) {
	src := testimage.PNG(t, testimage.Photo(t, 400, 300))
	plain := render(t, src, imaging.Transform{Width: 200})
	cases := []struct {
		name  string
		e     imaging.Effects
		op    func(*vips.ImageRef) error
		bound float64
	}{
		{"invert", imaging.Effects{Invert: true}, func(i *vips.ImageRef) error { return i.Invert() }, 0.01},
		{"bri=20", imaging.Effects{Brightness: 20}, func(i *vips.ImageRef) error { return i.Linear1(1, 51) }, 0.6},
		{"bri=-100", imaging.Effects{Brightness: -100}, func(i *vips.ImageRef) error { return i.Linear1(0, 0) }, 0.01},
		{"con=50", imaging.Effects{Contrast: 50}, func(i *vips.ImageRef) error { return i.Linear1(2.5, 127.5-2.5*127.5) }, 0.6},
		{"con=-100", imaging.Effects{Contrast: -100}, func(i *vips.ImageRef) error { return i.Linear1(0, 128) }, 0.01},
		{"gam=50", imaging.Effects{Gamma: 50}, func(i *vips.ImageRef) error { return i.Gamma(2) }, 0.6},
		{"exp=25", imaging.Effects{Exposure: 25}, func(i *vips.ImageRef) error { return i.Linear1(math.Pow(2, 1/2.2), 0) }, 0.6},
		{"flip=hv", imaging.Effects{FlipH: true, FlipV: true}, func(i *vips.ImageRef) error { return i.Rotate(vips.Angle180) }, 0.01},
		{"rot=90&rot-type=pivot", imaging.Effects{Rotate: 90, Pivot: true}, func(i *vips.ImageRef) error {
			return i.Rotate(vips.Angle90)
		}, 0.01},
		{"sepia=100", imaging.Effects{Sepia: 100}, func(i *vips.ImageRef) error {
			return i.Recomb([][]float64{{0.393, 0.769, 0.189}, {0.349, 0.686, 0.168}, {0.272, 0.534, 0.131}})
		}, 0.6},
		{"duotone=black,white", imaging.Effects{Duotone: &[2]imaging.Color{{A: 255}, {R: 255, G: 255, B: 255, A: 255}}, DuotoneAlpha: 100}, func(i *vips.ImageRef) error {
			return i.Recomb([][]float64{{0.2126, 0.7152, 0.0722}, {0.2126, 0.7152, 0.0722}, {0.2126, 0.7152, 0.0722}})
		}, 0.6},
		{"monochrome=ff0000", imaging.Effects{Mono: &imaging.Color{R: 255, A: 255}}, func(i *vips.ImageRef) error {
			return i.Recomb([][]float64{{0.2126, 0.7152, 0.0722}, {0, 0, 0}, {0, 0, 0}})
		}, 0.6},
		{"sat=-100", imaging.Effects{Saturation: -100}, func(i *vips.ImageRef) error {
			// Grey of the same L*: LCh with no chroma.
			if err := i.ToColorSpace(vips.InterpretationLCH); err != nil {
				return err
			}
			if err := i.Linear([]float64{1, 0, 1}, []float64{0, 0, 0}); err != nil {
				return err
			}
			return i.ToColorSpace(vips.InterpretationSRGB)
		}, 1},
		{"hue=120", imaging.Effects{Hue: 120}, func(i *vips.ImageRef) error {
			if err := i.ToColorSpace(vips.InterpretationLCH); err != nil {
				return err
			}
			if err := i.Linear([]float64{1, 1, 1}, []float64{0, 0, 120}); err != nil {
				return err
			}
			return i.ToColorSpace(vips.InterpretationSRGB)
		}, 0.6},
		{"usm=-100", imaging.Effects{Unsharp: -100, UnsharpRadius: 2}, func(i *vips.ImageRef) error { return i.GaussianBlur(2) }, 0.6},
		{"sharp=40", imaging.Effects{Sharpen: 40}, func(i *vips.ImageRef) error { return i.Sharpen(1, 2, 2) }, 0.01},
		{"usm=50&usmrad=4", imaging.Effects{Unsharp: 50, UnsharpRadius: 4}, func(i *vips.ImageRef) error { return i.Sharpen(2, 0, 2) }, 0.01},
		{"nr=100", imaging.Effects{Denoise: 100}, func(i *vips.ImageRef) error { return i.Rank(3, 3, 4) }, 0.6},
		{"px=10", imaging.Effects{Pixelate: 10}, func(i *vips.ImageRef) error {
			if err := i.ResizeWithVScale(0.1, 0.1, vips.KernelLinear); err != nil {
				return err
			}
			return i.Zoom(10, 10)
		}, 0.01},
	}
	for _, c := range cases {
		got := render(t, src, imaging.Transform{Width: 200, Effects: c.e})
		if d := meanDifference(t, got, expected(t, plain, c.op)); d > c.bound {
			t.Errorf("%s: mean difference %.2f from libvips' own, over %.2f", c.name, d, c.bound)
		}
	}
}

// Effects without a one-operation twin in libvips, checked by what they
// must do.
func TestEffectsDoWhatTheySay(t *testing.T) {
	src := testimage.PNG(t, testimage.Photo(t, 400, 300))
	plain := render(t, src, imaging.Transform{Width: 200})
	// Pixelation: every 10x10 block is one colour.
	px := render(t, src, imaging.Transform{Width: 200, Effects: imaging.Effects{Pixelate: 10}})
	for _, at := range [][2]int{{0, 0}, {50, 30}, {190, 140}} {
		first, _ := px.GetPoint(at[0], at[1])
		last, _ := px.GetPoint(at[0]+9, at[1]+9)
		for b := range first {
			if first[b] != last[b] {
				t.Errorf("px=10: block at %v is not one colour: %v and %v", at, first, last)
			}
		}
	}
	// Straightening keeps the size and shows no corner.
	rot := render(t, src, imaging.Transform{Width: 200, Effects: imaging.Effects{Rotate: 10}})
	if rot.Width() != plain.Width() || rot.Height() != plain.Height() || rot.HasAlpha() {
		t.Errorf("rot=10: %dx%d alpha %v, want %dx%d opaque", rot.Width(), rot.Height(), rot.HasAlpha(), plain.Width(), plain.Height())
	}
	if corner, _ := rot.GetPoint(0, 0); corner[0]+corner[1]+corner[2] < 10 {
		t.Errorf("rot=10: the corner is black (%v): the turn's background shows", corner)
	}
	// Vibrance leaves greys grey and moves dull colours more than vivid ones.
	// Shadows lift the dark, highlights lower the light, each keeping the ends.
	for _, c := range []struct {
		name string
		e    imaging.Effects
		at   float64 // a value 0..1 of the tone curve's input
		up   bool
	}{{"shad=100", imaging.Effects{Shadows: 100}, 0.3, true}, {"high=-100", imaging.Effects{Highlights: -100}, 0.7, false}} {
		grey := testimage.PNG(t, greyRamp(t))
		out := render(t, grey, imaging.Transform{Effects: c.e})
		before, _ := render(t, grey, imaging.Transform{}).GetPoint(int(c.at*255), 0)
		after, _ := out.GetPoint(int(c.at*255), 0)
		if (after[0] > before[0]+20) != c.up || (after[0] < before[0]-20) == c.up {
			t.Errorf("%s at %.1f: %v becomes %v", c.name, c.at, before[0], after[0])
		}
		for _, end := range []int{0, 255} {
			b, _ := render(t, grey, imaging.Transform{}).GetPoint(end, 0)
			a, _ := out.GetPoint(end, 0)
			if math.Abs(a[0]-b[0]) > 1 {
				t.Errorf("%s moved the end %d: %v to %v", c.name, end, b[0], a[0])
			}
		}
	}
}

// greyRamp is a 256x1 image, column x of value x.
func greyRamp(t *testing.T) *vips.ImageRef {
	t.Helper()
	ramp, err := vips.Identity(false)
	if err != nil {
		t.Fatal(err)
	}
	defer ramp.Close()
	img, err := ramp.CopyChangingInterpretation(vips.InterpretationBW)
	if err != nil {
		t.Fatal(err)
	}
	if err := img.ToColorSpace(vips.InterpretationSRGB); err != nil {
		t.Fatal(err)
	}
	return img
}

// Orientation, the frame and fit=clamp: sizes and where things land.
func TestOrientFrameAndClamp(t *testing.T) {
	src := testimage.PNG(t, testimage.Marked(t, 400, 200)) // red top-left corner on blue
	red := func(img *vips.ImageRef, x, y int) bool {
		p, _ := img.GetPoint(x, y)
		return p[0] > 200 && p[2] < 60
	}
	// orient=6 turns it 90° clockwise: 100x200 for a 100-wide box, the red
	// corner at the top right.
	turned := render(t, src, imaging.Transform{Width: 100, Orient: 6})
	if turned.Width() != 100 || turned.Height() != 200 || !red(turned, 95, 5) || red(turned, 5, 5) {
		t.Errorf("orient=6: %dx%d, red at top right %v, top left %v", turned.Width(), turned.Height(), red(turned, 95, 5), red(turned, 5, 5))
	}
	// A crop of a turned image keeps the focal point where it was asked.
	crop := render(t, src, imaging.Transform{Width: 50, Height: 50, Fit: imaging.FitCrop, Gravity: imaging.GravityFocal, FocalX: 1, FocalY: 0, Orient: 6})
	if !red(crop, 45, 5) {
		t.Errorf("orient=6, crop at the top right: no red there")
	}
	// pad=10 and a 5 px green border inside a 200x100 box: the image gets
	// 170x70, the corner is the border's colour and the padding white.
	// fit=clip fits the 2:1 image in 140x70, so the whole is 170x100.
	green := imaging.Color{G: 255, A: 255}
	frame := imaging.Frame{Pad: imaging.Sides{Top: 10, Right: 10, Bottom: 10, Left: 10}, Border: imaging.Sides{Top: 5, Right: 5, Bottom: 5, Left: 5}, BorderColor: green}
	if clip := render(t, src, imaging.Transform{Width: 200, Height: 100, Frame: frame}); clip.Width() != 170 || clip.Height() != 100 {
		t.Errorf("framed, fit=clip: %dx%d, want 170x100", clip.Width(), clip.Height())
	}
	framed := render(t, src, imaging.Transform{Width: 200, Height: 100, Fit: imaging.FitFill, Background: &imaging.White, Frame: frame})
	corner, _ := framed.GetPoint(1, 1)
	padding, _ := framed.GetPoint(8, 8)
	inside, _ := framed.GetPoint(31, 16)
	if framed.Width() != 200 || framed.Height() != 100 || corner[1] < 250 || corner[0] > 5 || padding[0] < 250 || padding[2] < 250 || inside[0] < 200 {
		t.Errorf("framed: %dx%d, corner %v, padding %v, image %v", framed.Width(), framed.Height(), corner, padding, inside)
	}
	// Without a box the frame adds to the size.
	if f := render(t, src, imaging.Transform{Frame: imaging.Frame{Pad: imaging.Sides{Left: 7, Bottom: 3}}}); f.Width() != 407 || f.Height() != 203 {
		t.Errorf("pad without a box: %dx%d, want 407x203", f.Width(), f.Height())
	}
	// fit=clamp pads with the edge pixels: the left padding is the red edge.
	clamped := render(t, src, imaging.Transform{Width: 200, Height: 200, Fit: imaging.FitClamp})
	if clamped.Width() != 200 || clamped.Height() != 200 || !red(clamped, 10, 2) || clamped.HasAlpha() {
		t.Errorf("fit=clamp: %dx%d alpha %v, red stretched above the corner %v", clamped.Width(), clamped.Height(), clamped.HasAlpha(), red(clamped, 10, 2))
	}
	// fp-z=2 at the top-left corner cuts half as far: the red quarter fills
	// twice as much of the box.
	near := render(t, src, imaging.Transform{Width: 100, Height: 100, Fit: imaging.FitCrop, Gravity: imaging.GravityFocal, Zoom: 2})
	far := render(t, src, imaging.Transform{Width: 100, Height: 100, Fit: imaging.FitCrop, Gravity: imaging.GravityFocal})
	if !red(near, 45, 45) || red(far, 45, 45) {
		t.Errorf("fp-z=2 at the corner: red at 45,45 zoomed %v, not zoomed %v", red(near, 45, 45), red(far, 45, 45))
	}
}

// canvas is a w x h image of colour bg with a rectangle of colour fg at
// left, top; alpha gives it an alpha band.
func canvas(t *testing.T, w, h int, bg, fg imaging.Color, left, top, rw, rh int, alpha bool) []byte {
	t.Helper()
	img, err := vips.Black(w, h)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if err := img.BandJoinConst([]float64{0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := img.DrawRect(vips.ColorRGBA{R: bg.R, G: bg.G, B: bg.B, A: bg.A}, 0, 0, w, h, true); err != nil {
		t.Fatal(err)
	}
	if err := img.DrawRect(vips.ColorRGBA{R: fg.R, G: fg.G, B: fg.B, A: fg.A}, left, top, rw, rh, true); err != nil {
		t.Fatal(err)
	}
	if !alpha {
		if err := img.ExtractBand(0, 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := img.Cast(vips.BandFormatUchar); err != nil {
		t.Fatal(err)
	}
	out, err := img.CopyChangingInterpretation(vips.InterpretationSRGB)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	return testimage.PNG(t, out)
}

// rect cuts the original first; trim cuts its border, by colour or alpha.
func TestRegionAndTrim(t *testing.T) {
	white, blue, clear := imaging.Color{R: 255, G: 255, B: 255, A: 255}, imaging.Color{B: 255, A: 255}, imaging.Color{}
	src := canvas(t, 300, 200, white, blue, 50, 40, 100, 80, false)
	cases := []struct {
		name       string
		src        []byte
		tr         imaging.Transform
		w, h       int
		blueInside bool // the whole output is the blue rectangle
	}{
		{"rect=50,40,100,80", src, imaging.Transform{Region: &imaging.Region{Left: 50, Top: 40, Width: 100, Height: 80}}, 100, 80, true},
		{"rect=50,40,100,80&w=50", src, imaging.Transform{Width: 50, Region: &imaging.Region{Left: 50, Top: 40, Width: 100, Height: 80}}, 50, 40, true},
		{"trim=auto", src, imaging.Transform{Trim: &imaging.Trim{Threshold: 11}}, 100, 80, true},
		{"trim=color&trim-color=fff", src, imaging.Transform{Trim: &imaging.Trim{Color: &white}}, 100, 80, true},
		{"trim=auto&trim-pad=10", src, imaging.Transform{Trim: &imaging.Trim{Threshold: 11, Pad: 10}}, 120, 100, false},
		{"trim=alpha", canvas(t, 300, 200, clear, blue, 20, 30, 60, 50, true), imaging.Transform{Trim: &imaging.Trim{Alpha: true}}, 60, 50, true},
		{"trim=auto&w=200 of a large original", canvas(t, 1200, 800, white, blue, 200, 160, 400, 320, false), imaging.Transform{Width: 200, Trim: &imaging.Trim{Threshold: 11}}, 200, 160, false},
	}
	for _, c := range cases {
		out := render(t, c.src, c.tr)
		if out.Width() != c.w || out.Height() != c.h {
			t.Errorf("%s: %dx%d, want %dx%d", c.name, out.Width(), out.Height(), c.w, c.h)
			continue
		}
		if !c.blueInside {
			continue
		}
		for _, at := range [][2]int{{1, 1}, {c.w - 2, c.h - 2}, {c.w / 2, c.h / 2}} { // a pixel in: the resize blends the edge
			if p, _ := out.GetPoint(at[0], at[1]); p[2] < 250 || p[0] > 5 {
				t.Errorf("%s: pixel %v is %v, not the blue rectangle's", c.name, at, p)
			}
		}
	}
}

// dpi is written where the format keeps a resolution; fp-debug draws its
// crosshairs through the focal point; a palette finds the colours and
// their shares.
func TestDPIFocalDebugAndPalette(t *testing.T) {
	white, blue := imaging.Color{R: 255, G: 255, B: 255, A: 255}, imaging.Color{B: 255, A: 255}
	src := canvas(t, 400, 200, white, blue, 0, 0, 100, 200, false) // a quarter blue, on the left
	h, _ := imaging.Probe(src)
	for _, f := range []imaging.Format{imaging.JPEG, imaging.PNG} {
		out, err := imaging.Render(context.Background(), src, h, imaging.Transform{Width: 100}, imaging.Encoding{Format: f, Quality: 80, DPI: 300}, imaging.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		img, err := vips.NewImageFromBuffer(out.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if dpi := img.ResX() * 25.4; math.Abs(dpi-300) > 1 {
			t.Errorf("%s with dpi=300: %.1f dpi in the file", f, dpi)
		}
		img.Close()
	}
	// The focal point at (0.5, 0.25) of a 200x200 crop of the 400x200
	// image: the lines cross at (100, 50).
	cross := render(t, src, imaging.Transform{Width: 200, Height: 200, Fit: imaging.FitCrop, Gravity: imaging.GravityFocal, FocalX: 0.5, FocalY: 0.25, FocalDebug: true})
	for _, at := range [][2]int{{100, 5}, {100, 195}, {150, 50}, {199, 50}} {
		if p, _ := cross.GetPoint(at[0], at[1]); p[0] < 250 || p[1] > 5 {
			t.Errorf("fp-debug: %v is %v, not on a red line", at, p)
		}
	}
	if p, _ := cross.GetPoint(150, 100); p[0] < 250 || p[1] < 250 {
		t.Errorf("fp-debug: %v off the lines is %v, not the image", [2]int{150, 100}, p)
	}
	swatches, lum, err := imaging.Palette(src, h, 6)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b imaging.Color) bool {
		return math.Abs(float64(a.R)-float64(b.R)) < 5 && math.Abs(float64(a.G)-float64(b.G)) < 5 && math.Abs(float64(a.B)-float64(b.B)) < 5
	}
	if len(swatches) < 2 || !near(swatches[0].Color, white) || !near(swatches[1].Color, blue) || math.Abs(swatches[0].Share-0.75) > 0.03 || math.Abs(swatches[1].Share-0.25) > 0.03 {
		t.Errorf("palette of a quarter blue on white: %+v", swatches)
	}
	for _, s := range swatches[min(2, len(swatches)):] {
		if s.Share > 0.03 {
			t.Errorf("palette of two colours: a third, %+v, covers %.2f", s.Color, s.Share)
		}
	}
	if want := 0.75 + 0.25*0.0722; math.Abs(lum-want) > 0.02 {
		t.Errorf("average luminance %.3f, want %.3f", lum, want)
	}
}

// The padding of fit=fill: a gradient runs from its first colour to its
// second, a blur fill is the image's own colours, and a checkerboard shows
// through alpha.
func TestFillsAndGrid(t *testing.T) {
	white, blue, red := imaging.Color{R: 255, G: 255, B: 255, A: 255}, imaging.Color{B: 255, A: 255}, imaging.Color{R: 255, A: 255}
	src := canvas(t, 100, 100, blue, blue, 0, 0, 1, 1, false) // all blue, square
	box := imaging.Transform{Width: 300, Height: 100, Fit: imaging.FitFill}
	at := func(img *vips.ImageRef, x, y int) []float64 { p, _ := img.GetPoint(x, y); return p }
	near := func(p []float64, c imaging.Color, tol float64) bool {
		return math.Abs(p[0]-float64(c.R)) <= tol && math.Abs(p[1]-float64(c.G)) <= tol && math.Abs(p[2]-float64(c.B)) <= tol
	}
	lin := box
	lin.Fill = imaging.Fill{Gradient: &imaging.Gradient{From: red, To: white, DX: 1}} // left to right
	g := render(t, src, lin)
	if !near(at(g, 0, 50), red, 3) || !near(at(g, 299, 50), white, 3) || !near(at(g, 150, 50), blue, 0) {
		t.Errorf("linear gradient, left to right: %v at the left, %v at the right, %v in the middle (the image)", at(g, 0, 50), at(g, 299, 50), at(g, 150, 50))
	}
	// Halfway in sRGB is the mean; in linear light it is lighter.
	mid := func(space string) float64 {
		tr := imaging.Transform{Width: 300, Height: 100, Fit: imaging.FitFill, Fill: imaging.Fill{Gradient: &imaging.Gradient{From: imaging.Color{A: 255}, To: white, DX: 1, Space: space}}}
		tall := canvas(t, 10, 1000, blue, blue, 0, 0, 1, 1, false) // a sliver in the middle
		return at(render(t, tall, tr), 150-6, 50)[0]
	}
	if s, l := mid("srgb"), mid("linear"); math.Abs(s-125) > 4 || l < 170 {
		t.Errorf("black to white at 48 %%: srgb %.0f (want about 125), linear light %.0f (want lighter)", s, l)
	}
	rad := imaging.Transform{Width: 300, Height: 300, Fit: imaging.FitFill,
		Fill: imaging.Fill{Gradient: &imaging.Gradient{Radial: true, From: red, To: white, X: 20, Y: 20, Inner: 5, Outer: 10}}}
	tiny := canvas(t, 10, 10, blue, blue, 0, 0, 1, 1, false)
	rg := render(t, tiny, rad)
	if !near(at(rg, 20, 20), red, 3) || !near(at(rg, 40, 40), white, 3) {
		t.Errorf("radial gradient: centre %v, outside %v", at(rg, 20, 20), at(rg, 40, 40))
	}
	blurred := box
	blurred.Fill = imaging.Fill{Blur: true}
	if b := render(t, src, blurred); !near(at(b, 10, 50), blue, 8) || b.Width() != 300 {
		t.Errorf("blur fill of a blue image: the padding is %v", at(b, 10, 50))
	}
	clear := imaging.Color{}
	alpha := canvas(t, 40, 40, clear, blue, 30, 30, 10, 10, true)
	grid := render(t, alpha, imaging.Transform{Grid: &[2]imaging.Color{red, white}, GridSize: 4})
	if grid.HasAlpha() || !near(at(grid, 1, 1), red, 0) || !near(at(grid, 5, 1), white, 0) || !near(at(grid, 5, 5), red, 0) || !near(at(grid, 35, 35), blue, 0) {
		t.Errorf("transparency=grid: alpha %v; %v %v %v, the image %v", grid.HasAlpha(), at(grid, 1, 1), at(grid, 5, 1), at(grid, 5, 5), at(grid, 35, 35))
	}
}

// mask=ellipse keeps the inscribed ellipse, rounded corners cut their
// corners, mask-bg fills what is cut, and a border's radii round it.
func TestMasks(t *testing.T) {
	blue, red := imaging.Color{B: 255, A: 255}, imaging.Color{R: 255, A: 255}
	src := canvas(t, 200, 100, blue, blue, 0, 0, 1, 1, false)
	alphaAt := func(img *vips.ImageRef, x, y int) float64 {
		p, _ := img.GetPoint(x, y)
		if len(p) < 4 {
			return 255
		}
		return p[3]
	}
	e := render(t, src, imaging.Transform{Mask: imaging.Mask{Ellipse: true}})
	if alphaAt(e, 100, 50) != 255 || alphaAt(e, 1, 1) != 0 || alphaAt(e, 198, 98) != 0 || alphaAt(e, 3, 50) != 255 || alphaAt(e, 100, 2) != 255 {
		t.Errorf("ellipse: alpha centre %v, corners %v %v, left and top middles %v %v", alphaAt(e, 100, 50), alphaAt(e, 1, 1), alphaAt(e, 198, 98), alphaAt(e, 3, 50), alphaAt(e, 100, 2))
	}
	// The edge is anti-aliased: somewhere on the row through the centre's
	// left end, alpha is between.
	between := false
	for x := range 6 {
		if a := alphaAt(e, x, 50); a > 0 && a < 255 {
			between = true
		}
	}
	if !between {
		t.Errorf("ellipse: no anti-aliased pixel at its left end")
	}
	c := render(t, src, imaging.Transform{Mask: imaging.Mask{Corners: imaging.Corners{20, 0, 20, 0}}})
	if alphaAt(c, 1, 1) != 0 || alphaAt(c, 198, 1) != 255 || alphaAt(c, 198, 98) != 0 || alphaAt(c, 1, 98) != 255 || alphaAt(c, 20, 20) != 255 {
		t.Errorf("corners 20,0,20,0: alpha %v %v %v %v, inside %v", alphaAt(c, 1, 1), alphaAt(c, 198, 1), alphaAt(c, 198, 98), alphaAt(c, 1, 98), alphaAt(c, 20, 20))
	}
	bg := render(t, src, imaging.Transform{Mask: imaging.Mask{Ellipse: true, Background: &red}})
	if p, _ := bg.GetPoint(1, 1); p[0] < 250 || p[2] > 5 || alphaAt(bg, 1, 1) != 255 {
		t.Errorf("mask-bg=red: the corner is %v", p)
	}
	framed := render(t, src, imaging.Transform{Frame: imaging.Frame{Border: imaging.Sides{Top: 10, Right: 10, Bottom: 10, Left: 10}, BorderColor: red,
		OuterRadius: imaging.Corners{30, 30, 30, 30}, InnerRadius: imaging.Corners{15, 15, 15, 15}, Stroke: 2, StrokeColor: imaging.Color{G: 255, A: 255}}})
	inner, _ := framed.GetPoint(13, 13) // the image's corner, rounded onto the border's colour
	if framed.Width() != 224 || framed.Height() != 124 || alphaAt(framed, 1, 1) != 0 || alphaAt(framed, 112, 1) != 255 || inner[2] > 5 {
		t.Errorf("border 10 with radii 30 and inner 15, stroke 2: %dx%d, outer corner alpha %v, top middle %v, inner corner %v",
			framed.Width(), framed.Height(), alphaAt(framed, 1, 1), alphaAt(framed, 112, 1), inner)
	}
}

// The output options: a palette PNG has at most colorquant colours, cs
// embeds the profile it names, iptc=allow passes IPTC on and nothing else,
// and nr, nrs and htn do what they say.
func TestOutputOptions(t *testing.T) {
	photo := testimage.Photo(t, 300, 200)
	src := testimage.PNG(t, photo)
	encode := func(tr imaging.Transform, e imaging.Encoding) *vips.ImageRef {
		t.Helper()
		e.Quality = 80
		return renderAs(t, src, tr, e)
	}
	colours := func(img *vips.ImageRef) int {
		raw, err := img.ToBytes()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[[3]byte]bool{}
		for i := 0; i+2 < len(raw); i += img.Bands() {
			seen[[3]byte{raw[i], raw[i+1], raw[i+2]}] = true
		}
		return len(seen)
	}
	if n := colours(encode(imaging.Transform{}, imaging.Encoding{Format: imaging.PNG, Colors: 20})); n > 16 {
		t.Errorf("colorquant=20: %d colours, want at most 16", n)
	}
	if n := colours(encode(imaging.Transform{}, imaging.Encoding{Format: imaging.PNG})); n < 1000 {
		t.Errorf("a true-colour PNG of a gradient has %d colours", n)
	}
	for _, f := range []imaging.Format{imaging.JPEG, imaging.PNG, imaging.WebP} {
		plain := encode(imaging.Transform{}, imaging.Encoding{Format: f})
		srgb := encode(imaging.Transform{}, imaging.Encoding{Format: f, Profile: "srgb"})
		tiny := encode(imaging.Transform{}, imaging.Encoding{Format: f, Profile: "tinysrgb"})
		if plain.HasICCProfile() || !srgb.HasICCProfile() || !tiny.HasICCProfile() || len(tiny.GetICCProfile()) >= len(srgb.GetICCProfile()) {
			t.Errorf("%s: a profile without cs %v; cs=srgb %d bytes, cs=tinysrgb %d bytes", f, plain.HasICCProfile(), len(srgb.GetICCProfile()), len(tiny.GetICCProfile()))
		}
		if f == imaging.JPEG && (len(srgb.GetExif()) > 0 && srgb.GetExif()["exif-ifd0-Artist"] != "") {
			t.Errorf("cs=srgb let EXIF through")
		}
	}
	// IPTC from a JPEG original, only when allowed; EXIF never.
	tagged, err := photo.Copy()
	if err != nil {
		t.Fatal(err)
	}
	// An APP13 block as Photoshop writes it: one 8BIM resource (0x0404,
	// IPTC) holding a by-line.
	datasets := "\x1c\x02\x50\x00\x0eIPTC By-line 7"
	iptc := []byte("Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00" + string(rune(len(datasets))) + datasets)
	if err := imaging.SetBlob(tagged, "iptc-data", iptc); err != nil {
		t.Fatal(err)
	}
	jsrc := testimage.WithPrivateMetadata(t, tagged)
	jh, _ := imaging.Probe(jsrc)
	for _, keep := range []bool{false, true} {
		out, err := imaging.Render(context.Background(), jsrc, jh, imaging.Transform{Width: 100}, imaging.Encoding{Format: imaging.JPEG, Quality: 80, KeepIPTC: keep}, imaging.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		img, _ := vips.NewImageFromBuffer(out.Bytes)
		got := strings.Contains(string(out.Bytes), "IPTC By-line 7")
		if got != keep || strings.Contains(string(out.Bytes), "SecretCam") {
			t.Errorf("iptc allow=%v: the by-line in the file %v, EXIF's Make %v", keep, got, strings.Contains(string(out.Bytes), "SecretCam"))
		}
		img.Close()
	}
	// nr smooths noise; htn leaves the luminance mostly ink or paper.
	spread := func(img *vips.ImageRef) float64 {
		raw, _ := img.ToBytes()
		var n, sum, sq float64
		for i := 0; i < len(raw); i += img.Bands() {
			v := float64(raw[i])
			n, sum, sq = n+1, sum+v, sq+v*v
		}
		return math.Sqrt(sq/n - (sum/n)*(sum/n))
	}
	noisy := testimage.PNG(t, noise(t, 200, 200))
	if a, b := spread(render(t, noisy, imaging.Transform{})), spread(render(t, noisy, imaging.Transform{Effects: imaging.Effects{Denoise: 100}})); b > a*0.8 {
		t.Errorf("nr=100: spread %.1f, without %.1f", b, a)
	}
	ht := render(t, src, imaging.Transform{Effects: imaging.Effects{Halftone: 100}})
	raw, _ := ht.ToBytes()
	extreme := 0
	for i := 0; i < len(raw); i += ht.Bands() {
		if raw[i] < 40 || raw[i] > 215 {
			extreme++
		}
	}
	if share := float64(extreme) / float64(len(raw)/ht.Bands()); share < 0.6 {
		t.Errorf("htn=100: %.0f %% of pixels ink or paper, want most", 100*share)
	}
	edges := testimage.PNG(t, testimage.Marked(t, 300, 200))
	if d := meanDifference(t, render(t, edges, imaging.Transform{Effects: imaging.Effects{DenoiseSharpen: 100}}), render(t, edges, imaging.Transform{})); d < 0.05 {
		t.Errorf("nrs=100 changed nothing (%.2f)", d)
	}
}

// noise is a w x h grey image of pseudo-random values.
func noise(t *testing.T, w, h int) *vips.ImageRef {
	t.Helper()
	g := image.NewGray(image.Rect(0, 0, w, h))
	x := uint32(1)
	for i := range g.Pix {
		x = x*1664525 + 1013904223
		g.Pix[i] = uint8(x >> 24)
	}
	return testimage.FromGo(t, g)
}

// A watermark lies where it is aligned, padded, at its opacity, or tiled;
// a blend mixes a colour or an image in its mode.
func TestOverlays(t *testing.T) {
	white, red, blue := imaging.Color{R: 255, G: 255, B: 255, A: 255}, imaging.Color{R: 255, A: 255}, imaging.Color{B: 255, A: 255}
	base := canvas(t, 200, 100, white, white, 0, 0, 1, 1, false)
	markSrc := canvas(t, 20, 10, red, red, 0, 0, 1, 1, false)
	mh, _ := imaging.Probe(markSrc)
	at := func(img *vips.ImageRef, x, y int) []float64 { p, _ := img.GetPoint(x, y); return p }
	isRed := func(p []float64) bool { return p[0] > 240 && p[1] < 15 && p[2] < 15 }
	mark := &imaging.Overlay{Src: markSrc, Header: mh, Alpha: 1, Pad: 5, AlignX: 1, AlignY: 1, Mode: vips.BlendModeOver}
	m := render(t, base, imaging.Transform{Mark: mark})
	// Bottom right, 5 px in: x 175..194, y 85..94.
	if !isRed(at(m, 176, 86)) || !isRed(at(m, 194, 94)) || isRed(at(m, 196, 96)) || isRed(at(m, 173, 86)) || m.HasAlpha() {
		t.Errorf("mark at bottom right, pad 5: %v %v %v %v, alpha %v", at(m, 176, 86), at(m, 194, 94), at(m, 196, 96), at(m, 173, 86), m.HasAlpha())
	}
	half := *mark
	half.Alpha = 0.5
	if p := at(render(t, base, imaging.Transform{Mark: &half}), 180, 90); math.Abs(p[1]-128) > 3 || p[0] < 250 {
		t.Errorf("mark-alpha=50 of red on white: %v, want 255,128,128", p)
	}
	wide := *mark
	wide.Width, wide.X, wide.Y = imaging.Length{V: 0.5, Fraction: true}, new(int), new(int)
	if w := render(t, base, imaging.Transform{Mark: &wide}); !isRed(at(w, 99, 49)) || isRed(at(w, 101, 10)) {
		t.Errorf("mark-w=0.5 at 0,0: %v at 99,49, %v at 101,10", at(w, 99, 49), at(w, 101, 10))
	}
	tiled := *mark
	tiled.Tile = true
	if tl := render(t, base, imaging.Transform{Mark: &tiled}); !isRed(at(tl, 1, 1)) || !isRed(at(tl, 150, 60)) {
		t.Errorf("mark-tile=grid: not red everywhere: %v %v", at(tl, 1, 1), at(tl, 150, 60))
	}
	// Multiply: blue over white is blue; over the red mark, black.
	blend := &imaging.Overlay{Color: &blue, Alpha: 1, Mode: vips.BlendModeMultiply}
	b := render(t, base, imaging.Transform{Blend: blend, Mark: mark})
	if p := at(b, 10, 10); p[2] < 250 || p[0] > 5 {
		t.Errorf("blend=blue, multiply, over white: %v", p)
	}
	if p := at(b, 180, 90); !isRed(p) { // the mark lies on top of the blend
		t.Errorf("the mark under the blend: %v", p)
	}
	// An image blend at the output's size (blend-size=inherit).
	img := &imaging.Overlay{Src: markSrc, Header: mh, Alpha: 1, Mode: vips.BlendModeMultiply, AlignX: 0.5, AlignY: 0.5,
		Width: imaging.Length{V: 1, Fraction: true}, Height: imaging.Length{V: 1, Fraction: true}, Fit: imaging.FitScale}
	if bi := render(t, base, imaging.Transform{Blend: img}); !isRed(at(bi, 5, 5)) || !isRed(at(bi, 195, 95)) {
		t.Errorf("blend of a red image, inherit, multiply: %v %v", at(bi, 5, 5), at(bi, 195, 95))
	}
}

// Text lands where it is aligned, in its colour, outlined, fitted or
// clipped to the output, its letters and lines spaced as asked.
func TestText(t *testing.T) {
	white, red := imaging.Color{R: 255, G: 255, B: 255, A: 255}, imaging.Color{R: 255, A: 255}
	base := canvas(t, 400, 120, white, white, 0, 0, 1, 1, false)
	black := imaging.Color{A: 255}
	box := func(tx imaging.Text) (left, top, w, h int) {
		t.Helper()
		img := render(t, base, imaging.Transform{Text: &tx})
		l, tp, w, h, err := img.FindTrim(40, &vips.Color{R: 255, G: 255, B: 255})
		if err != nil {
			t.Fatal(err)
		}
		return l, tp, w, h
	}
	hello := imaging.Text{Text: "Hello", Size: 40, Color: black, Pad: 10}
	l, tp, w, h := box(hello)
	if l < 10 || l > 16 || tp < 10 || tp > 25 || w < 60 || w > 140 || h < 20 || h > 50 {
		t.Errorf("txt=Hello, 40 px, top left, pad 10: drawn at %d,%d, %dx%d", l, tp, w, h)
	}
	right := hello
	right.AlignX, right.AlignY = 1, 1
	if l2, t2, w2, h2 := box(right); l2+w2 < 385 || l2+w2 > 391 || t2+h2 < 100 || t2+h2 > 111 {
		t.Errorf("txt bottom right, pad 10: ends at %d,%d", l2+w2, t2+h2)
	}
	tracked := hello
	tracked.Track = 10
	if _, _, w3, _ := box(tracked); w3 < w+30 {
		t.Errorf("txt-track=10: %d px wide against %d", w3, w)
	}
	long := imaging.Text{Text: strings.Repeat("wide words ", 12), Size: 30, Color: black, Pad: 10}
	if l4, _, w4, _ := box(long); l4+w4 > 391 {
		t.Errorf("a line too long is clipped to the output: it ends at %d", l4+w4)
	}
	fit := long
	fit.Fit = true
	if _, _, w5, h5 := box(fit); w5 > 381 || h5 > 20 {
		t.Errorf("txt-fit=max: %dx%d, want it shrunk into 380 px", w5, h5)
	}
	lines := imaging.Text{Text: "one\ntwo", Size: 20, Color: black, Pad: 10}
	_, _, _, h6 := box(lines)
	lines.Lead = 20
	if _, _, _, h7 := box(lines); h7 < h6+15 {
		t.Errorf("txt-lead=20: two lines %d px tall against %d", h7, h6)
	}
	outlined := hello
	outlined.Color, outlined.Line, outlined.LineColor = white, 3, red
	img := render(t, base, imaging.Transform{Text: &outlined})
	reds := 0
	raw, _ := img.ToBytes()
	for i := 0; i+2 < len(raw); i += img.Bands() {
		if raw[i] > 200 && raw[i+1] < 60 {
			reds++
		}
	}
	if reds < 200 {
		t.Errorf("txt-line=3 in red: %d red pixels", reds)
	}
}

// The geometry, against libvips' own operations on the plain render (or
// the plain decode): orientation, rect, padding and border, clamp, zoom.
func TestGeometryMatchesLibvips(t *testing.T) {
	src := testimage.PNG(t, testimage.Photo(t, 400, 300))
	full := render(t, src, imaging.Transform{})
	cases := []struct {
		name  string
		tr    imaging.Transform
		want  func() *vips.ImageRef
		bound float64
	}{
		{"orient=6", imaging.Transform{Orient: 6}, func() *vips.ImageRef {
			return expected(t, full, func(i *vips.ImageRef) error { return i.Rotate(vips.Angle90) })
		}, 0.01},
		{"orient=5", imaging.Transform{Orient: 5}, func() *vips.ImageRef {
			return expected(t, full, func(i *vips.ImageRef) error {
				if err := i.Rotate(vips.Angle90); err != nil {
					return err
				}
				return i.Flip(vips.DirectionHorizontal)
			})
		}, 0.01},
		{"rect=100,50,200,150", imaging.Transform{Region: &imaging.Region{Left: 100, Top: 50, Width: 200, Height: 150}}, func() *vips.ImageRef {
			return expected(t, full, func(i *vips.ImageRef) error { return i.ExtractArea(100, 50, 200, 150) })
		}, 0.01},
		{"pad=10&border=5,red", imaging.Transform{Frame: imaging.Frame{Pad: imaging.Sides{10, 10, 10, 10}, Border: imaging.Sides{5, 5, 5, 5},
			BorderColor: imaging.Color{R: 255, A: 255}}, Background: &imaging.White}, func() *vips.ImageRef {
			return expected(t, full, func(i *vips.ImageRef) error {
				if err := i.EmbedBackground(10, 10, 420, 320, &vips.Color{R: 255, G: 255, B: 255}); err != nil {
					return err
				}
				return i.EmbedBackground(5, 5, 430, 330, &vips.Color{R: 255})
			})
		}, 0.01},
		{"w=400&h=400&fit=clamp", imaging.Transform{Width: 400, Height: 400, Fit: imaging.FitClamp}, func() *vips.ImageRef {
			return expected(t, full, func(i *vips.ImageRef) error { return i.Embed(0, 50, 400, 400, vips.ExtendCopy) })
		}, 0.01},
		{"w=200&h=150&fit=crop&crop=focalpoint&fp-z=2", imaging.Transform{Width: 200, Height: 150, Fit: imaging.FitCrop, Gravity: imaging.GravityFocal,
			FocalX: 0.5, FocalY: 0.5, Zoom: 2}, func() *vips.ImageRef {
			return expected(t, full, func(i *vips.ImageRef) error { return i.ExtractArea(100, 75, 200, 150) })
		}, 0.01},
	}
	for _, c := range cases {
		got := render(t, src, c.tr)
		if d := meanDifference(t, got, c.want()); d > c.bound {
			t.Errorf("%s: mean difference %.2f from libvips' own, over %.2f", c.name, d, c.bound)
		}
	}
}

// Overlays, fills and the grid against libvips' own operations: a colour
// blended in multiply mode is the image times the colour; a watermark at
// the top left is the mark composited over the plain render; fill=solid
// and the grid are the plain render embedded on, or composited over, the
// colours.
func TestLayersMatchLibvips(t *testing.T) {
	src := testimage.PNG(t, testimage.Photo(t, 400, 300))
	full := render(t, src, imaging.Transform{})
	halfBlue := imaging.Color{R: 255, G: 128, B: 0, A: 255}
	mark := canvas(t, 40, 20, imaging.Color{R: 255, A: 255}, imaging.Color{G: 255, A: 255}, 0, 0, 20, 20, false)
	mh, _ := imaging.Probe(mark)
	zero := 0
	cases := []struct {
		name  string
		tr    imaging.Transform
		want  func(*vips.ImageRef) error
		bound float64
	}{
		{"blend=ff8000&bm=multiply", imaging.Transform{Blend: &imaging.Overlay{Color: &halfBlue, Alpha: 1, Mode: vips.BlendModeMultiply}},
			func(i *vips.ImageRef) error { return i.Linear([]float64{1, 128.0 / 255, 0}, []float64{0, 0, 0}) }, 0.6},
		{"mark at 0,0", imaging.Transform{Mark: &imaging.Overlay{Src: mark, Header: mh, Alpha: 1, X: &zero, Y: &zero, Mode: vips.BlendModeOver}},
			func(i *vips.ImageRef) error {
				m, err := vips.NewImageFromBuffer(mark)
				if err != nil {
					return err
				}
				defer m.Close()
				return i.Insert(m, 0, 0, false, nil)
			}, 0.01},
		{"w=400&h=400&fit=fill&fill=solid&fill-color=0000ff", imaging.Transform{Width: 400, Height: 400, Fit: imaging.FitFill, Background: &imaging.Color{B: 255, A: 255}},
			func(i *vips.ImageRef) error { return i.EmbedBackground(0, 50, 400, 400, &vips.Color{B: 255}) }, 0.01},
	}
	for _, c := range cases {
		got := render(t, src, c.tr)
		if d := meanDifference(t, got, expected(t, full, c.want)); d > c.bound {
			t.Errorf("%s: mean difference %.2f from libvips' own, over %.2f", c.name, d, c.bound)
		}
	}
}
