package resizer

import (
	"cmp"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/httperr"
)

// Options is one parsed, canonical rendition request. Width and Height already
// include dpr; Format is resolved (auto=format applied); zero values mean
// "not asked" (Format "" keeps the source's format where it can be served).
type Options struct {
	Width, Height int
	// WidthFrac and HeightFrac are w and h given as fractions (0..1) of
	// the original's size, resolved into Width and Height by renderOptions.
	WidthFrac, HeightFrac float64
	// MinWidth... bound the box of a cropping fit (after dpr).
	MinWidth, MinHeight, MaxWidth, MaxHeight int
	Fit                                      imaging.Fit
	Gravity                                  imaging.Gravity
	FocalX, FocalY                           float64
	// Zoom is fp-z: a focal-point crop that many times closer (0: 1).
	Zoom float64
	// Aspect is ar (width / height) when neither side was given: it needs the
	// original's size, and is resolved into a box by renderOptions.
	Aspect  float64
	Quality int
	Format  imaging.Format
	// Baseline is jpg-progressive=false: JPEG is progressive otherwise.
	Baseline bool
	// Chroma is chromasub: 444 or 422 keep JPEG's chroma whole (libvips
	// has no 4:2:2), 420 (the default) halves it.
	Chroma     int
	Lossless   bool
	Blur       int // imgix's 0..2000
	Background *imaging.Color
	// Orient overrides the original's EXIF orientation (1..8).
	Orient int
	// Rect cuts the original first (resolved by renderOptions).
	Rect *RectSpec
	// TrimMode (auto, color, alpha, colorunlessalpha) trims the original's
	// border first, with what decides it: the colour and tolerance, the
	// mean difference, the alpha threshold; TrimPad keeps (or cuts) more.
	TrimMode                   string
	TrimColor                  *imaging.Color
	TrimMD, TrimTol, TrimAlpha float64
	TrimPad                    int
	Effects                    imaging.Effects
	Frame                      imaging.Frame
	// Mask (ellipse, corners) cuts the image, corners rounded by
	// CornerRadius, what is cut away MaskBg or transparent.
	Mask         string
	MaskBg       *imaging.Color
	CornerRadius *imaging.Corners
	// Fill (solid, blur, gradient) fills a padding fit's padding: with
	// FillColor, the image blurred, or a gradient (linear or radial).
	Fill                 string
	FillColor            *imaging.Color
	GradientType         string
	GradientLinear       *[2]imaging.Color
	GradientDirection    string
	GradientRadial       *[2]imaging.Color
	GradientRadius       *[2]measure
	GradientX, GradientY *measure
	GradientSpace        string
	// Grid lays images with alpha on a checkerboard of two colours,
	// GridSize pixels a square.
	Grid     *[2]imaging.Color
	GridSize int
	// Mark and Blend lay another original, or (a blend) a colour, on it;
	// Text draws words.
	Mark, Blend OverlaySpec
	Text        TextSpec
	// FaceArea is fit=facearea: the box is cut around face FaceIndex
	// (1-based, the largest first), FacePad times its size.
	FaceArea  bool
	FacePad   float64
	FaceIndex int
	// ListFaces (faces=1) adds the faces to fm=json's answer.
	ListFaces bool
	// Palette (json or css) answers the original's Colors (0..16) instead
	// of an image, CSS classes named by Prefix.
	Palette string
	Colors  int
	Prefix  string
	// Expires is a Unix time after which the URL answers 404; Download
	// (dl) names the file a browser saves the answer as. Neither changes
	// the pixels or the key.
	Expires  int64
	Download string
	// DPI is written in the file's resolution field.
	DPI int
	// Colors (colorquant) makes PNG a palette of at most that many.
	ColorQuant int
	// Profile is cs: the ICC profile embedded (srgb, tinysrgb, origin).
	Profile string
	// KeepIPTC is iptc=allow (signed URLs only).
	KeepIPTC bool
	// FocalDebug draws crosshairs where the focal point is.
	FocalDebug bool
	// Upscale is set by renderOptions only: this render enlarges the original.
	Upscale bool
	// Negotiated says Format came from Accept (auto=format): answers Vary: Accept.
	Negotiated bool

	// What settle resolves, read by the table; zero once parsed.
	dpr          float64
	askW, askH   float64
	duotoneAlpha *int
	trimMD       *float64
	transparency bool
	gridColors   *[2]imaging.Color
	gridSize     *int
}

