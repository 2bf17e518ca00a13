// Package faces finds faces in a photo with pigo's pixel-intensity
// cascade (github.com/esimov/pigo), whose facefinder cascade ships in this
// package (facefinder, MIT, © 2018 Endre Simo): nothing is fetched at run
// time. It works on grayscale pixels the caller makes; it knows nothing of
// image formats.
package faces

import (
	"cmp"
	_ "embed"
	"slices"
	"sync"

	pigo "github.com/esimov/pigo/core"
)

//go:embed facefinder
var facefinder []byte

var classifier = sync.OnceValues(func() (*pigo.Pigo, error) { return pigo.NewPigo().Unpack(facefinder) })

// Box is one face: the square around it (top-left corner and side) in
// pixels of the image it was found in, and how sure pigo is (its score).
type Box struct {
	X, Y, Size int
	Score      float64
}

// MinScore is the least score kept: below it, textures pass for faces.
const MinScore = 20

// Detect finds the faces in a w x h grayscale image (one byte a pixel, row
// by row), the largest first.
func Detect(gray []byte, w, h int) ([]Box, error) {
	p, err := classifier()
	if err != nil {
		return nil, err
	}
	if w < 24 || h < 24 || len(gray) < w*h {
		return nil, nil
	}
	// Windows grow 20 % a scale: 8 ms at 640 px against 15 at 10 %, the
	// faces of the group test still all found at 512, 640 and 800 px.
	found := p.RunCascade(pigo.CascadeParams{
		MinSize: max(20, min(w, h)/20), MaxSize: min(w, h), ShiftFactor: 0.15, ScaleFactor: 1.2,
		ImageParams: pigo.ImageParams{Pixels: gray, Rows: h, Cols: w, Dim: w},
	}, 0)
	var boxes []Box
	for _, d := range p.ClusterDetections(found, 0.2) {
		if float64(d.Q) >= MinScore {
			boxes = append(boxes, Box{X: d.Col - d.Scale/2, Y: d.Row - d.Scale/2, Size: d.Scale, Score: float64(d.Q)})
		}
	}
	// pigo's clusters can leave one face twice, at neighbouring scales:
	// keep the surest of boxes that mostly overlap.
	slices.SortFunc(boxes, func(a, b Box) int { return cmp.Compare(b.Score, a.Score) })
	var kept []Box
	for _, b := range boxes {
		if !slices.ContainsFunc(kept, func(k Box) bool { return overlap(k, b) > 0.3 }) {
			kept = append(kept, b)
		}
	}
	slices.SortFunc(kept, func(a, b Box) int { return b.Size - a.Size })
	return kept, nil
}

// overlap is the intersection of two boxes over their union.
func overlap(a, b Box) float64 {
	w := min(a.X+a.Size, b.X+b.Size) - max(a.X, b.X)
	h := min(a.Y+a.Size, b.Y+b.Size) - max(a.Y, b.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	inter := float64(w * h)
	return inter / (float64(a.Size*a.Size+b.Size*b.Size) - inter)
}
