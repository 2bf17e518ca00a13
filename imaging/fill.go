package imaging

import (
	"image"
	"math"

	"github.com/davidbyttow/govips/v2/vips"
)

// Fill is what fills the padding of the fill and fillmax fits (imgix's
// fill): a blurred, enlarged copy of the image itself, or a gradient. The
// zero value pads with the pad colour (Background, fill=solid's colour).
type Fill struct {
	Blur     bool
	Gradient *Gradient
}

// Gradient is a linear or radial gradient from From to To.
type Gradient struct {
	Radial   bool
	From, To Color
	// DX, DY is a linear gradient's direction (top to bottom: 0, 1).
	DX, DY float64
	// X, Y is a radial gradient's centre and Inner, Outer its radii, in
	// pixels of the box: From inside Inner, To outside Outer.
	X, Y, Inner, Outer float64
	// Space is where colours are mixed: srgb (default), linear, oklab,
	// hsl or lch.
	Space string
}

// background makes the w x h canvas the padded image is laid on: a
// gradient, or img (the image to pad) blurred to cover it.
func (f Fill) background(img *vips.ImageRef, w, ht int) (*vips.ImageRef, error) {
	if f.Gradient != nil {
		return vips.NewImageFromGoImage(f.Gradient.draw(w, ht))
	}
	// The image covering the box at an eighth of its size, blurred and
	// enlarged: blurred pixels hold no detail to lose, and no second
	// decode is needed.
	if err := branch(img); err != nil {
		return nil, err
	}
	bg, err := img.Copy()
	if err != nil {
		return nil, err
	}
	small := math.Max(float64(max(1, w/8))/float64(img.Width()), float64(max(1, ht/8))/float64(img.Height()))
	if err := bg.Resize(small, vips.KernelLinear); err != nil {
		bg.Close()
		return nil, err
	}
	cw, ch := min(bg.Width(), max(1, w/8)), min(bg.Height(), max(1, ht/8))
	if err := bg.ExtractArea((bg.Width()-cw)/2, (bg.Height()-ch)/2, cw, ch); err != nil {
		bg.Close()
		return nil, err
	}
	if err := bg.GaussianBlur(2); err != nil {
		bg.Close()
		return nil, err
	}
	if err := bg.ResizeWithVScale(float64(w)/float64(bg.Width()), float64(ht)/float64(bg.Height()), vips.KernelLinear); err != nil {
		bg.Close()
		return nil, err
	}
	if bg.Width() != w || bg.Height() != ht { // a rounding pixel
		if err := bg.Embed(0, 0, max(w, bg.Width()), max(ht, bg.Height()), vips.ExtendCopy); err != nil {
			bg.Close()
			return nil, err
		}
		if err := bg.ExtractArea(0, 0, w, ht); err != nil {
			bg.Close()
			return nil, err
		}
	}
	return bg, nil
}

// under lays img, placed at left, top, on bg (w x ht): the result in img.
func under(img, bg *vips.ImageRef, left, top, w, ht int) error {
	if err := embed(img, left, top, w, ht, Color{}); err != nil { // transparent around
		return err
	}
	if !bg.HasAlpha() {
		if err := bg.AddAlpha(); err != nil {
			return err
		}
	}
	if err := img.Composite(bg, vips.BlendModeDestOver, 0, 0); err != nil {
		return err
	}
	return img.Cast(vips.BandFormatUchar)
}

// draw renders the gradient at w x ht.
func (g Gradient) draw(w, ht int) *image.NRGBA {
	// The colours along the way, 1024 steps.
	var ramp [1025][4]uint8
	for i := range ramp {
		ramp[i] = mix(g.From, g.To, float64(i)/1024, g.Space)
	}
	at := g.position(w, ht)
	img := image.NewNRGBA(image.Rect(0, 0, w, ht))
	for y := range ht {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			c := ramp[int(math.Round(1024*math.Max(0, math.Min(1, at(float64(x)+0.5, float64(y)+0.5)))))]
			copy(row[4*x:4*x+4], c[:])
		}
	}
	return img
}

