package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"

	"github.com/davidbyttow/govips/v2/vips"
)

// Effects are imgix's adjustments and stylizations, applied to the resized
// image in sRGB, in this order: flip and rotation, tone (one lookup table
// for exposure, brightness, contrast, gamma, shadows, highlights and
// invert), colour (saturation, vibrance, hue), sharpening, then the
// stylizations (sepia, monochrome, duotone, pixelation). The zero value
// changes nothing. Each is a cheap libvips operation at the output's size.
type Effects struct {
	FlipH, FlipV bool
	// Rotate turns the image clockwise by degrees; Pivot grows the canvas
	// to hold the whole turned image (its corners Background, else
	// transparent or white), else it is cropped and enlarged back to its
	// size so that no corner shows (imgix's straighten).
	Rotate float64
	Pivot  bool
	// Tone, each -100..100 (Shadows 0..100, Highlights -100..0): 0 is none.
	Exposure, Brightness, Contrast, Gamma, Shadows, Highlights int
	Invert                                                     bool
	// Colour: Saturation and Vibrance -100..100, Hue 0..359 degrees.
	Saturation, Vibrance, Hue int
	// Sharpen 0..100; Unsharp -100..100 with radius UnsharpRadius pixels
	// (negative softens).
	Sharpen       float64
	Unsharp       int
	UnsharpRadius float64
	// Sepia 0..100.
	Sepia int
	// Mono tints the luminance with a colour, its alpha the strength.
	Mono *Color
	// Duotone maps shadows to [0] and highlights to [1], at DuotoneAlpha
	// 0..100 (100: fully).
	Duotone      *[2]Color
	DuotoneAlpha int
	// Pixelate makes blocks of this many pixels (0, 1: none).
	Pixelate int
	// Denoise (0..100) mixes in a 3x3 median; DenoiseSharpen (0..100)
	// sharpens the edges after it.
	Denoise, DenoiseSharpen int
	// Halftone (0..100) mixes in a halftone print of the image's
	// luminance: dots on an 8 px screen.
	Halftone int
}

// colour reports whether e needs the image's three colour bands.
func (e Effects) colour() bool {
	return e.Saturation != 0 || e.Vibrance != 0 || e.Hue != 0 || e.Sepia > 0 || e.Mono != nil || e.Duotone != nil
}

func (e Effects) tone() bool {
	return e.Exposure != 0 || e.Brightness != 0 || e.Contrast != 0 || e.Gamma != 0 || e.Shadows != 0 || e.Highlights != 0 || e.Invert
}

// apply runs the effects on img, an sRGB image of 8 bits a band.
func (e Effects) apply(img *vips.ImageRef, bg *Color) error {
	if e == (Effects{}) {
		return nil
	}
	if e.colour() && img.Bands() < 3 {
		if err := img.ToColorSpace(vips.InterpretationSRGB); err != nil {
			return err
		}
	}
	steps := []func(*vips.ImageRef) error{
		e.flip,
		func(img *vips.ImageRef) error { return e.rotate(img, bg) },
		e.applyTone,
		e.applyColour,
		e.denoise,
		e.sharpen,
		e.stylize,
	}
	for _, step := range steps {
		if err := step(img); err != nil {
			return fmt.Errorf("effects: %w", err)
		}
	}
	if img.BandFormat() != vips.BandFormatUchar {
		return img.Cast(vips.BandFormatUchar) // clips to 0..255
	}
	return nil
}

func (e Effects) flip(img *vips.ImageRef) error {
	if e.FlipH {
		if err := img.Flip(vips.DirectionHorizontal); err != nil {
			return err
		}
	}
	if e.FlipV {
		return img.Flip(vips.DirectionVertical)
	}
	return nil
}

