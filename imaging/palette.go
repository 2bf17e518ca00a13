package imaging

import (
	"context"
	"fmt"
	"slices"

	"github.com/davidbyttow/govips/v2/vips"
)

// Swatch is one colour of a palette and the share of the image it covers.
type Swatch struct {
	Color Color
	Share float64
}

// Palette finds up to n colours of src (median cut on a 64 px copy), the
// most common first, and its mean luminance (0..1).
func Palette(src []byte, h Header, n int) ([]Swatch, float64, error) {
	img, err := thumbnail(context.Background(), src, h, Transform{Width: 64, Height: 64, Fit: FitClip}, false)
	if err != nil {
		return nil, 0, err
	}
	defer img.Close()
	if err := toSRGB(img); err != nil {
		return nil, 0, err
	}
	if img.HasAlpha() {
		if err := img.Flatten(&vips.Color{R: 255, G: 255, B: 255}); err != nil {
			return nil, 0, err
		}
	}
	if img.Bands() < 3 {
		if err := img.ToColorSpace(vips.InterpretationSRGB); err != nil {
			return nil, 0, err
		}
	}
	raw, err := img.ToBytes()
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrCorrupt, oneLine(err))
	}
	bands := img.Bands()
	pixels := make([][3]uint8, 0, len(raw)/bands)
	lum := 0.0
	for i := 0; i+2 < len(raw); i += bands {
		p := [3]uint8{raw[i], raw[i+1], raw[i+2]}
		pixels = append(pixels, p)
		lum += (0.2126*float64(p[0]) + 0.7152*float64(p[1]) + 0.0722*float64(p[2])) / 255
	}
	if len(pixels) == 0 {
		return nil, 0, nil
	}
	return medianCut(pixels, n), lum / float64(len(pixels)), nil
}

// minSplit is the least channel range a box is split at: closer colours
// are one swatch.
const minSplit = 24

// medianCut splits the pixels into up to n boxes, each time the box with
// the widest channel range at that channel's median, and returns each
// box's mean colour, the largest box first.
func medianCut(pixels [][3]uint8, n int) []Swatch {
	if n < 1 {
		return nil
	}
	boxes := [][][3]uint8{pixels}
	for len(boxes) < n {
		best, channel, widest := -1, 0, 0
		for i, b := range boxes {
			for c := range 3 {
				lo, hi := 255, 0
				for _, p := range b {
					lo, hi = min(lo, int(p[c])), max(hi, int(p[c]))
				}
				if hi-lo > widest && hi-lo >= minSplit && len(b) > 1 {
					best, channel, widest = i, c, hi-lo
				}
			}
		}
		if best < 0 {
			break // every box is one colour
		}
		b := boxes[best]
		slices.SortFunc(b, func(x, y [3]uint8) int { return int(x[channel]) - int(y[channel]) })
		boxes = append(boxes[:best], append([][][3]uint8{b[:len(b)/2], b[len(b)/2:]}, boxes[best+1:]...)...)
	}
	// Median cut halves boxes by count, so one colour can end in several:
	// boxes whose means are closer than minSplit are one swatch.
	type sum struct{ r, g, b, n int }
	var sums []sum
	for _, b := range boxes {
		var s sum
		for _, p := range b {
			s.r, s.g, s.b = s.r+int(p[0]), s.g+int(p[1]), s.b+int(p[2])
		}
		s.n = len(b)
		merged := false
		for i, o := range sums {
			if max(abs(o.r/o.n-s.r/s.n), abs(o.g/o.n-s.g/s.n), abs(o.b/o.n-s.b/s.n)) < minSplit {
				sums[i] = sum{o.r + s.r, o.g + s.g, o.b + s.b, o.n + s.n}
				merged = true
				break
			}
		}
		if !merged {
			sums = append(sums, s)
		}
	}
	slices.SortStableFunc(sums, func(x, y sum) int { return y.n - x.n })
	out := make([]Swatch, 0, len(sums))
	for _, s := range sums {
		k := s.n
		out = append(out, Swatch{Color: Color{R: uint8((s.r + k/2) / k), G: uint8((s.g + k/2) / k), B: uint8((s.b + k/2) / k), A: 255},
			Share: float64(k) / float64(len(pixels))})
	}
	return out
}

func abs(n int) int { return max(n, -n) }
