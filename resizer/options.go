package resizer

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/httperr"
)

// Options is one parsed, canonical rendition request. Width and Height already
// include dpr; Format is resolved (auto=format applied); zero values mean
// "not asked" (Format "" keeps the source's format where it can be served).
type Options struct {
	Width, Height  int
	Fit            imaging.Fit
	Gravity        imaging.Gravity
	FocalX, FocalY float64
	// Aspect is ar (width / height) when neither side was given: it needs the
	// original's size, and is resolved into a box by renderOptions.
	Aspect      float64
	Quality     int
	Format      imaging.Format
	Progressive bool
	Lossless    bool
	Blur        int // imgix's 0..2000
	Background  *imaging.Color
	// Upscale is set by renderOptions only: this render enlarges the original.
	Upscale bool
	// Negotiated says Format came from Accept (auto=format): answers Vary: Accept.
	Negotiated bool
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

var knownParams = []string{"w", "h", "dpr", "fit", "ar", "crop", "fp-x", "fp-y", "q", "fm", "auto", "lossless", "blur", "bg", "s"}

// ignoredParam names parameters that never change an image: imgix's
// libraries add ixlib for their own statistics, and links carry utm_*. They
// stay out of every key.
func ignoredParam(k string) bool { return k == "ixlib" || strings.HasPrefix(k, "utm_") }

// compressQuality is imgix's q for auto=compress when no q is given.
const compressQuality = 45

// ParseOptions turns a query into Options, with imgix's meanings. accept is
// the request's Accept header, used only with auto=format. It never panics
// on any input.
func ParseOptions(q url.Values, accept string, cfg ParseConfig) (Options, error) {
	for k, v := range q {
		if ignoredParam(k) {
			continue
		}
		if !slices.Contains(knownParams, k) {
			return Options{}, badf("unknown parameter %q (known: %s; ignored: ixlib, utm_*)", k, strings.Join(knownParams, ", "))
		}
		if len(v) > 1 && k != "auto" {
			return Options{}, badf("parameter %q given %d times", k, len(v))
		}
	}
	var o Options
	var err error
	dpr := 1.0
	if v := q.Get("dpr"); v != "" {
		var ok bool
		if dpr, ok = decimal(v); !ok || dpr < 1 || dpr > 5 {
			return Options{}, badf("dpr must be a plain decimal number from 1 to 5 (such as 2 or 1.5), not %q", v)
		}
	}
	var w, h float64 // as asked, before dpr
	for _, p := range []struct {
		name string
		dst  *float64
	}{{"w", &w}, {"h", &h}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, ok := whole(v)
		if !ok || n < 1 {
			return Options{}, badf("%s must be a whole number of pixels from 1, in plain digits, not %q", p.name, v)
		}
		*p.dst = float64(n)
	}
	o.Fit = imaging.FitClip
	if v := q.Get("fit"); v != "" {
		o.Fit = imaging.Fit(v)
		if !slices.Contains(imaging.Fits, o.Fit) {
			return Options{}, badf("fit must be clip, max, crop, min, fill, fillmax or scale, not %q", v)
		}
	}
	if v := q.Get("ar"); v != "" {
		ar, err := parseAspect(v)
		if err != nil {
			return Options{}, err
		}
		// imgix: ar works with the cropping and padding fits, and only one
		// side given (w and h already fix the aspect).
		if o.Fit.Crops() || o.Fit.Pads() {
			switch {
			case w > 0 && h == 0:
				h = math.Max(1, math.Round(w/ar))
			case h > 0 && w == 0:
				w = math.Max(1, math.Round(h*ar))
			case w == 0 && h == 0:
				o.Aspect = ar
			}
		}
	}
	// Like imgix, crop and the focal point only mean something where they
	// apply; elsewhere they are ignored (and kept out of the key).
	if o.Fit.Crops() {
		if o.Gravity, o.FocalX, o.FocalY, err = parseCrop(q); err != nil {
			return Options{}, err
		}
	}
	o.Width, o.Height = boundBox(int(math.Round(w*dpr)), int(math.Round(h*dpr)), cfg.MaxOutput)
	if v := q.Get("q"); v != "" {
		var ok bool
		if o.Quality, ok = whole(v); !ok || o.Quality < 1 || o.Quality > 100 {
			return Options{}, badf("q must be a whole number from 1 to 100, in plain digits, not %q", v)
		}
	}
	switch v := q.Get("fm"); v {
	case "":
	case "webp":
		o.Format = imaging.WebP
	case "jpg", "jpeg":
		o.Format = imaging.JPEG
	case "pjpg":
		o.Format, o.Progressive = imaging.JPEG, true
	case "png":
		o.Format = imaging.PNG
	case "avif":
		o.Format = imaging.AVIF
	case "json":
		// imgix's spelling for what is known of the image: no pixels, so
		// no other parameter counts (and none makes a new key).
		return Options{Format: FormatJSON}, nil
	default:
		return Options{}, badf("fm must be webp, jpg, pjpg, png, avif or json, not %q", v)
	}
	// auto is a comma-separated list, and may be repeated (auto=format&auto=compress).
	for _, a := range autoValues(q) {
		switch a {
		case "":
		case "format":
			o.Format, o.Progressive, o.Negotiated = NegotiateFormat(accept, cfg.AutoAVIF), false, true
		case "compress":
			if q.Get("q") == "" {
				o.Quality = compressQuality
			}
		case "enhance", "redeye": // imgix's photo corrections: not done here, ignored
		default:
			return Options{}, badf("auto must be a list of format, compress, enhance, redeye, not %q", a)
		}
	}
	if v := q.Get("lossless"); v != "" {
		switch v {
		case "1", "true":
			o.Lossless = true
		case "0", "false":
		default:
			return Options{}, badf("lossless must be 1, 0, true or false, not %q", v)
		}
	}
	if v := q.Get("blur"); v != "" {
		var ok bool
		if o.Blur, ok = whole(v); !ok || o.Blur > 2000 {
			return Options{}, badf("blur must be a whole number from 0 to 2000, in plain digits, not %q", v)
		}
	}
	if v := q.Get("bg"); v != "" {
		c, err := parseColor(v)
		if err != nil {
			return Options{}, err
		}
		o.Background = &c
	}
	return o, nil
}

// decimal reads a plain decimal number: digits with at most one point
// ("2", "1.5", ".5"), nothing strconv also takes (signs, exponents, hex
// floats such as 0x1p1, Inf, NaN, underscores).
func decimal(v string) (float64, bool) {
	if v == "" || len(v) > 24 || strings.Count(v, ".") > 1 || v == "." || strings.Trim(v, "0123456789.") != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// whole reads a plain whole number: digits only, at most 9 of them.
func whole(v string) (int, bool) {
	if v == "" || len(v) > 9 || strings.Trim(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
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
// face detector: faces is its attention crop; edges is its entropy crop.
// Positions become a focal point at the edge they name; focalpoint's comes
// from fp-x and fp-y.
func parseCrop(q url.Values) (g imaging.Gravity, fx, fy float64, err error) {
	fx, fy = 0.5, 0.5
	positioned := false
	for _, c := range strings.Split(q.Get("crop"), ",") {
		var smart imaging.Gravity
		switch c {
		case "", "center":
		case "faces", "attention":
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

// parseColor reads imgix's hex colours: RGB, ARGB, RRGGBB or AARRGGBB.
func parseColor(s string) (imaging.Color, error) {
	bad := badf("bg must be a hex colour (RGB, ARGB, RRGGBB or AARRGGBB), not %q", s)
	if len(s) == 3 || len(s) == 4 {
		var long strings.Builder
		for _, r := range s {
			long.WriteString(strings.Repeat(string(r), 2))
		}
		s = long.String()
	}
	if len(s) == 6 {
		s = "ff" + s
	}
	if len(s) != 8 {
		return imaging.Color{}, bad
	}
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return imaging.Color{}, bad
	}
	return imaging.Color{A: uint8(n >> 24), R: uint8(n >> 16), G: uint8(n >> 8), B: uint8(n)}, nil
}

// String is the canonical form: sorted, defaults applied, dpr folded into w and
// h, format resolved. It is the variant's cache key and part of its ETag.
func (o Options) String() string {
	v := url.Values{}
	if o.Width > 0 {
		v.Set("w", strconv.Itoa(o.Width))
	}
	if o.Height > 0 {
		v.Set("h", strconv.Itoa(o.Height))
	}
	v.Set("fit", string(o.Fit))
	if o.Gravity != "" {
		v.Set("crop", string(o.Gravity))
	}
	if o.Gravity == imaging.GravityFocal {
		v.Set("fp-x", strconv.FormatFloat(o.FocalX, 'f', -1, 64))
		v.Set("fp-y", strconv.FormatFloat(o.FocalY, 'f', -1, 64))
	}
	if o.Aspect > 0 {
		v.Set("ar", strconv.FormatFloat(o.Aspect, 'f', -1, 64)+":1")
	}
	if o.Quality > 0 {
		v.Set("q", strconv.Itoa(o.Quality))
	}
	if o.Format != "" {
		fm := string(o.Format)
		if o.Progressive {
			fm = "pjpg"
		}
		v.Set("fm", fm)
	}
	if o.Lossless {
		v.Set("lossless", "1")
	}
	if o.Blur > 0 {
		v.Set("blur", strconv.Itoa(o.Blur))
	}
	if c := o.Background; c != nil {
		v.Set("bg", fmt.Sprintf("%02x%02x%02x%02x", c.A, c.R, c.G, c.B))
	}
	if o.Upscale {
		v.Set("up", "1") // render keys only
	}
	return v.Encode() // url.Values.Encode sorts by key
}

var errBadSignature = httperr.New(http.StatusForbidden, "signature does not match")
