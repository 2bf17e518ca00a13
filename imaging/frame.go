package imaging

import "github.com/davidbyttow/govips/v2/vips"

// Sides are widths in pixels of a box's four sides.
type Sides struct{ Top, Right, Bottom, Left int }

func (s Sides) across() int { return s.Left + s.Right }
func (s Sides) down() int   { return s.Top + s.Bottom }

// Frame is imgix's pad and border around the image: padding (the pad
// colour, as fill's) inside a border of BorderColor. Inside a box, the
// image is resized to what the frame leaves; without one, the frame adds
// to the image's size.
type Frame struct {
	Pad, Border Sides
	BorderColor Color
}

// Inside is the box the image gets inside the frame (0 stays "not asked";
// at least one pixel).
func (f Frame) Inside(w, h int) (int, int) {
	if w > 0 {
		w = max(1, w-f.Pad.across()-f.Border.across())
	}
	if h > 0 {
		h = max(1, h-f.Pad.down()-f.Border.down())
	}
	return w, h
}

// apply pads img with pad, then borders it.
func (f Frame) apply(img *vips.ImageRef, pad Color) error {
	for _, band := range []struct {
		s Sides
		c Color
	}{{f.Pad, pad}, {f.Border, f.BorderColor}} {
		if band.s == (Sides{}) {
			continue
		}
		w, h := img.Width()+band.s.across(), img.Height()+band.s.down()
		if err := embed(img, band.s.Left, band.s.Top, w, h, band.c); err != nil {
			return err
		}
	}
	return nil
}
