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
	for _, p := range params {
		if p.unsigned != nil {
			p.unsigned(&o, u)
		}
	}
	return o
}

// quality is q capped and rounded to the unsigned steps.
func (u UnsignedLimits) quality(q int) int {
	return max(u.QualityStep, int(math.Round(float64(min(q, u.MaxQuality))/float64(u.QualityStep)))*u.QualityStep)
}

// unsignedBlurStep rounds unsigned blurs: 10 in imgix's 0..2000 is 0.05 % of
// the long edge, too little to see.
const unsignedBlurStep = 10

// scaleSide scales a side by f, keeping 0 ("not asked") as it is.
func scaleSide(n int, f float64) int {
	if n == 0 {
		return 0
	}
	return max(1, int(math.Round(float64(n)*f)))
}

// renderOptions is opts reduced to what changes the pixels of this original
// (h), so that requests differing in anything else share one render and one
// cache entry: imgix's fits become clip, crop, fill or scale, with Upscale
// where the render enlarges. Only signed requests may enlarge (clip, crop,
// fill); unsigned ones also meet the cost ceiling that needs the original's
// size: no box past its pixels, slow encoders only for small outputs.
func (c Config) renderOptions(o Options, h imaging.Header, signed bool) (Options, error) {
	if name := o.needsSignature(); !signed && name != "" {
		return o, badf("%s needs a signed URL: it costs more than the resize itself, or is the owner's to ask", name)
	}
	sw, sh := h.Reoriented(o.Orient).Upright()
	if o.Rect != nil { // the rest applies to the rectangle
		r := o.Rect.region(sw, sh)
		sw, sh = r.Width, r.Height
	}
	o = c.box(o, sw, sh, signed)
	out := outputFormat(o.Format, h.Format)
	// bg shows only where there is padding (fill) or alpha to flatten (JPEG).
	if o.Background != nil && !o.Fit.Pads() && !(h.Alpha && out == imaging.JPEG) {
		o.Background = nil
	}
	switch {
	case o.Lossless && (out == imaging.JPEG || out == imaging.PNG):
		o.Lossless = false // JPEG cannot be, PNG always is
	case o.Lossless:
		o.Quality = 0 // lossless ignores q
	}
	return c.costCeiling(o, h, sw, sh, signed)
}

