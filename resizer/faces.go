package resizer

import (
	"math"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
)

// facesOf are the faces of the original o (under key), in the upright
// original's pixels: those kept with it, else found now, once, and
// cached (a read never writes to the store). The caller holds a render
// slot: finding them decodes o small.
func (h *Handler) facesOf(key string, o *original) ([]facts.Face, error) {
	if f, ok := facts.FromMeta(o.info.Meta); ok && f.FacesKnown {
		return f.Faces, nil
	}
	id := key + "\x00" + o.info.ETag
	if found, ok := h.faces.Get(id); ok {
		return found, nil
	}
	found, err := facts.FacesOf(o.data, o.header)
	if err != nil {
		return nil, err
	}
	if o.of != nil { // a small copy's faces, in the original's pixels
		cw, _ := o.header.Upright()
		ow, _ := o.of.Upright()
		k := float64(ow) / float64(cw)
		for i := range found {
			f := &found[i]
			f.X, f.Y, f.Width, f.Height = int(float64(f.X)*k+0.5), int(float64(f.Y)*k+0.5), int(float64(f.Width)*k+0.5), int(float64(f.Height)*k+0.5)
		}
	}
	h.faces.Add(id, found)
	return found, nil
}

// facesFocus is where a w x h crop of a sw x sh original centres to hold
// as many faces as fit, the largest first: the centre (0..1 each way) of
// the largest set that fits the crop's window.
func facesFocus(found []facts.Face, w, ht, sw, sh int) (fx, fy float64) {
	s := math.Max(float64(w)/float64(sw), float64(ht)/float64(sh)) // cover
	winW, winH := float64(w)/s, float64(ht)/s
	x0, y0 := float64(found[0].X), float64(found[0].Y)
	x1, y1 := x0+float64(found[0].Width), y0+float64(found[0].Height)
	for _, f := range found[1:] {
		nx0, ny0 := math.Min(x0, float64(f.X)), math.Min(y0, float64(f.Y))
		nx1, ny1 := math.Max(x1, float64(f.X+f.Width)), math.Max(y1, float64(f.Y+f.Height))
		if nx1-nx0 <= winW && ny1-ny0 <= winH {
			x0, y0, x1, y1 = nx0, ny0, nx1, ny1
		}
	}
	return (x0 + x1) / 2 / float64(sw), (y0 + y1) / 2 / float64(sh)
}

// faceArea is the region of a sw x sh original that fit=facearea cuts:
// face f, pad times its size, widened to the box's aspect (w:h; square
// without both), inside the original.
func faceArea(f facts.Face, pad float64, w, ht, sw, sh int) imaging.Region {
	aspect := 1.0
	if w > 0 && ht > 0 {
		aspect = float64(w) / float64(ht)
	}
	rw, rh := float64(f.Width)*pad, float64(f.Height)*pad
	if rw/rh < aspect {
		rw = rh * aspect
	} else {
		rh = rw / aspect
	}
	if k := math.Min(float64(sw)/rw, float64(sh)/rh); k < 1 { // larger than the photo
		rw, rh = rw*k, rh*k
	}
	cx, cy := float64(f.X)+float64(f.Width)/2, float64(f.Y)+float64(f.Height)/2
	left := math.Max(0, math.Min(cx-rw/2, float64(sw)-rw))
	top := math.Max(0, math.Min(cy-rh/2, float64(sh)-rh))
	return imaging.Region{Left: int(left + 0.5), Top: int(top + 0.5), Width: max(1, int(rw+0.5)), Height: max(1, int(rh+0.5))}
}
