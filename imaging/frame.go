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
	// Stroke is a line of StrokeColor between the padding and the border.
	Stroke      int
	StrokeColor Color
	// InnerRadius rounds the corners the border meets the image at (the
	// border's colour behind them), OuterRadius the border's own corners.
	InnerRadius, OuterRadius Corners
}

// Inside is the box the image gets inside the frame (0 stays "not asked";
// at least one pixel).
func (f Frame) Inside(w, h int) (int, int) {
	if w > 0 {
		w = max(1, w-f.Pad.across()-f.Border.across()-2*f.Stroke)
	}
	if h > 0 {
		h = max(1, h-f.Pad.down()-f.Border.down()-2*f.Stroke)
	}
	return w, h
}

// apply pads img with pad, rounds the inner corners, strokes it, borders
// it and rounds the outer corners.
func (f Frame) apply(img *vips.ImageRef, pad Color) error {
	s := f.Stroke
	bands := []struct {
		s Sides
		c Color
	}{{f.Pad, pad}, {Sides{s, s, s, s}, f.StrokeColor}, {f.Border, f.BorderColor}}
	for i, band := range bands {
		if i == 1 && f.InnerRadius != (Corners{}) {
			if err := (Mask{Corners: f.InnerRadius, Background: &f.BorderColor}).apply(img); err != nil {
				return err
			}
		}
		if band.s == (Sides{}) {
			continue
		}
		w, h := img.Width()+band.s.across(), img.Height()+band.s.down()
		if err := embed(img, band.s.Left, band.s.Top, w, h, band.c); err != nil {
			return err
		}
	}
	return Mask{Corners: f.OuterRadius}.apply(img)
}
