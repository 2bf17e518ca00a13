package resizer

import (
	"math"

	"github.com/imgorigin/imgorigin/imaging"
)

// quantize applies the unsigned ceiling that needs no knowledge of the
// original: sizes within MaxSide, q capped and in steps, focal points in
// hundredths. Distinct URLs that land on the same values share one variant.
func (u UnsignedLimits) quantize(o Options) Options {
	if o.Width > u.MaxSide || o.Height > u.MaxSide {
		f := math.Min(float64(u.MaxSide)/float64(max(o.Width, 1)), float64(u.MaxSide)/float64(max(o.Height, 1)))
		o.Width, o.Height = scaleSide(o.Width, f), scaleSide(o.Height, f)
	}
	if o.Quality > 0 {
		q := min(o.Quality, u.MaxQuality)
		o.Quality = max(u.QualityStep, int(math.Round(float64(q)/float64(u.QualityStep)))*u.QualityStep)
	}
	if o.Gravity == imaging.GravityFocal {
		o.FocalX, o.FocalY = math.Round(o.FocalX*100)/100, math.Round(o.FocalY*100)/100
	}
	return o
}

// scaleSide scales a side by f, keeping 0 ("not asked") as it is.
func scaleSide(n int, f float64) int {
	if n == 0 {
		return 0
	}
	return max(1, int(math.Round(float64(n)*f)))
}

// renderOptions is opts reduced to what changes the pixels of this original
// (h), so that requests differing in anything else share one render and one
// cache entry; for unsigned requests it also applies the cost ceiling that
// needs the original's size: no upscaling, slow encoders only for small
// outputs.
func (c Config) renderOptions(o Options, h imaging.Header, signed bool) (Options, error) {
	sw, sh := h.Upright()
	// With at most one side, every fit is clip: there is no box to cover,
	// pad or stretch to.
	if o.Width == 0 || o.Height == 0 {
		o.Fit, o.Gravity, o.FocalX, o.FocalY = imaging.FitClip, "", 0, 0
	}
	// clip and max never upscale: a box the whole original fits in asks for
	// the original's size, however large the box.
	if (o.Fit == imaging.FitClip || o.Fit == imaging.FitMax) && (o.Width == 0 || o.Width >= sw) && (o.Height == 0 || o.Height >= sh) {
		o.Width, o.Height = 0, 0
	}
	if o.Fit == imaging.FitMax {
		o.Fit = imaging.FitClip // the same here: neither upscales
	}
	if !signed && o.Width > 0 && o.Height > 0 && (o.Width > sw || o.Height > sh) {
		// Never past the original's pixels without a signature: the box
		// shrinks to fit in the original, its aspect ratio kept, as crop does.
		f := math.Min(float64(sw)/float64(o.Width), float64(sh)/float64(o.Height))
		o.Width, o.Height = scaleSide(o.Width, f), scaleSide(o.Height, f)
	}
	out := outputFormat(o.Format, h.Format)
	// bg shows only where there is padding (fill) or alpha to flatten (JPEG).
	if o.Background != nil && o.Fit != imaging.FitFill && !(h.Alpha && out == imaging.JPEG) {
		o.Background = nil
	}
	if !signed && (out == imaging.AVIF || out == imaging.PNG) && outputPixels(o, sw, sh) > c.Unsigned.MaxSlowPixels {
		if o.Format != "" && !o.Negotiated {
			side := int(math.Sqrt(float64(c.Unsigned.MaxSlowPixels)))
			return o, badf("fm=%s above %dx%d pixels needs a signed URL (its encoder is slow); use webp or jpg", out, side, side)
		}
		o.Format = imaging.WebP // the format was ours to choose
	}
	return o, nil
}

// outputPixels is an upper bound of the output's pixels: the box (fill pads
// to it), never more than the original.
func outputPixels(o Options, sw, sh int) int {
	w, h := o.Width, o.Height
	switch {
	case w == 0 && h == 0:
		w, h = sw, sh
	case w == 0:
		w = max(1, sw*h/sh)
	case h == 0:
		h = max(1, sh*w/sw)
	}
	if o.Fit == imaging.FitFill {
		return w * h
	}
	return min(w*h, sw*sh)
}
