package imaging

import (
	"image"
	"math"

	"github.com/davidbyttow/govips/v2/vips"
)

// Corners are radii in pixels of a box's corners: top left, top right,
// bottom right, bottom left.
type Corners [4]int

// Mask cuts the image to an ellipse inside it, or rounds its corners
// (imgix's mask=ellipse, mask=corners and corner-radius). What is cut away
// is transparent, or Background (mask-bg) where that is set.
type Mask struct {
	Ellipse    bool
	Corners    Corners
	Background *Color
}

// apply masks img, edges anti-aliased.
func (m Mask) apply(img *vips.ImageRef) error {
	switch {
	case m.Ellipse:
		alpha, err := ellipse(img.Width(), img.Height())
		if err != nil {
			return err
		}
		defer alpha.Close()
		return cutTo(img, alpha, m.Background)
	case m.Corners != Corners{}:
		alpha, err := rounded(img.Width(), img.Height(), m.Corners)
		if err != nil {
			return err
		}
		defer alpha.Close()
		return cutTo(img, alpha, m.Background)
	}
	return nil
}

// cutTo multiplies img's alpha by mask (one band, 0..255), then lays it on
// bg if one is given.
func cutTo(img, mask *vips.ImageRef, bg *Color) error {
	if err := branch(img); err != nil {
		return err
	}
	if !img.HasAlpha() {
		if err := img.AddAlpha(); err != nil {
			return err
		}
	}
	alpha, err := img.ExtractBandToImage(img.Bands()-1, 1)
	if err != nil {
		return err
	}
	defer alpha.Close()
	if err := alpha.Multiply(mask); err != nil {
		return err
	}
	if err := alpha.Linear1(1.0/255, 0); err != nil {
		return err
	}
	if err := alpha.Cast(vips.BandFormatUchar); err != nil {
		return err
	}
	if err := img.ExtractBand(0, img.Bands()-1); err != nil {
		return err
	}
	if err := img.BandJoin(alpha); err != nil {
		return err
	}
	if bg == nil {
		return nil
	}
	back, err := solid(img.Width(), img.Height(), *bg)
	if err != nil {
		return err
	}
	defer back.Close()
	if err := img.Composite(back, vips.BlendModeDestOver, 0, 0); err != nil {
		return err
	}
	return img.Cast(vips.BandFormatUchar)
}

// solid is a w x h image of colour c, with alpha.
func solid(w, h int, c Color) (*vips.ImageRef, error) {
	img, err := vips.Black(w, h)
	if err != nil {
		return nil, err
	}
	if err := img.BandJoinConst([]float64{0, 0, 0}); err != nil {
		img.Close()
		return nil, err
	}
	if err := img.Linear([]float64{1, 1, 1, 1}, []float64{float64(c.R), float64(c.G), float64(c.B), float64(c.A)}); err != nil {
		img.Close()
		return nil, err
	}
	if err := img.Cast(vips.BandFormatUchar); err != nil {
		img.Close()
		return nil, err
	}
	out, err := img.CopyChangingInterpretation(vips.InterpretationSRGB)
	img.Close()
	return out, err
}

// ellipse is the alpha of the ellipse inside w x h: 255 inside, 0
// outside, a pixel's ramp at the edge (from 1 - (x/rx)² - (y/ry)²).
func ellipse(w, h int) (*vips.ImageRef, error) {
	xyz, err := vips.XYZ(w, h)
	if err != nil {
		return nil, err
	}
	defer xyz.Close()
	rx, ry := float64(w)/2, float64(h)/2
	// ((x + 0.5 - rx) / rx)² + ((y + 0.5 - ry) / ry)², then 1 minus it,
	// scaled so that the ramp is about a pixel wide.
	if err := xyz.Linear([]float64{1 / rx, 1 / ry}, []float64{(0.5 - rx) / rx, (0.5 - ry) / ry}); err != nil {
		return nil, err
	}
	sq, err := xyz.Copy()
	if err != nil {
		return nil, err
	}
	defer sq.Close()
	if err := sq.Multiply(xyz); err != nil {
		return nil, err
	}
	y2, err := sq.ExtractBandToImage(1, 1)
	if err != nil {
		return nil, err
	}
	defer y2.Close()
	if err := sq.ExtractBand(0, 1); err != nil {
		return nil, err
	}
	if err := sq.Add(y2); err != nil {
		return nil, err
	}
	k := 255 * math.Min(rx, ry) / 2
	if err := sq.Linear1(-k, k+127.5); err != nil {
		return nil, err
	}
	if err := sq.Cast(vips.BandFormatUchar); err != nil { // clips to 0..255
		return nil, err
	}
	return sq.Copy()
}

// rounded is the alpha of a w x h box with rounded corners: opaque, with
// each corner's quarter circle drawn (anti-aliased) and inserted.
func rounded(w, h int, c Corners) (*vips.ImageRef, error) {
	alpha, err := vips.Black(w, h)
	if err != nil {
		return nil, err
	}
	if err := alpha.Linear1(0, 255); err != nil {
		alpha.Close()
		return nil, err
	}
	if err := alpha.Cast(vips.BandFormatUchar); err != nil {
		alpha.Close()
		return nil, err
	}
	for i, r := range c {
		r = min(r, w/2, h/2)
		if r <= 0 {
			continue
		}
		corner, err := quarter(r, i)
		if err != nil {
			alpha.Close()
			return nil, err
		}
		x, y := 0, 0
		if i == 1 || i == 2 {
			x = w - r
		}
		if i >= 2 {
			y = h - r
		}
		err = alpha.Insert(corner, x, y, false, nil)
		corner.Close()
		if err != nil {
			alpha.Close()
			return nil, err
		}
	}
	return alpha, nil
}

// quarter is the r x r alpha of corner i (0 top left, clockwise) of a
// rounded box.
func quarter(r, i int) (*vips.ImageRef, error) {
	img := image.NewGray(image.Rect(0, 0, r, r))
	for y := range r {
		for x := range r {
			// Distance from the circle's centre, which is at the square's
			// inner corner.
			dx, dy := float64(r)-(float64(x)+0.5), float64(r)-(float64(y)+0.5)
			if i == 1 || i == 2 {
				dx = float64(x) + 0.5
			}
			if i >= 2 {
				dy = float64(y) + 0.5
			}
			cover := math.Max(0, math.Min(1, float64(r)-math.Hypot(dx, dy)+0.5))
			img.Pix[y*img.Stride+x] = uint8(math.Round(255 * cover))
		}
	}
	rgba, err := vips.NewImageFromGoImage(img)
	if err != nil {
		return nil, err
	}
	if err := rgba.ExtractBand(0, 1); err != nil {
		rgba.Close()
		return nil, err
	}
	return rgba, nil
}
