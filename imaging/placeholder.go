package imaging

import (
	"encoding/base64"
	"fmt"
	"math"

	"github.com/davidbyttow/govips/v2/vips"
)

// Placeholder is what a client shows before the thumbnail arrives.
type Placeholder struct {
	Color     string `json:"color"`     // average colour, #rrggbb
	ThumbHash string `json:"thumbhash"` // base64 ThumbHash (evanw/thumbhash)
}

// MakePlaceholder decodes src at most 100 px on its long edge, with
// shrink-on-load and EXIF orientation, and derives the average colour and a ThumbHash from
// those few pixels. ThumbHash rather than BlurHash: it keeps the aspect ratio
// and alpha, and needs no size parameters from the client.
func MakePlaceholder(src []byte) (Placeholder, error) {
	img, err := vips.NewThumbnailWithSizeFromBuffer(src, placeholderEdge, placeholderEdge, vips.InterestingNone, vips.SizeDown)
	if err != nil {
		return Placeholder{}, fmt.Errorf("%w: placeholder: %v", ErrCorrupt, oneLine(err))
	}
	defer img.Close()
	return placeholderOf(img)
}

// placeholderEdge is the long edge of the pixels a placeholder is made of.
const placeholderEdge = 100

// placeholderOfPixels makes the placeholder of decoded pixels (an image in
// memory), leaving them as they are.
func placeholderOfPixels(pixels *vips.ImageRef) (Placeholder, error) {
	img, err := pixels.Copy()
	if err != nil {
		return Placeholder{}, err
	}
	defer img.Close()
	if err := reduceTo(img, placeholderEdge); err != nil {
		return Placeholder{}, err
	}
	return placeholderOf(img)
}

// placeholderOf makes the placeholder of img, at most placeholderEdge px.
func placeholderOf(img *vips.ImageRef) (Placeholder, error) {
	if err := toSRGB(img); err != nil {
		return Placeholder{}, err
	}
	if !img.HasAlpha() {
		if err := img.AddAlpha(); err != nil {
			return Placeholder{}, err
		}
	}
	if img.Bands() != 4 {
		if err := img.ToColorSpace(vips.InterpretationSRGB); err != nil {
			return Placeholder{}, err
		}
	}
	rgba, err := img.ToBytes()
	if err != nil {
		return Placeholder{}, err
	}
	w, h := img.Width(), img.Height()
	if len(rgba) != w*h*4 {
		return Placeholder{}, fmt.Errorf("placeholder: %d bytes for %dx%d RGBA", len(rgba), w, h)
	}
	var r, g, b, n float64
	for i := 0; i < len(rgba); i += 4 {
		a := float64(rgba[i+3]) / 255
		r, g, b, n = r+a*float64(rgba[i]), g+a*float64(rgba[i+1]), b+a*float64(rgba[i+2]), n+a
	}
	if n > 0 {
		r, g, b = r/n, g/n, b/n
	}
	return Placeholder{
		Color:     fmt.Sprintf("#%02x%02x%02x", uint8(math.Round(r)), uint8(math.Round(g)), uint8(math.Round(b))),
		ThumbHash: base64.StdEncoding.EncodeToString(ThumbHash(w, h, rgba)),
	}, nil
}

// ThumbHash encodes w x h RGBA pixels (both at most 100) as a ThumbHash: a
// port of the reference encoder (github.com/evanw/thumbhash, MIT).
func ThumbHash(w, h int, rgba []byte) []byte {
	var avgR, avgG, avgB, avgA float64
	for i, j := 0, 0; i < w*h; i, j = i+1, j+4 {
		alpha := float64(rgba[j+3]) / 255
		avgR += alpha / 255 * float64(rgba[j])
		avgG += alpha / 255 * float64(rgba[j+1])
		avgB += alpha / 255 * float64(rgba[j+2])
		avgA += alpha
	}
	if avgA > 0 {
		avgR, avgG, avgB = avgR/avgA, avgG/avgA, avgB/avgA
	}
	hasAlpha := avgA < float64(w*h)
	lLimit := 7.0
	if hasAlpha {
		lLimit = 5 // fewer luminance bits when alpha needs room
	}
	maxWH := float64(max(w, h))
	lx := max(1, int(math.Round(lLimit*float64(w)/maxWH)))
	ly := max(1, int(math.Round(lLimit*float64(h)/maxWH)))
	l, p, q, a := make([]float64, w*h), make([]float64, w*h), make([]float64, w*h), make([]float64, w*h)
	for i, j := 0, 0; i < w*h; i, j = i+1, j+4 {
		alpha := float64(rgba[j+3]) / 255
		r := avgR*(1-alpha) + alpha/255*float64(rgba[j])
		g := avgG*(1-alpha) + alpha/255*float64(rgba[j+1])
		b := avgB*(1-alpha) + alpha/255*float64(rgba[j+2])
		l[i], p[i], q[i], a[i] = (r+g+b)/3, (r+g)/2-b, r-g, alpha
	}
	encode := func(ch []float64, nx, ny int) (dc float64, ac []float64, scale float64) {
		fx := make([]float64, w)
		for cy := 0; cy < ny; cy++ {
			for cx := 0; cx*ny < nx*(ny-cy); cx++ {
				for x := range w {
					fx[x] = math.Cos(math.Pi / float64(w) * float64(cx) * (float64(x) + 0.5))
				}
				f := 0.0
				for y := range h {
					fy := math.Cos(math.Pi / float64(h) * float64(cy) * (float64(y) + 0.5))
					for x := range w {
						f += ch[x+y*w] * fx[x] * fy
					}
				}
				f /= float64(w * h)
				if cx > 0 || cy > 0 {
					ac = append(ac, f)
					scale = math.Max(scale, math.Abs(f))
				} else {
					dc = f
				}
			}
		}
		if scale > 0 {
			for i := range ac {
				ac[i] = 0.5 + 0.5/scale*ac[i]
			}
		}
		return dc, ac, scale
	}
	lDC, lAC, lScale := encode(l, max(3, lx), max(3, ly))
	pDC, pAC, pScale := encode(p, 3, 3)
	qDC, qAC, qScale := encode(q, 3, 3)
	var aDC, aScale float64
	var aAC []float64
	if hasAlpha {
		aDC, aAC, aScale = encode(a, 5, 5)
	}
	round := func(f float64) int { return int(math.Round(f)) }
	isLandscape := w > h
	header24 := round(63*lDC) | round(31.5+31.5*pDC)<<6 | round(31.5+31.5*qDC)<<12 | round(31*lScale)<<18 | b2i(hasAlpha)<<23
	side := lx
	if isLandscape {
		side = ly
	}
	header16 := side | round(63*pScale)<<3 | round(63*qScale)<<9 | b2i(isLandscape)<<15
	hash := []byte{byte(header24), byte(header24 >> 8), byte(header24 >> 16), byte(header16), byte(header16 >> 8)}
	if hasAlpha {
		hash = append(hash, byte(round(15*aDC)|round(15*aScale)<<4))
	}
	acs := [][]float64{lAC, pAC, qAC}
	if hasAlpha {
		acs = append(acs, aAC)
	}
	start, idx := len(hash), 0
	for _, ac := range acs {
		for _, f := range ac {
			if start+idx>>1 >= len(hash) {
				hash = append(hash, 0)
			}
			hash[start+idx>>1] |= byte(round(15*f) << ((idx & 1) << 2))
			idx++
		}
	}
	return hash
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
