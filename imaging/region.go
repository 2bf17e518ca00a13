package imaging

import (
	"context"
	"fmt"
	"math"

	"github.com/davidbyttow/govips/v2/vips"
)

// Region is a rectangle of the source, in pixels of the image as shown
// (after its orientation): imgix's rect.
type Region struct{ Left, Top, Width, Height int }

// Trim cuts away the source's border: imgix's trim. The border is what
// differs from Color (nil: the top-left pixel's) by at most Threshold, or
// with Alpha what is more transparent than Threshold (0..255). Pad pixels
// are kept around what is left (negative: cut that much more).
type Trim struct {
	Alpha     bool
	Color     *Color
	Threshold float64
	Pad       int
}

// trimProbeEdge is the long edge of the copy a trim is found on: the
// border is found at this size and scaled back, a pixel or two wide.
const trimProbeEdge = 512

// regionThumbnail is t's Region of src, resized into t's box, when the fit
// is one that keeps the whole region (not a crop) and no trim is asked:
// the source decoded once at the scale the region takes in the box, and
// the region cut from it. ok is false where it does not apply.
func regionThumbnail(src []byte, h Header, t Transform) (img *vips.ImageRef, ok bool, err error) {
	if t.Region == nil || t.Trim != nil || t.Fit.Crops() || t.Blur > 0 {
		return nil, false, nil
	}
	sw, sh := h.Reoriented(t.Orient).Upright()
	r := *t.Region
	bw, bh := t.Frame.Inside(t.Width, t.Height)
	fx, fy := 1.0, 1.0
	switch {
	case t.Fit == FitScale && bw > 0 && bh > 0:
		fx, fy = float64(bw)/float64(r.Width), float64(bh)/float64(r.Height)
	case bw > 0 || bh > 0:
		f := math.Inf(1)
		if bw > 0 {
			f = float64(bw) / float64(r.Width)
		}
		if bh > 0 {
			f = math.Min(f, float64(bh)/float64(r.Height))
		}
		if !t.Upscale || !t.Fit.MayEnlarge() {
			f = math.Min(f, 1)
		}
		fx, fy = f, f
	}
	if fx > 1 || fy > 1 {
		return nil, false, nil // enlarging: the general path
	}
	whole := Transform{Width: max(1, int(math.Round(float64(sw)*fx))), Height: max(1, int(math.Round(float64(sh)*fy))), Fit: FitScale, Orient: t.Orient}
	if img, err = thumbnail(context.Background(), src, h, whole, false); err != nil {
		return nil, true, err
	}
	sx, sy := float64(img.Width())/float64(sw), float64(img.Height())/float64(sh)
	left, top := int(math.Round(float64(r.Left)*sx)), int(math.Round(float64(r.Top)*sy))
	w := clamp(int(math.Round(float64(r.Width)*sx)), 1, img.Width()-left)
	ht := clamp(int(math.Round(float64(r.Height)*sy)), 1, img.Height()-top)
	if err := img.ExtractArea(left, top, w, ht); err != nil {
		img.Close()
		return nil, true, err
	}
	return img, true, nil
}

// cropped is src cut to t's Region, or trimmed by t's Trim, as a new
// source for the rest of the pipeline: an uncompressed TIFF of the region
// at a scale no smaller than the box needs, upright (t.Orient applied),
// and t without the region, trim or orientation.
func cropped(src []byte, h Header, t Transform) ([]byte, Header, Transform, error) {
	sw, sh := h.Reoriented(t.Orient).Upright()
	region := Region{Width: sw, Height: sh}
	if t.Region != nil {
		region = *t.Region
	}
	var probe *vips.ImageRef // the copy a trim was found on
	if t.Trim != nil {
		var err error
		if region, probe, err = findTrim(src, h, t); err != nil {
			return nil, h, t, err
		}
		defer probe.Close()
	}
	// Twice the scale at which the region covers the box (at most 1): the
	// resize that follows blends the cut edges' pixels, at this scale no
	// more than a pixel wide, into a fraction of an output pixel.
	s := 1.0
	bw, bh := t.Frame.Inside(t.Width, t.Height)
	if fw, fh := float64(bw)/float64(region.Width), float64(bh)/float64(region.Height); bw > 0 || bh > 0 {
		s = math.Min(1, 2*math.Max(fw, fh))
	}
	var img *vips.ImageRef
	if probe != nil && float64(probe.Width()) >= float64(sw)*s/2 {
		// The trim's copy covers the box: no second decode (its cut
		// edges are the border's, so the blend there shows nothing).
		var err error
		if img, err = probe.Copy(); err != nil {
			return nil, h, t, err
		}
	} else {
		whole := Transform{Width: max(1, int(math.Ceil(float64(sw)*s))), Height: max(1, int(math.Ceil(float64(sh)*s))), Fit: FitScale, Orient: t.Orient}
		var err error
		if img, err = thumbnail(context.Background(), src, h, whole, false); err != nil {
			return nil, h, t, err
		}
	}
	defer img.Close()
	fx, fy := float64(img.Width())/float64(sw), float64(img.Height())/float64(sh)
	left, top := int(math.Floor(float64(region.Left)*fx)), int(math.Floor(float64(region.Top)*fy))
	w := clamp(int(math.Ceil(float64(region.Width)*fx)), 1, img.Width()-left)
	ht := clamp(int(math.Ceil(float64(region.Height)*fy)), 1, img.Height()-top)
	if err := img.ExtractArea(left, top, w, ht); err != nil {
		return nil, h, t, err
	}
	b, _, err := img.ExportTiff(&vips.TiffExportParams{Compression: vips.TiffCompressionNone})
	if err != nil {
		return nil, h, t, fmt.Errorf("%w: %v", ErrCorrupt, oneLine(err))
	}
	nh, err := Probe(b)
	t.Region, t.Trim, t.Orient = nil, nil, 0
	return b, nh, t, err
}