// rotate turns img by e.Rotate degrees clockwise about its centre.
func (e Effects) rotate(img *vips.ImageRef, bg *Color) error {
	deg := math.Mod(e.Rotate, 360)
	if deg == 0 {
		return nil
	}
	if math.Mod(deg, 90) == 0 && (e.Pivot || deg == 180) {
		// Exact quarter turns: no resampling.
		return img.Rotate(map[float64]vips.Angle{90: vips.Angle90, 180: vips.Angle180, 270: vips.Angle270}[deg])
	}
	w, h := img.Width(), img.Height()
	scale := 1.0
	if !e.Pivot {
		// The largest box of the image's aspect inside the turned image,
		// enlarged back to the image's size.
		rad := deg * math.Pi / 180
		c, s := math.Abs(math.Cos(rad)), math.Abs(math.Sin(rad))
		fw, fh := float64(w), float64(h)
		scale = 1 / math.Min(fw/(fw*c+fh*s), fh/(fw*s+fh*c))
	}
	back := vips.ColorRGBA{}
	switch {
	case bg != nil:
		back = vips.ColorRGBA{R: bg.R, G: bg.G, B: bg.B, A: bg.A}
	case e.Pivot && !img.HasAlpha():
		if err := img.AddAlpha(); err != nil {
			return err
		}
	}
	if err := img.Similarity(scale, deg, &back, 0, 0, 0, 0); err != nil {
		return err
	}
	if e.Pivot {
		return nil
	}
	left, top := (img.Width()-w)/2, (img.Height()-h)/2
	return img.ExtractArea(max(0, left), max(0, top), min(w, img.Width()), min(h, img.Height()))
}

// toneCurve maps a value 0..1 through the tone adjustments.
func (e Effects) toneCurve(x float64) float64 {
	if e.Exposure != 0 { // stops of light: 100 is +4
		lin := math.Pow(x, 2.2) * math.Exp2(float64(e.Exposure)/25)
		x = math.Pow(math.Min(lin, 1), 1/2.2)
	}
	x += float64(e.Brightness) / 100
	if e.Contrast != 0 {
		k := 1 + float64(e.Contrast)/100 // -100: flat grey
		if e.Contrast > 0 {
			k = 1 + 3*float64(e.Contrast)/100 // 100: four times as steep
		}
		x = (x-0.5)*k + 0.5
	}
	x = math.Max(0, math.Min(1, x))
	if e.Gamma != 0 { // 100 lifts the midtones to x^0.25, -100 lowers them to x^4
		x = math.Pow(x, math.Exp2(-float64(e.Gamma)/50))
	}
	// Shadows lift, highlights lower, by up to a quarter at their peaks
	// (a third and two thirds up), keeping black and white where they are.
	x += float64(e.Shadows) / 100 * 0.25 * 27 / 4 * x * (1 - x) * (1 - x)
	x += float64(e.Highlights) / 100 * 0.25 * 27 / 4 * x * x * (1 - x)
	if e.Invert {
		x = 1 - x
	}
	return math.Max(0, math.Min(1, x))
}

// applyTone maps the colour bands through one lookup table.
func (e Effects) applyTone(img *vips.ImageRef) error {
	if !e.tone() {
		return nil
	}
	lut := image.NewGray(image.Rect(0, 0, 256, 1))
	for i := range 256 {
		lut.Pix[i] = uint8(math.Round(255 * e.toneCurve(float64(i)/255)))
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, lut); err != nil {
		return err
	}
	table, err := vips.NewImageFromBuffer(buf.Bytes())
	if err != nil {
		return err
	}
	defer table.Close()
	return onColourBands(img, func(c *vips.ImageRef) error { return c.Maplut(table) })
}

// onColourBands runs f on img's colour bands, keeping its alpha as it is.
func onColourBands(img *vips.ImageRef, f func(*vips.ImageRef) error) error {
	if !img.HasAlpha() {
		return f(img)
	}
	if err := branch(img); err != nil {
		return err
	}
	alpha, err := img.ExtractBandToImage(img.Bands()-1, 1)
	if err != nil {
		return err
	}
	defer alpha.Close()
	if err := img.ExtractBand(0, img.Bands()-1); err != nil {
		return err
	}
	if err := f(img); err != nil {
		return err
	}
	return img.BandJoin(alpha)
}