// FormatJSON (fm=json) asks for the original's facts instead of an image.
const FormatJSON imaging.Format = "json"

// badf is a request refused with 400 and this message.
func badf(format string, a ...any) error { return httperr.New(http.StatusBadRequest, format, a...) }

// ParseConfig is what parsing needs to know of the resizer's configuration.
type ParseConfig struct {
	MaxOutput int  // largest width or height after dpr; larger asks are scaled down to it
	AutoAVIF  bool // auto=format may choose AVIF (Config.AutoAVIF: on by default)
}

// compressQuality is imgix's q for auto=compress when no q is given.
const compressQuality = 45

// ParseOptions turns a query into Options, with imgix's meanings. accept is
// the request's Accept header, used only with auto=format. Parameters
// outside the table are ignored, as imgix ignores them. It never panics on
// any input.
func ParseOptions(q url.Values, accept string, cfg ParseConfig) (Options, error) {
	q, _, err := normalize(q)
	if err != nil {
		return Options{}, err
	}
	return parseNormalized(q, accept, cfg)
}

// parseNormalized is ParseOptions of a query normalize has spelled.
func parseNormalized(q url.Values, accept string, cfg ParseConfig) (Options, error) {
	o := Options{Fit: imaging.FitClip, dpr: 1, Colors: 6, Prefix: "image"}
	if q.Get("fm") == "json" || q.Get("palette") != "" {
		// What is known of the image, or its colours: no pixels, so no
		// other parameter counts (and none makes a new key).
		for _, name := range []string{"palette", "colors", "prefix", "expires", "dl", "faces"} {
			if vs := q[name]; len(vs) > 0 {
				if err := paramsByName[name].read(&o, vs[0]); err != nil {
					return Options{}, err
				}
			}
		}
		if q.Get("fm") == "json" {
			return Options{Format: FormatJSON, Expires: o.Expires, Download: o.Download, ListFaces: o.ListFaces}, nil
		}
		return Options{Palette: o.Palette, Colors: o.Colors, Prefix: o.Prefix, Expires: o.Expires, Download: o.Download}, nil
	}
	for _, p := range params {
		if vs := q[p.name]; len(vs) > 0 {
			if err := p.read(&o, vs[0]); err != nil {
				return Options{}, err
			}
		}
	}
	return o, o.settle(q, accept, cfg)
}