// box resolves o's box on a source of sw x sh: fractions and ar become
// pixels, imgix's fits become clip, crop, fill or scale (Upscale where the
// render enlarges), and without a signature nothing passes the source's
// pixels.
func (c Config) box(o Options, sw, sh int, signed bool) Options {
	if o.WidthFrac > 0 || o.HeightFrac > 0 {
		// w or h as a fraction of the original's side.
		if o.WidthFrac > 0 {
			o.Width = max(1, int(math.Round(o.WidthFrac*float64(sw))))
		}
		if o.HeightFrac > 0 {
			o.Height = max(1, int(math.Round(o.HeightFrac*float64(sh))))
		}
		o.Width, o.Height = boundBox(o.Width, o.Height, c.sideLimit(signed))
		o.WidthFrac, o.HeightFrac = 0, 0
	}
	if o.Aspect > 0 {
		// ar without w or h: the largest box of that aspect inside the
		// original (crop), or the smallest around it (fill).
		bw, bh := float64(sw), float64(sw)/o.Aspect
		if (bh > float64(sh)) == o.Fit.Crops() {
			bw, bh = float64(sh)*o.Aspect, float64(sh)
		}
		o.Width, o.Height = boundBox(max(1, int(math.Round(bw))), max(1, int(math.Round(bh))), c.sideLimit(signed))
		o.Aspect = 0
	}
	o = boundCrop(o)
	// With at most one side, every fit is clip (or max, never enlarging):
	// there is no box to cover, pad or stretch to.
	if o.Width == 0 || o.Height == 0 {
		if o.Fit == imaging.FitMin || o.Fit == imaging.FitFillMax {
			o.Fit = imaging.FitMax
		} else if o.Fit != imaging.FitMax {
			o.Fit = imaging.FitClip
		}
		o.Gravity, o.FocalX, o.FocalY = "", 0, 0
	}
	o.Upscale = signed && o.Fit.MayEnlarge() && enlarges(o, sw, sh)
	// Without enlarging, max is clip, min is crop and fillmax is fill.
	switch o.Fit {
	case imaging.FitMax:
		o.Fit = imaging.FitClip
	case imaging.FitMin:
		o.Fit = imaging.FitCrop
	case imaging.FitFillMax:
		o.Fit = imaging.FitFill
	}
	// A clip box the whole original fits in, not enlarging, asks for the
	// original's size, however large the box.
	if o.Fit == imaging.FitClip && !o.Upscale && (o.Width == 0 || o.Width >= sw) && (o.Height == 0 || o.Height >= sh) {
		o.Width, o.Height = 0, 0
	}
	// No box is the original's own size, within the output caps: a plain
	// directory may hold a 9000 px file.
	if limit := c.sideLimit(signed); o.Width == 0 && o.Height == 0 && max(sw, sh) > limit {
		o.Width, o.Height = boundBox(sw, sh, limit)
	}
	if !signed && o.Fit != imaging.FitClip && o.Width > 0 && o.Height > 0 && (o.Width > sw || o.Height > sh) {
		// Never past the original's pixels without a signature: the box
		// shrinks to fit in the original, its aspect ratio kept, as crop does.
		// Not a clip box: fitting inside it never enlarges (a full-screen
		// 780x1688 box shows a 1680x1050 original at 780x488, not 485x303).
		f := math.Min(float64(sw)/float64(o.Width), float64(sh)/float64(o.Height))
		o.Width, o.Height = scaleSide(o.Width, f), scaleSide(o.Height, f)
	}
	return o
}

// costCeiling refuses, before any work, what o would cost past the limits:
// slow encoders, large blurs and animations without a signature, and what
// decodes too many pixels.
func (c Config) costCeiling(o Options, h imaging.Header, sw, sh int, signed bool) (Options, error) {
	out := outputFormat(o.Format, h.Format)
	slow := out == imaging.PNG || o.Lossless
	if !signed && slow && outputPixels(o, sw, sh) > c.Unsigned.MaxSlowPixels {
		side := int(math.Sqrt(float64(c.Unsigned.MaxSlowPixels)))
		switch {
		case o.Lossless:
			return o, badf("lossless above %dx%d pixels needs a signed URL (its encoder is slow)", side, side)
		case o.Format != "" && !o.Negotiated:
			return o, badf("fm=%s above %dx%d pixels needs a signed URL (its encoder is slow); use webp or jpg", out, side, side)
		}
		o.Format = imaging.WebP // the format was ours to choose
	}
	if !signed && o.Blur > 0 && outputPixels(o, sw, sh) > c.Unsigned.MaxBlurPixels {
		side := int(math.Sqrt(float64(c.Unsigned.MaxBlurPixels)))
		return o, badf("blur above %dx%d pixels needs a signed URL (a large blur costs twice a render); ask a smaller size", side, side)
	}
	out = outputFormat(o.Format, h.Format)
	frames := imaging.KeptFrames(h, out)
	if frames > 1 {
		switch {
		case o.Blur > 0:
			return o, badf("blur is for still images and this one is animated; add fm=jpg to blur its first frame")
		case o.Fit.Pads() && pads(o, sw, sh):
			return o, badf("fit=fill pads still images only and this one is animated; use fit=clip or crop")
		case !signed && int64(frames)*int64(max(sw*sh, outputPixels(o, sw, sh))) > c.Unsigned.MaxAnimationPixels:
			// Every frame is decoded whole, whatever the output's size.
			return o, badf("this animation is %d frames of %dx%d: without a signed URL an animation may hold %.2f MP in all its frames; add fm=jpg for its first frame",
				frames, sw, sh, float64(c.Unsigned.MaxAnimationPixels)/1e6)
		}
	}
	tr := imaging.Transform{Width: o.Width, Height: o.Height, Fit: o.Fit, Upscale: o.Upscale}
	if !signed {
		if cost := imaging.DecodedPixels(h, tr, out) * imaging.DecodeWeight(h); cost > c.Unsigned.MaxDecodePixels {
			return o, badf("this original is too large to render at this size without a signed URL (it costs %.0f MP of decoding, over %.0f MP)",
				float64(cost)/1e6, float64(c.Unsigned.MaxDecodePixels)/1e6)
		}
	}
	return o, c.Limits.CheckRender(h, tr, out)
}