// applyColour changes chroma and hue in LCh.
func (e Effects) applyColour(img *vips.ImageRef) error {
	if e.Saturation != 0 || e.Hue != 0 {
		if err := img.Modulate(1, 1+float64(e.Saturation)/100, float64(e.Hue)); err != nil {
			return err
		}
	}
	if e.Vibrance == 0 {
		return nil
	}
	// Vibrance scales chroma C by 1 + v(1 - C/130): dull colours most,
	// those near sRGB's most saturated (C about 130) hardly at all.
	v := float64(e.Vibrance) / 100
	return onColourBands(img, func(c *vips.ImageRef) error {
		if err := c.ToColorSpace(vips.InterpretationLCH); err != nil {
			return err
		}
		if err := branch(c); err != nil {
			return err
		}
		// Multiply by [1, factor, 1]: govips changes images in place only.
		factor, err := c.ExtractBandToImage(1, 1)
		if err != nil {
			return err
		}
		defer factor.Close()
		if err := factor.Linear1(-v/130, 1+v); err != nil {
			return err
		}
		one, err := factor.Copy()
		if err != nil {
			return err
		}
		defer one.Close()
		if err := one.Linear1(0, 1); err != nil {
			return err
		}
		multiplier, err := one.Copy()
		if err != nil {
			return err
		}
		defer multiplier.Close()
		if err := multiplier.BandJoin(factor, one); err != nil {
			return err
		}
		if err := c.Multiply(multiplier); err != nil {
			return err
		}
		return c.ToColorSpace(vips.InterpretationSRGB)
	})
}

func (e Effects) sharpen(img *vips.ImageRef) error {
	if e.Sharpen > 0 {
		if err := img.Sharpen(1, 2, e.Sharpen/20); err != nil {
			return err
		}
	}
	r := e.UnsharpRadius
	if r <= 0 {
		r = 2.5
	}
	switch {
	case e.Unsharp > 0:
		return img.Sharpen(r/2, 0, float64(e.Unsharp)/25)
	case e.Unsharp < 0:
		return img.GaussianBlur(r * float64(-e.Unsharp) / 100)
	}
	return nil
}

// luma is Rec. 709's weights of R, G and B in luminance.
var luma = [3]float64{0.2126, 0.7152, 0.0722}

// sepiaMatrix is the usual sepia recombination.
var sepiaMatrix = [3][3]float64{{0.393, 0.769, 0.189}, {0.349, 0.686, 0.168}, {0.272, 0.534, 0.131}}

func (e Effects) stylize(img *vips.ImageRef) error {
	if e.Sepia > 0 {
		if err := recomb(img, float64(e.Sepia)/100, func(i, j int) float64 { return sepiaMatrix[i][j] }, [3]float64{}); err != nil {
			return err
		}
	}
	if c := e.Mono; c != nil {
		tint := [3]float64{float64(c.R) / 255, float64(c.G) / 255, float64(c.B) / 255}
		if err := recomb(img, float64(c.A)/255, func(i, j int) float64 { return tint[i] * luma[j] }, [3]float64{}); err != nil {
			return err
		}
	}
	if d := e.Duotone; d != nil {
		lo := [3]float64{float64(d[0].R), float64(d[0].G), float64(d[0].B)}
		hi := [3]float64{float64(d[1].R), float64(d[1].G), float64(d[1].B)}
		err := recomb(img, float64(e.DuotoneAlpha)/100, func(i, j int) float64 { return (hi[i] - lo[i]) / 255 * luma[j] }, lo)
		if err != nil {
			return err
		}
	}
	if e.Halftone > 0 {
		if err := halftone(img, float64(e.Halftone)/100); err != nil {
			return err
		}
	}
	if e.Pixelate > 1 {
		return pixelate(img, e.Pixelate)
	}
	return nil
}

