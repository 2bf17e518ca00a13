package imaging

import "github.com/davidbyttow/govips/v2/vips"

// orientations are EXIF's eight orientations (index 1..8) as the matrices
// that take a stored image's centred coordinates (y down) to the displayed
// image's.
var orientations = [9][2][2]int{
	1: {{1, 0}, {0, 1}},
	2: {{-1, 0}, {0, 1}},  // mirrored left to right
	3: {{-1, 0}, {0, -1}}, // turned 180°
	4: {{1, 0}, {0, -1}},  // mirrored top to bottom
	5: {{0, 1}, {1, 0}},   // transposed
	6: {{0, -1}, {1, 0}},  // turned 90° clockwise
	7: {{0, -1}, {-1, 0}}, // transversed
	8: {{0, 1}, {-1, 0}},  // turned 90° anticlockwise
}

func orientationOf(m [2][2]int) int {
	for o := 1; o <= 8; o++ {
		if orientations[o] == m {
			return o
		}
	}
	return 1
}

func mul(a, b [2][2]int) [2][2]int {
	var c [2][2]int
	for i := range 2 {
		for j := range 2 {
			c[i][j] = a[i][0]*b[0][j] + a[i][1]*b[1][j]
		}
	}
	return c
}

// Reoriented is h as if its EXIF orientation were o (1..8; 0 keeps it):
// imgix's orient, which overrides the file's.
func (h Header) Reoriented(o int) Header {
	if o >= 1 && o <= 8 {
		h.Orientation = o
	}
	return h
}

// correction is the orientation that takes the image libvips turned by the
// file's own orientation to the one asked: asked · file⁻¹ (the inverse of
// an orientation matrix is its transpose).
func correction(file, asked int) int {
	if asked < 1 || asked > 8 || asked == max(file, 1) {
		return 1
	}
	f := orientations[max(1, min(file, 8))]
	inverse := [2][2]int{{f[0][0], f[1][0]}, {f[0][1], f[1][1]}}
	return orientationOf(mul(orientations[asked], inverse))
}

// swaps reports whether orientation o exchanges width and height.
func swaps(o int) bool { return o >= 5 }

// undoPoint maps a point (0..1 each way) of the image turned by o back to
// the image before it.
func undoPoint(o int, x, y float64) (float64, float64) {
	switch o {
	case 2:
		return 1 - x, y
	case 3:
		return 1 - x, 1 - y
	case 4:
		return x, 1 - y
	case 5:
		return y, x
	case 6:
		return y, 1 - x
	case 7:
		return 1 - y, 1 - x
	case 8:
		return 1 - y, x
	}
	return x, y
}

// orient turns img by orientation o.
func orient(img *vips.ImageRef, o int) error {
	var turn vips.Angle
	var flip *vips.Direction
	h, v := vips.DirectionHorizontal, vips.DirectionVertical
	switch o {
	case 2:
		flip = &h
	case 3:
		turn = vips.Angle180
	case 4:
		flip = &v
	case 5:
		turn, flip = vips.Angle90, &h
	case 6:
		turn = vips.Angle90
	case 7:
		turn, flip = vips.Angle90, &v
	case 8:
		turn = vips.Angle270
	}
	if turn != vips.Angle0 {
		if err := img.Rotate(turn); err != nil {
			return err
		}
	}
	if flip != nil {
		return img.Flip(*flip)
	}
	return nil
}