// position is where a pixel lies along the gradient, 0 (From) to 1 (To).
func (g Gradient) position(w, ht int) func(x, y float64) float64 {
	if g.Radial {
		span := math.Max(g.Outer-g.Inner, 1e-9)
		return func(x, y float64) float64 { return (math.Hypot(x-g.X, y-g.Y) - g.Inner) / span }
	}
	// Along the direction, from the box's first corner it reaches to its last.
	dx, dy := g.DX, g.DY
	n := math.Hypot(dx, dy)
	if n == 0 {
		dx, dy, n = 0, 1, 1
	}
	dx, dy = dx/n, dy/n
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range [][2]float64{{0, 0}, {float64(w), 0}, {0, float64(ht)}, {float64(w), float64(ht)}} {
		p := c[0]*dx + c[1]*dy
		lo, hi = math.Min(lo, p), math.Max(hi, p)
	}
	return func(x, y float64) float64 { return (x*dx + y*dy - lo) / (hi - lo) }
}

// mix is a + (b-a)t with the colours mixed in space.
func mix(a, b Color, t float64, space string) [4]uint8 {
	alpha := uint8(math.Round(float64(a.A) + (float64(b.A)-float64(a.A))*t))
	ca, cb := [3]float64{float64(a.R) / 255, float64(a.G) / 255, float64(a.B) / 255}, [3]float64{float64(b.R) / 255, float64(b.G) / 255, float64(b.B) / 255}
	to, from := func(c [3]float64) [3]float64 { return c }, func(c [3]float64) [3]float64 { return c }
	hue := -1 // the channel that is an angle, mixed the short way round
	switch space {
	case "linear":
		to, from = mapRGB(toLinear), mapRGB(fromLinear)
	case "oklab":
		to, from = oklab, fromOklab
	case "lch":
		to, from, hue = lch, fromLCh, 2
	case "hsl":
		to, from, hue = hsl, fromHSL, 0
	}
	pa, pb := to(ca), to(cb)
	var m [3]float64
	for i := range 3 {
		d := pb[i] - pa[i]
		if i == hue {
			d = math.Mod(d+540, 360) - 180
		}
		m[i] = pa[i] + d*t
	}
	out := from(m)
	var c [4]uint8
	for i := range 3 {
		c[i] = uint8(math.Round(255 * math.Max(0, math.Min(1, out[i]))))
	}
	c[3] = alpha
	return c
}

func mapRGB(f func(float64) float64) func([3]float64) [3]float64 {
	return func(c [3]float64) [3]float64 { return [3]float64{f(c[0]), f(c[1]), f(c[2])} }
}