// settle resolves what parameters mean together: dpr multiplies the
// sizes, ar fixes the side not given, crop and the focal point apply to
// cropping fits only (imgix ignores them elsewhere, and they stay out of
// the key), auto picks the format and quality.
func (o *Options) settle(q url.Values, accept string, cfg ParseConfig) error {
	w, h := o.askW*o.dpr, o.askH*o.dpr
	if v := q.Get("ar"); v != "" {
		ar, err := parseAspect(v)
		if err != nil {
			return err
		}
		// imgix: ar works with the cropping and padding fits, and only one
		// side given (w and h already fix the aspect).
		if o.Fit.Crops() || o.Fit.Pads() {
			switch {
			case o.askW > 0 && o.askH == 0 && o.HeightFrac == 0:
				h = math.Max(1, math.Round(w/ar))
			case o.askH > 0 && o.askW == 0 && o.WidthFrac == 0:
				w = math.Max(1, math.Round(h*ar))
			case o.askW == 0 && o.askH == 0 && o.WidthFrac == 0 && o.HeightFrac == 0:
				o.Aspect = ar
			}
		}
	}
	if o.Fit.Crops() {
		var err error
		if o.Gravity, o.FocalX, o.FocalY, err = parseCrop(q); err != nil {
			return err
		}
	}
	if o.Gravity != imaging.GravityFocal {
		o.Zoom = 0
	}
	o.Width, o.Height = boundBox(int(math.Round(w)), int(math.Round(h)), cfg.MaxOutput)
	for _, side := range []*int{&o.MinWidth, &o.MinHeight, &o.MaxWidth, &o.MaxHeight} {
		*side = min(cfg.MaxOutput, int(math.Round(float64(*side)*o.dpr)))
	}
	if !o.Fit.Crops() {
		o.MinWidth, o.MinHeight, o.MaxWidth, o.MaxHeight = 0, 0, 0, 0
	}
	for _, a := range autoValues(q) {
		switch a {
		case "":
		case "format":
			o.Format, o.Negotiated = NegotiateFormat(accept, cfg.AutoAVIF), true
		case "compress":
			if q.Get("q") == "" {
				o.Quality = compressQuality
			}
		case "enhance", "redeye", "true": // imgix's photo corrections: not done here, ignored
		default:
			return badf("auto must be a list of format, compress, enhance, redeye, not %q", a)
		}
	}
	if o.Effects.Duotone != nil {
		o.Effects.DuotoneAlpha = 100
		if o.duotoneAlpha != nil {
			o.Effects.DuotoneAlpha = *o.duotoneAlpha
		}
	}
	o.Effects.Denoise, o.Effects.DenoiseSharpen = max(0, o.Effects.Denoise), max(0, o.Effects.DenoiseSharpen)
	if o.Effects.Unsharp == 0 {
		o.Effects.UnsharpRadius = 0
	}
	if o.Effects.Rotate == 0 {
		o.Effects.Pivot = false
	}
	o.settleTrim()
	if !o.FaceArea {
		o.FacePad, o.FaceIndex = 0, 0
	} else {
		o.FacePad, o.FaceIndex = cmp.Or(o.FacePad, 1), max(o.FaceIndex, 1)
	}
	o.ListFaces = false // fm=json's only
	o.Mark.settle(false)
	o.Blend.settle(true)
	o.Text.settle()
	o.settleFill()
	if o.Mask != "corners" {
		o.CornerRadius = nil
	}
	if o.Mask == "" {
		o.MaskBg = nil
	}
	if o.Frame.Border == (imaging.Sides{}) {
		o.Frame.InnerRadius, o.Frame.OuterRadius, o.Frame.Stroke, o.Frame.StrokeColor = imaging.Corners{}, imaging.Corners{}, 0, imaging.Color{}
	} else if o.Frame.Stroke > 0 && o.Frame.StrokeColor == (imaging.Color{}) {
		o.Frame.StrokeColor = imaging.Color{A: 255} // black, as the spec's default means
	}
	if o.Gravity != imaging.GravityFocal {
		o.FocalDebug = false
	}
	o.Colors, o.Prefix = 0, ""
	o.dpr, o.askW, o.askH, o.duotoneAlpha, o.trimMD = 0, 0, 0, nil, nil
	o.transparency, o.gridColors, o.gridSize = false, nil, nil
	return nil
}

// String is the canonical form: sorted, defaults applied, dpr folded into w and
// h, format resolved. It is the variant's cache key and part of its ETag.
func (o Options) String() string {
	v := url.Values{}
	for _, p := range params {
		if s := p.write(o); s != "" {
			v.Set(p.name, s)
		}
	}
	if o.Upscale {
		v.Set("up", "1") // render keys only
	}
	return v.Encode() // url.Values.Encode sorts by key
}

// autoValues lists auto's values, comma-separated or repeated; nil (no
// allocation, the common case) without auto.
func autoValues(q url.Values) []string {
	if len(q["auto"]) == 0 {
		return nil
	}
	return strings.Split(strings.Join(q["auto"], ","), ",")
}

// boundBox scales a box (0: side not asked) down to fit in limit x limit,
// aspect kept: a srcset reaching past the limit gets the limit, not an error.
func boundBox(w, h, limit int) (int, int) {
	if w <= limit && h <= limit {
		return w, h
	}
	f := float64(limit) / float64(max(w, h))
	return min(limit, scaleSide(w, f)), min(limit, scaleSide(h, f))
}

// parseAspect reads ar as imgix writes it, W:H (decimals allowed).
func parseAspect(v string) (float64, error) {
	bad := badf("ar must be W:H with plain decimal numbers above 0 and up to 10000 (such as 16:9 or 1.91:1), not %q", v)
	ws, hs, ok := strings.Cut(v, ":")
	if !ok {
		return 0, bad
	}
	aw, ok1 := decimal(ws)
	ah, ok2 := decimal(hs)
	if !ok1 || !ok2 || !(aw > 0 && aw <= 10000) || !(ah > 0 && ah <= 10000) {
		return 0, bad
	}
	return aw / ah, nil
}

