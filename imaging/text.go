package imaging

// #cgo pkg-config: vips
// #include <stdlib.h>
// #include <vips/vips.h>
//
// // text_mask renders Pango markup as a one-band mask (vips_text is
// // variadic, which cgo cannot call).
// static int text_mask(const char *markup, const char *font, int width, int spacing, int align, VipsImage **out) {
//   return vips_text(out, markup, "font", font, "width", width, "spacing", spacing,
//     "align", align, "dpi", 72, NULL);
// }
import "C"

import (
	"errors"
	"fmt"
	"html"
	"image"
	"math"
	"unicode/utf8"
	"unsafe"

	"github.com/davidbyttow/govips/v2/vips"
)

// Text is imgix's txt: words drawn on the output.
type Text struct {
	Text string
	// Font is a fontconfig family and style ("DejaVu Sans Bold"); Size
	// is in pixels.
	Font  string
	Size  int
	Color Color
	// AlignX and AlignY place the block (0 left or top, 0.5 centre, 1
	// right or bottom), Pad pixels in from the edges, unless X and Y are
	// set; Width wraps it (0: one line per line of Text).
	AlignX, AlignY float64
	Pad            int
	X, Y           *int
	Width          int
	// Lead is extra space between lines and Track between letters, in
	// pixels.
	Lead, Track int
	// Clip says what of a line too long for the output is cut: "start",
	// "middle" or "end", with "…" if Ellipsis.
	Clip     string
	Ellipsis bool
	// Fit shrinks the size (down from Size) until the text fits.
	Fit bool
	// Line outlines the letters, Line pixels wide, in LineColor; Shadow
	// (0..10) casts a soft shadow.
	Line      int
	LineColor Color
	Shadow    float64
}

// DefaultFont is what txt draws with unless txt-font names another.
const DefaultFont = "DejaVu Sans"

// apply draws t on img.
func (t Text) apply(img *vips.ImageRef) error {
	w, h := img.Width(), img.Height()
	room := max(1, w-2*t.Pad)
	if t.Width > 0 {
		room = min(room, t.Width)
	}
	size, text := max(t.Size, 1), t.Text
	mask, err := t.mask(text, size)
	if err != nil {
		return err
	}
	if t.Fit {
		for mask.Bounds().Dx() > room && size > 1 {
			size = max(1, size*room/max(mask.Bounds().Dx(), 1))
			if mask, err = t.mask(text, size); err != nil {
				return err
			}
		}
	}
	if mask.Bounds().Dx() > room && t.Width == 0 {
		if mask, err = t.clipped(room, size); err != nil {
			return err
		}
	}
	layer, err := t.layer(mask)
	if err != nil {
		return err
	}
	defer layer.Close()
	margin := t.Line + int(math.Ceil(3*t.Shadow)) // the layer's edge around the letters
	x := t.Pad + int(math.Round(t.AlignX*float64(w-mask.Bounds().Dx()-2*t.Pad))) - margin
	y := t.Pad + int(math.Round(t.AlignY*float64(h-mask.Bounds().Dy()-2*t.Pad))) - margin
	if t.X != nil {
		x = *t.X - margin
	}
	if t.Y != nil {
		y = *t.Y - margin
	}
	hadAlpha := img.HasAlpha()
	if err := img.Composite(layer, vips.BlendModeOver, x, y); err != nil {
		return err
	}
	if !hadAlpha {
		if err := img.ExtractBand(0, img.Bands()-1); err != nil {
			return err
		}
	}
	return img.Cast(vips.BandFormatUchar)
}

// clipped is the longest cut of the text (from Clip's side, "…" added
// with Ellipsis) that fits room.
func (t Text) clipped(room, size int) (*image.Gray, error) {
	runes := []rune(t.Text)
	cut := func(n int) string { // n runes kept
		mark := ""
		if t.Ellipsis {
			mark = "…"
		}
		switch t.Clip {
		case "start":
			return mark + string(runes[len(runes)-n:])
		case "middle":
			return string(runes[:(n+1)/2]) + mark + string(runes[len(runes)-n/2:])
		}
		return string(runes[:n]) + mark
	}
	lo, hi := 0, len(runes) // lo fits (or is nothing), hi does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		m, err := t.mask(cut(mid), size)
		if err != nil {
			return nil, err
		}
		if m.Bounds().Dx() <= room {
			lo = mid
		} else {
			hi = mid
		}
	}
	return t.mask(cut(lo), size)
}