func toLinear(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

func fromLinear(v float64) float64 {
	if v <= 0.0031308 {
		return v * 12.92
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

// oklab and fromOklab are Björn Ottosson's Oklab.
func oklab(c [3]float64) [3]float64 {
	r, g, b := toLinear(c[0]), toLinear(c[1]), toLinear(c[2])
	l := math.Cbrt(0.4122214708*r + 0.5363325363*g + 0.0514459929*b)
	m := math.Cbrt(0.2119034982*r + 0.6806995451*g + 0.1073969566*b)
	s := math.Cbrt(0.0883024619*r + 0.2817188376*g + 0.6299787005*b)
	return [3]float64{0.2104542553*l + 0.7936177850*m - 0.0040720468*s, 1.9779984951*l - 2.4285922050*m + 0.4505937099*s, 0.0259040371*l + 0.7827717662*m - 0.8086757660*s}
}

func fromOklab(c [3]float64) [3]float64 {
	l := math.Pow(c[0]+0.3963377774*c[1]+0.2158037573*c[2], 3)
	m := math.Pow(c[0]-0.1055613458*c[1]-0.0638541728*c[2], 3)
	s := math.Pow(c[0]-0.0894841775*c[1]-1.2914855480*c[2], 3)
	return mapRGB(fromLinear)([3]float64{4.0767416621*l - 3.3077115913*m + 0.2309699292*s, -1.2684380046*l + 2.6097574011*m - 0.3413193965*s, -0.0041960863*l - 0.7034186147*m + 1.7076147010*s})
}

// lch is CIE LCh(ab) under D65, hue in degrees.
func lch(c [3]float64) [3]float64 {
	r, g, b := toLinear(c[0]), toLinear(c[1]), toLinear(c[2])
	x := (0.4124*r + 0.3576*g + 0.1805*b) / 0.95047
	y := 0.2126*r + 0.7152*g + 0.0722*b
	z := (0.0193*r + 0.1192*g + 0.9505*b) / 1.08883
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	L, A, B := 116*f(y)-16, 500*(f(x)-f(y)), 200*(f(y)-f(z))
	return [3]float64{L, math.Hypot(A, B), math.Mod(math.Atan2(B, A)*180/math.Pi+360, 360)}
}

func fromLCh(c [3]float64) [3]float64 {
	A, B := c[1]*math.Cos(c[2]*math.Pi/180), c[1]*math.Sin(c[2]*math.Pi/180)
	fy := (c[0] + 16) / 116
	fx, fz := fy+A/500, fy-B/200
	inv := func(t float64) float64 {
		if t*t*t > 216.0/24389 {
			return t * t * t
		}
		return (116*t - 16) * 27 / 24389
	}
	x, y, z := inv(fx)*0.95047, inv(fy), inv(fz)*1.08883
	return mapRGB(fromLinear)([3]float64{3.2406*x - 1.5372*y - 0.4986*z, -0.9689*x + 1.8758*y + 0.0415*z, 0.0557*x - 0.2040*y + 1.0570*z})
}

// hsl is hue (degrees), saturation and lightness.
func hsl(c [3]float64) [3]float64 {
	hi, lo := math.Max(c[0], math.Max(c[1], c[2])), math.Min(c[0], math.Min(c[1], c[2]))
	l := (hi + lo) / 2
	if hi == lo {
		return [3]float64{0, 0, l}
	}
	d := hi - lo
	s := d / (1 - math.Abs(2*l-1))
	var h float64
	switch hi {
	case c[0]:
		h = math.Mod((c[1]-c[2])/d+6, 6)
	case c[1]:
		h = (c[2]-c[0])/d + 2
	default:
		h = (c[0]-c[1])/d + 4
	}
	return [3]float64{h * 60, s, l}
}

func fromHSL(c [3]float64) [3]float64 {
	h, s, l := math.Mod(c[0]+360, 360), c[1], c[2]
	k := func(n float64) float64 {
		k := math.Mod(n+h/30, 12)
		return l - s*math.Min(l, 1-l)*math.Max(-1, math.Min(k-3, math.Min(9-k, 1)))
	}
	return [3]float64{k(0), k(8), k(4)}
}

// checkerboard is a w x ht grid of size px squares of a and b: imgix's
// transparency=grid, laid under an image with alpha. One tile of four
// squares is drawn, then repeated.
func checkerboard(w, ht, size int, a, b Color) (*vips.ImageRef, error) {
	size = min(max(size, 1), max(w, ht))
	tile := image.NewNRGBA(image.Rect(0, 0, 2*size, 2*size))
	for y := range 2 * size {
		for x := range 2 * size {
			c := a
			if (x/size+y/size)%2 == 1 {
				c = b
			}
			i := y*tile.Stride + 4*x
			tile.Pix[i], tile.Pix[i+1], tile.Pix[i+2], tile.Pix[i+3] = c.R, c.G, c.B, 255
		}
	}
	img, err := vips.NewImageFromGoImage(tile)
	if err != nil {
		return nil, err
	}
	if err := img.Replicate(w/(2*size)+1, ht/(2*size)+1); err != nil {
		img.Close()
		return nil, err
	}
	if err := img.ExtractArea(0, 0, w, ht); err != nil {
		img.Close()
		return nil, err
	}
	return img, nil
}