// parseCrop reads imgix's crop: a comma-separated list of faces, entropy,
// edges, focalpoint (the first of these wins) and top, bottom, left, right
// (the fallback position), plus our center and attention. libvips has no
// face detector: faces are found at upload (or on first read), and faces
// crops around them, else as attention; edges is its entropy crop.
// Positions become a focal point at the edge they name; focalpoint's comes
// from fp-x and fp-y.
func parseCrop(q url.Values) (g imaging.Gravity, fx, fy float64, err error) {
	fx, fy = 0.5, 0.5
	positioned := false
	for _, c := range strings.Split(q.Get("crop"), ",") {
		var smart imaging.Gravity
		switch c {
		case "", "center":
		case "faces":
			smart = imaging.GravityFaces
		case "attention":
			smart = imaging.GravityAttention
		case "entropy", "edges":
			smart = imaging.GravityEntropy
		case "focalpoint":
			smart = imaging.GravityFocal
		case "top":
			fy, positioned = 0, true
		case "bottom":
			fy, positioned = 1, true
		case "left":
			fx, positioned = 0, true
		case "right":
			fx, positioned = 1, true
		default:
			return "", 0, 0, badf("crop must be a list of faces, entropy, edges, focalpoint, top, bottom, left, right, center or attention, not %q", c)
		}
		if g == "" {
			g = smart
		}
	}
	switch {
	case g == imaging.GravityFocal:
		fx, fy = 0.5, 0.5
		for _, p := range []struct {
			name string
			dst  *float64
		}{{"fp-x", &fx}, {"fp-y", &fy}} {
			if v := q.Get(p.name); v != "" {
				f, ok := decimal(v)
				if !ok || f > 1 {
					return "", 0, 0, badf("%s must be a plain decimal number from 0 to 1 (such as 0.25), not %q", p.name, v)
				}
				*p.dst = f
			}
		}
		return g, fx, fy, nil
	case g != "":
		return g, 0, 0, nil
	case positioned:
		return imaging.GravityFocal, fx, fy, nil
	}
	return imaging.GravityCenter, 0, 0, nil
}

// NegotiateFormat collapses Accept to one of at most three answers (AVIF when
// enabled, WebP, JPEG): the same rule the CDN's Accept normaliser applies, so
// the CDN's cache key and our choice always agree.
func NegotiateFormat(accept string, allowAVIF bool) imaging.Format {
	switch {
	case allowAVIF && strings.Contains(accept, "image/avif"):
		return imaging.AVIF
	case strings.Contains(accept, "image/webp"):
		return imaging.WebP
	}
	return imaging.JPEG
}

var errBadSignature = httperr.New(http.StatusForbidden, "signature does not match")

// settleTrim keeps what the trim mode uses: trim-md (default 11) for
// auto, trim-color and trim-tol for color, trim-alpha for alpha.
func (o *Options) settleTrim() {
	mode := o.TrimMode
	if mode == "" {
		o.TrimColor, o.TrimMD, o.TrimTol, o.TrimAlpha, o.TrimPad = nil, 0, 0, 0, 0
		return
	}
	o.TrimMD = 0
	if mode == "auto" {
		o.TrimMD = 11
		if o.trimMD != nil {
			o.TrimMD = *o.trimMD
		}
	}
	if mode != "color" && mode != "colorunlessalpha" {
		o.TrimColor, o.TrimTol = nil, 0
	}
	if mode != "alpha" && mode != "colorunlessalpha" {
		o.TrimAlpha = 0
	}
}

// trim is the imaging's trim of o; alpha says whether the original has it.
func (o Options) trim(alpha bool) *imaging.Trim {
	switch o.TrimMode {
	case "":
		return nil
	case "auto":
		return &imaging.Trim{Threshold: o.TrimMD, Pad: o.TrimPad}
	case "alpha":
		return &imaging.Trim{Alpha: true, Threshold: o.TrimAlpha, Pad: o.TrimPad}
	case "colorunlessalpha":
		if alpha {
			return &imaging.Trim{Alpha: true, Threshold: o.TrimAlpha, Pad: o.TrimPad}
		}
	}
	return &imaging.Trim{Color: o.TrimColor, Threshold: o.TrimTol, Pad: o.TrimPad}
}