// branch computes img's pixels once, into memory, before two operations
// read them: libvips computes on demand, so each would otherwise run the
// whole pipeline before it (the decode included) again.
func branch(img *vips.ImageRef) error {
	if err := inMemory(img); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

// mixWith makes img's colour bands (1-a) img + a other.
func mixWith(img, other *vips.ImageRef, a float64) error {
	return onColourBands(img, func(c *vips.ImageRef) error {
		if err := c.Cast(vips.BandFormatFloat); err != nil {
			return err
		}
		if err := c.Linear1(1-a, 0); err != nil {
			return err
		}
		o, err := other.Copy()
		if err != nil {
			return err
		}
		defer o.Close()
		if err := o.Linear1(a, 0); err != nil {
			return err
		}
		return c.Add(o)
	})
}

func (e Effects) denoise(img *vips.ImageRef) error {
	if e.Denoise > 0 {
		if err := branch(img); err != nil {
			return err
		}
		median, err := img.Copy()
		if err != nil {
			return err
		}
		defer median.Close()
		if err := onColourBands(median, func(c *vips.ImageRef) error { return c.Rank(3, 3, 4) }); err != nil {
			return err
		}
		if median.HasAlpha() {
			if err := median.ExtractBand(0, median.Bands()-1); err != nil {
				return err
			}
		}
		if err := mixWith(img, median, float64(e.Denoise)/100); err != nil {
			return err
		}
	}
	if e.DenoiseSharpen > 0 {
		if err := img.Cast(vips.BandFormatUchar); err != nil {
			return err
		}
		return img.Sharpen(1, 2, float64(e.DenoiseSharpen)/33)
	}
	return nil
}

// halftoneCell is the halftone screen's period in pixels.
const halftoneCell = 8

// halftone mixes img with a print of its luminance through a screen of
// dots, at strength a.
func halftone(img *vips.ImageRef, a float64) error {
	if err := branch(img); err != nil {
		return err
	}
	lum, err := img.Copy()
	if err != nil {
		return err
	}
	defer lum.Close()
	if err := lum.ToColorSpace(vips.InterpretationBW); err != nil {
		return err
	}
	if err := lum.ExtractBand(0, 1); err != nil {
		return err
	}
	tile := image.NewGray(image.Rect(0, 0, halftoneCell, halftoneCell))
	for y := range halftoneCell {
		for x := range halftoneCell {
			v := math.Cos(2*math.Pi*(float64(x)+0.5)/halftoneCell) * math.Cos(2*math.Pi*(float64(y)+0.5)/halftoneCell)
			tile.Pix[y*tile.Stride+x] = uint8(math.Round(127.5 + 127.5*v))
		}
	}
	screen, err := vips.NewImageFromGoImage(tile)
	if err != nil {
		return err
	}
	defer screen.Close()
	if err := screen.ExtractBand(0, 1); err != nil {
		return err
	}
	w, h := img.Width(), img.Height()
	if err := screen.Replicate(w/halftoneCell+1, h/halftoneCell+1); err != nil {
		return err
	}
	if err := screen.ExtractArea(0, 0, w, h); err != nil {
		return err
	}
	// Ink where the image is darker than the screen: steep, so nearly
	// black or white.
	if err := lum.Cast(vips.BandFormatFloat); err != nil {
		return err
	}
	if err := lum.Subtract(screen); err != nil {
		return err
	}
	if err := lum.Linear1(4, 127.5); err != nil {
		return err
	}
	if err := lum.Cast(vips.BandFormatUchar); err != nil {
		return err
	}
	if img.Bands()-boolInt(img.HasAlpha()) >= 3 {
		one, err := lum.Copy()
		if err != nil {
			return err
		}
		defer one.Close()
		if err := lum.BandJoin(one, one); err != nil {
			return err
		}
	}
	return mixWith(img, lum, a)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// recomb mixes img with its recombination by m plus offset, at strength a
// (0..1): out = (1-a) in + a (m in + offset).
func recomb(img *vips.ImageRef, a float64, m func(i, j int) float64, offset [3]float64) error {
	matrix := make([][]float64, 3)
	for i := range 3 {
		matrix[i] = make([]float64, 3)
		for j := range 3 {
			matrix[i][j] = a * m(i, j)
			if i == j {
				matrix[i][j] += 1 - a
			}
		}
	}
	if err := img.Recomb(matrix); err != nil {
		return err
	}
	if offset == ([3]float64{}) {
		return nil
	}
	mul, add := []float64{1, 1, 1}, []float64{a * offset[0], a * offset[1], a * offset[2]}
	if img.HasAlpha() {
		mul, add = append(mul, 1), append(add, 0)
	}
	return img.Linear(mul, add)
}

// pixelate averages blocks of n x n pixels (the last row and column of
// blocks may be smaller).
func pixelate(img *vips.ImageRef, n int) error {
	w, h := img.Width(), img.Height()
	if err := img.ResizeWithVScale(1/float64(n), 1/float64(n), vips.KernelLinear); err != nil {
		return err
	}
	if err := img.Zoom(n, n); err != nil {
		return err
	}
	if img.Width() < w || img.Height() < h {
		if err := img.Embed(0, 0, w, h, vips.ExtendCopy); err != nil {
			return err
		}
	}
	return img.ExtractArea(0, 0, w, h)
}