// findTrim finds the region inside the border on a small copy of src,
// which it returns too (the caller closes it).
func findTrim(src []byte, h Header, t Transform) (Region, *vips.ImageRef, error) {
	sw, sh := h.Reoriented(t.Orient).Upright()
	probe, err := thumbnail(context.Background(), src, h, Transform{Width: trimProbeEdge, Height: trimProbeEdge, Fit: FitClip, Orient: t.Orient}, false)
	if err != nil {
		return Region{}, nil, err
	}
	if err := toSRGB(probe); err != nil {
		probe.Close()
		return Region{}, nil, err
	}
	if err := branch(probe); err != nil { // read more than once, out of order
		probe.Close()
		return Region{}, nil, err
	}
	small, err := probe.Copy()
	if err != nil {
		probe.Close()
		return Region{}, nil, err
	}
	defer small.Close()
	r, err := findTrimOn(small, t.Trim, sw, sh)
	if err != nil {
		probe.Close()
		return Region{}, nil, err
	}
	return r, probe, nil
}

// findTrimOn finds the region inside small's border, in pixels of the
// sw x sh image small is a copy of.
func findTrimOn(small *vips.ImageRef, tr *Trim, sw, sh int) (Region, error) {
	bg := &vips.Color{}
	switch {
	case tr.Alpha && small.HasAlpha():
		// The alpha band against transparent black, as three bands.
		if err := small.ExtractBand(small.Bands()-1, 1); err != nil {
			return Region{}, err
		}
		alpha, err := small.Copy()
		if err != nil {
			return Region{}, err
		}
		defer alpha.Close()
		if err := small.BandJoin(alpha, alpha); err != nil {
			return Region{}, err
		}
	case tr.Alpha: // nothing is transparent: nothing to trim
		return Region{Width: sw, Height: sh}, nil
	case tr.Color != nil:
		bg = &vips.Color{R: tr.Color.R, G: tr.Color.G, B: tr.Color.B}
	default:
		p, err := small.GetPoint(0, 0)
		if err != nil {
			return Region{}, err
		}
		bg = &vips.Color{R: uint8(p[0]), G: uint8(p[min(1, len(p)-1)]), B: uint8(p[min(2, len(p)-1)])}
	}
	left, top, w, ht, err := small.FindTrim(tr.Threshold, bg)
	if err != nil {
		return Region{}, err
	}
	if w <= 0 || ht <= 0 { // all border: keep the whole
		return Region{Width: sw, Height: sh}, nil
	}
	// Back to the source's pixels, a probe pixel wider on each side, then
	// padded.
	f := float64(sw) / float64(small.Width())
	margin := 0.0
	if f > 1 {
		margin = 1 // a probe pixel straddles the edge
	}
	x0 := int(math.Floor((float64(left)-margin)*f)) - tr.Pad
	y0 := int(math.Floor((float64(top)-margin)*f)) - tr.Pad
	x1 := int(math.Ceil((float64(left+w)+margin)*f)) + tr.Pad
	y1 := int(math.Ceil((float64(top+ht)+margin)*f)) + tr.Pad
	x0, y0 = clamp(x0, 0, sw-1), clamp(y0, 0, sh-1)
	x1, y1 = clamp(x1, x0+1, sw), clamp(y1, y0+1, sh)
	return Region{Left: x0, Top: y0, Width: x1 - x0, Height: y1 - y0}, nil
}