// settleFill keeps what the fill asks for, where there is padding to fill,
// and the transparency grid's colours and size where it is asked.
func (o *Options) settleFill() {
	if !o.Fit.Pads() || o.Fit == imaging.FitClamp {
		o.Fill = ""
	}
	if o.Fill != "solid" {
		o.FillColor = nil
	} else if o.FillColor == nil {
		o.FillColor = &imaging.White
	}
	if o.Fill != "gradient" {
		o.GradientType = ""
	} else if o.GradientType == "" {
		o.GradientType = "linear"
	}
	if o.GradientType != "linear" {
		o.GradientLinear, o.GradientDirection = nil, ""
	} else if o.GradientDirection == "" {
		o.GradientDirection = "top,bottom"
	}
	if o.GradientType != "radial" {
		o.GradientRadial, o.GradientRadius, o.GradientX, o.GradientY = nil, nil, nil, nil
	}
	if o.GradientType == "" {
		o.GradientSpace = ""
	} else if o.GradientSpace == "" {
		o.GradientSpace = "srgb"
	}
	o.Grid, o.GridSize = nil, 0
	if o.transparency {
		o.Grid, o.GridSize = &[2]imaging.Color{{R: 0xd0, G: 0xd7, B: 0xdd, A: 255}, imaging.White}, 4
		if o.gridColors != nil {
			o.Grid = o.gridColors
		}
		if o.gridSize != nil {
			o.GridSize = max(1, *o.gridSize)
		}
	}
}

// fill is the imaging's fill of o in a w x h box.
func (o Options) fill(w, h int) imaging.Fill {
	switch o.Fill {
	case "blur":
		return imaging.Fill{Blur: true}
	case "gradient":
	default:
		return imaging.Fill{}
	}
	g := &imaging.Gradient{Space: o.GradientSpace, From: imaging.Color{A: 255}, To: imaging.White}
	if o.GradientType == "radial" {
		g.Radial = true
		if o.GradientRadial != nil {
			g.From, g.To = o.GradientRadial[0], o.GradientRadial[1]
		}
		short := min(w, h)
		g.Inner, g.Outer = 0.25*float64(short), 0.5*float64(short)
		if r := o.GradientRadius; r != nil {
			g.Inner, g.Outer = r[0].of(short), r[1].of(short)
		}
		g.X, g.Y = float64(w)/2, float64(h)/2
		if o.GradientX != nil {
			g.X = o.GradientX.of(w)
		}
		if o.GradientY != nil {
			g.Y = o.GradientY.of(h)
		}
		return imaging.Fill{Gradient: g}
	}
	if o.GradientLinear != nil {
		g.From, g.To = o.GradientLinear[0], o.GradientLinear[1]
	}
	g.DX, g.DY = direction(o.GradientDirection)
	return imaging.Fill{Gradient: g}
}

// direction reads fill-gradient-linear-direction: from the first side to
// its opposite ("top,bottom"), or towards the sides named ("bottom",
// "bottom,right").
func direction(v string) (dx, dy float64) {
	towards := map[string][2]float64{"top": {0, -1}, "bottom": {0, 1}, "left": {-1, 0}, "right": {1, 0}}
	sides := strings.Split(v, ",")
	if len(sides) == 2 {
		a, b := towards[sides[0]], towards[sides[1]]
		if a[0] == -b[0] && a[1] == -b[1] {
			return b[0], b[1] // from a to its opposite
		}
	}
	for _, s := range sides {
		dx, dy = dx+towards[s][0], dy+towards[s][1]
	}
	return dx, dy
}

// mask is the imaging's mask of o.
func (o Options) mask() imaging.Mask {
	m := imaging.Mask{Ellipse: o.Mask == "ellipse", Background: o.MaskBg}
	if o.Mask == "corners" {
		m.Corners = imaging.Corners{10, 10, 10, 10} // imgix's default radius
		if o.CornerRadius != nil {
			m.Corners = *o.CornerRadius
		}
	}
	return m
}
