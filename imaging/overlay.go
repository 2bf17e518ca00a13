package imaging

import (
	"cmp"
	"context"
	"math"

	"github.com/davidbyttow/govips/v2/vips"
)

// Length is pixels, or with Fraction a fraction of a side.
type Length struct {
	V        float64
	Fraction bool
}

// Of is l in pixels of a side of length side (0 stays 0).
func (l Length) Of(side int) int {
	if l.Fraction {
		return int(math.Round(l.V * float64(side)))
	}
	return int(l.V)
}

// Overlay is an image, or a colour, laid on the output: imgix's
// watermark (mark) and blend.
type Overlay struct {
	// Src is the image (its header probed), unless Color is set.
	Src    []byte
	Header Header
	Color  *Color
	// Width and Height are its box, of the output's sides; zero: Scale of
	// the output's width, else its own size. Fit puts it in the box (clip,
	// crop, fill, max, scale); Gravity places a crop.
	Width, Height Length
	Scale         float64
	Fit           Fit
	Gravity       Gravity
	FocalX        float64
	FocalY        float64
	// AlignX and AlignY place it (0 left or top, 0.5 centre, 1 right or
	// bottom) Pad pixels in from the edges, unless X and Y (from the top
	// left) are set; Tile repeats it over the whole output.
	AlignX, AlignY float64
	Pad            int
	X, Y           *int
	Tile           bool
	// Alpha (0..1) is its opacity; Rotate turns it clockwise (degrees).
	Alpha  float64
	Rotate float64
	// Mode is how it mixes with what is under it (over: laid on top).
	Mode vips.BlendMode
	// MinWidth and MinHeight: only on outputs at least that large.
	MinWidth, MinHeight int
}

// apply lays o on img.
func (o Overlay) apply(img *vips.ImageRef) error {
	w, h := img.Width(), img.Height()
	if w < o.MinWidth || h < o.MinHeight {
		return nil
	}
	layer, err := o.layer(w, h)
	if err != nil {
		return err
	}
	defer layer.Close()
	if o.Alpha < 1 {
		if err := layer.Linear([]float64{1, 1, 1, o.Alpha}, []float64{0, 0, 0, 0}); err != nil {
			return err
		}
	}
	x, y := 0, 0
	switch {
	case o.Tile:
		lw, lh := layer.Width(), layer.Height()
		if err := layer.Replicate(w/lw+1, h/lh+1); err != nil {
			return err
		}
		if err := layer.ExtractArea(0, 0, w, h); err != nil {
			return err
		}
	default:
		x = o.Pad + int(math.Round(o.AlignX*float64(w-layer.Width()-2*o.Pad)))
		y = o.Pad + int(math.Round(o.AlignY*float64(h-layer.Height()-2*o.Pad)))
		if o.X != nil {
			x = *o.X
		}
		if o.Y != nil {
			y = *o.Y
		}
	}
	if !img.HasAlpha() {
		// Composite gives the base an alpha band: take it away after.
		defer func() {
			if img.HasAlpha() {
				_ = img.ExtractBand(0, img.Bands()-1)
			}
		}()
	}
	if err := img.Composite(layer, o.Mode, x, y); err != nil {
		return err
	}
	return img.Cast(vips.BandFormatUchar)
}

// layer makes the overlay's own pixels, sized for a w x h output, in
// sRGB with alpha.
func (o Overlay) layer(w, h int) (*vips.ImageRef, error) {
	bw, bh := o.Width.Of(w), o.Height.Of(h)
	if bw == 0 && bh == 0 && o.Scale > 0 {
		bw = max(1, int(math.Round(o.Scale*float64(w))))
	}
	if o.Color != nil { // a colour covers what its box does not say
		return solid(cmp.Or(bw, w), cmp.Or(bh, h), *o.Color)
	}
	fit := o.Fit
	if fit == "" {
		fit = FitClip
	}
	t := Transform{Width: min(bw, 4*w), Height: min(bh, 4*h), Fit: fit, Gravity: o.Gravity, FocalX: o.FocalX, FocalY: o.FocalY, Upscale: true}
	if t.Gravity == "" && fit.Crops() {
		t.Gravity = GravityCenter
	}
	if t.Width == 0 && t.Height == 0 {
		// Its own size, no larger than the output.
		t.Width, t.Height, t.Fit, t.Upscale = w, h, FitClip, false
	}
	layer, err := thumbnail(context.Background(), o.Src, o.Header, t, false)
	if err != nil {
		return nil, err
	}
	if err := toSRGB(layer); err != nil {
		layer.Close()
		return nil, err
	}
	if fit.Pads() && t.Width > 0 && t.Height > 0 && (layer.Width() < t.Width || layer.Height() < t.Height) {
		if err := embed(layer, (t.Width-layer.Width())/2, (t.Height-layer.Height())/2, t.Width, t.Height, Color{}); err != nil {
			layer.Close()
			return nil, err
		}
	}
	if layer.Bands() < 3 {
		if err := layer.ToColorSpace(vips.InterpretationSRGB); err != nil {
			layer.Close()
			return nil, err
		}
	}
	if !layer.HasAlpha() {
		if err := layer.AddAlpha(); err != nil {
			layer.Close()
			return nil, err
		}
	}
	if o.Rotate != 0 {
		if err := (Effects{Rotate: o.Rotate, Pivot: true}).rotate(layer, &Color{}); err != nil {
			layer.Close()
			return nil, err
		}
	}
	return layer, nil
}