// mask renders text at size into a mask (0..255 coverage).
func (t Text) mask(text string, size int) (*image.Gray, error) {
	if text == "" || !utf8.ValidString(text) {
		return image.NewGray(image.Rect(0, 0, 1, 1)), nil
	}
	markup := html.EscapeString(text)
	if t.Track != 0 {
		markup = fmt.Sprintf(`<span letter_spacing="%d">%s</span>`, t.Track*1024, markup)
	}
	font := t.Font
	if font == "" {
		font = DefaultFont
	}
	cMarkup, cFont := C.CString(markup), C.CString(fmt.Sprintf("%s %d", font, size))
	defer C.free(unsafe.Pointer(cMarkup))
	defer C.free(unsafe.Pointer(cFont))
	align := C.int(C.VIPS_ALIGN_LOW)
	switch {
	case t.AlignX == 0.5:
		align = C.VIPS_ALIGN_CENTRE
	case t.AlignX == 1:
		align = C.VIPS_ALIGN_HIGH
	}
	var out *C.VipsImage
	if C.text_mask(cMarkup, cFont, C.int(t.Width), C.int(t.Lead), align, &out) != 0 {
		return nil, fmt.Errorf("txt: %v", vipsError())
	}
	defer C.g_object_unref(C.gpointer(out))
	var n C.size_t
	p := C.vips_image_write_to_memory(out, &n)
	if p == nil {
		return nil, errors.New("txt: no memory for the text")
	}
	defer C.g_free(C.gpointer(p))
	w, h := int(out.Xsize), int(out.Ysize)
	img := image.NewGray(image.Rect(0, 0, w, h))
	copy(img.Pix, unsafe.Slice((*byte)(p), int(n)))
	return img, nil
}

// layer is the text in its colour over its outline and shadow, with
// alpha, around mask by the outline's and shadow's reach.
func (t Text) layer(mask *image.Gray) (*vips.ImageRef, error) {
	margin := t.Line + int(math.Ceil(3*t.Shadow))
	w, h := mask.Bounds().Dx()+2*margin, mask.Bounds().Dy()+2*margin
	padded := image.NewGray(image.Rect(0, 0, w, h))
	for y := range mask.Bounds().Dy() {
		copy(padded.Pix[(y+margin)*padded.Stride+margin:], mask.Pix[y*mask.Stride:y*mask.Stride+mask.Bounds().Dx()])
	}
	alpha, err := grayImage(padded)
	if err != nil {
		return nil, err
	}
	defer alpha.Close()
	layer, err := colored(alpha, t.Color)
	if err != nil {
		return nil, err
	}
	var under []*vips.ImageRef
	defer func() {
		for _, u := range under {
			u.Close()
		}
	}()
	if t.Line > 0 {
		grown, err := alpha.Copy()
		if err != nil {
			layer.Close()
			return nil, err
		}
		if err := grown.Rank(2*t.Line+1, 2*t.Line+1, (2*t.Line+1)*(2*t.Line+1)-1); err != nil { // a max filter
			grown.Close()
			layer.Close()
			return nil, err
		}
		outline, err := colored(grown, t.LineColor)
		grown.Close()
		if err != nil {
			layer.Close()
			return nil, err
		}
		under = append(under, outline)
	}
	if t.Shadow > 0 {
		soft, err := alpha.Copy()
		if err != nil {
			layer.Close()
			return nil, err
		}
		if err := soft.GaussianBlur(t.Shadow); err != nil {
			soft.Close()
			layer.Close()
			return nil, err
		}
		shadow, err := colored(soft, Color{A: 160})
		soft.Close()
		if err != nil {
			layer.Close()
			return nil, err
		}
		// Down and to the right of the letters.
		off := max(1, int(math.Round(t.Shadow/2)))
		if err := shadow.Embed(off, off, w, h, vips.ExtendBlack); err != nil {
			shadow.Close()
			layer.Close()
			return nil, err
		}
		under = append(under, shadow)
	}
	for _, u := range under {
		if err := layer.Composite(u, vips.BlendModeDestOver, 0, 0); err != nil {
			layer.Close()
			return nil, err
		}
	}
	return layer, nil
}

// grayImage is a one-band libvips image of g.
func grayImage(g *image.Gray) (*vips.ImageRef, error) {
	img, err := vips.NewImageFromGoImage(g)
	if err != nil {
		return nil, err
	}
	if err := img.ExtractBand(0, 1); err != nil {
		img.Close()
		return nil, err
	}
	return img, nil
}

// colored is c where alpha says (c's own alpha times alpha).
func colored(alpha *vips.ImageRef, c Color) (*vips.ImageRef, error) {
	out, err := solid(alpha.Width(), alpha.Height(), Color{R: c.R, G: c.G, B: c.B, A: 255})
	if err != nil {
		return nil, err
	}
	if err := out.ExtractBand(0, 3); err != nil {
		out.Close()
		return nil, err
	}
	a, err := alpha.Copy()
	if err != nil {
		out.Close()
		return nil, err
	}
	defer a.Close()
	if err := a.Linear1(float64(c.A)/255, 0); err != nil {
		out.Close()
		return nil, err
	}
	if err := a.Cast(vips.BandFormatUchar); err != nil {
		out.Close()
		return nil, err
	}
	if err := out.BandJoin(a); err != nil {
		out.Close()
		return nil, err
	}
	return out, nil
}