// sideLimit is the largest output side a request may have.
func (c Config) sideLimit(signed bool) int {
	if signed {
		return c.MaxOutput
	}
	return c.Unsigned.MaxSide
}

// pads reports whether fitting the original inside o's box leaves room to pad.
func pads(o Options, sw, sh int) bool {
	f := math.Min(float64(o.Width)/float64(sw), float64(o.Height)/float64(sh))
	if !o.Upscale {
		f = math.Min(f, 1)
	}
	return scaleSide(sw, f) < o.Width || scaleSide(sh, f) < o.Height
}

// enlarges reports whether fitting the original into o's box makes it larger
// than it is: crop scales to cover the box, clip and fill to fit inside it.
func enlarges(o Options, sw, sh int) bool {
	fw, fh := float64(o.Width)/float64(sw), float64(o.Height)/float64(sh)
	switch {
	case o.Width == 0 && o.Height == 0:
		return false
	case o.Width == 0:
		return fh > 1
	case o.Height == 0:
		return fw > 1
	case o.Fit.Crops():
		return math.Max(fw, fh) > 1
	}
	return math.Min(fw, fh) > 1
}

// outputPixels is an upper bound of the output's pixels: the box (fill pads
// to it), never more than the original.
func outputPixels(o Options, sw, sh int) int {
	w, h := outputBox(o, sw, sh)
	if o.Fit.Pads() {
		return w * h
	}
	return min(w*h, sw*sh)
}

// outputLongEdge is about the long edge of the output: the box's, never
// more than the original's unless enlarged.
func outputLongEdge(o Options, sw, sh int) int {
	w, h := outputBox(o, sw, sh)
	if !o.Upscale && !o.Fit.Pads() {
		return min(max(w, h), max(sw, sh))
	}
	return max(w, h)
}

// outputBox is the box asked, a missing side following the original's aspect.
func outputBox(o Options, sw, sh int) (w, h int) {
	w, h = o.Width, o.Height
	switch {
	case w == 0 && h == 0:
		w, h = sw, sh
	case w == 0:
		w = max(1, sw*h/sh)
	case h == 0:
		h = max(1, sh*w/sw)
	}
	return w, h
}

// boundCrop scales a cropping fit's box, aspect kept, into min-w..max-w
// and min-h..max-h (a max wins over a min), which then have no more to say.
func boundCrop(o Options) Options {
	if o.Width > 0 && o.Height > 0 {
		f := 1.0
		for _, b := range []struct{ side, least, most int }{{o.Width, o.MinWidth, o.MaxWidth}, {o.Height, o.MinHeight, o.MaxHeight}} {
			if b.least > 0 {
				f = math.Max(f, float64(b.least)/float64(b.side))
			}
		}
		for _, b := range []struct{ side, most int }{{o.Width, o.MaxWidth}, {o.Height, o.MaxHeight}} {
			if b.most > 0 {
				f = math.Min(f, float64(b.most)/float64(b.side))
			}
		}
		o.Width, o.Height = scaleSide(o.Width, f), scaleSide(o.Height, f)
	}
	o.MinWidth, o.MinHeight, o.MaxWidth, o.MaxHeight = 0, 0, 0, 0
	return o
}
