package resizer

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/imgorigin/imgorigin/imaging"
)

// Options is one parsed, canonical rendition request. Width and Height already
// include dpr; Format is resolved (auto=format applied); zero values mean
// "not asked" (Format "" keeps the source's format where it can be served).
type Options struct {
	Width, Height  int
	Fit            imaging.Fit
	Gravity        imaging.Gravity
	FocalX, FocalY float64
	Quality        int
	Format         imaging.Format
	Progressive    bool
	Background     *imaging.Color
	// Negotiated says Format came from Accept (auto=format): answers Vary: Accept.
	Negotiated bool
}

// OptionsError is a request the resizer refuses with 400 and this message.
type OptionsError struct{ Msg string }

func (e *OptionsError) Error() string { return e.Msg }

func badf(format string, a ...any) error { return &OptionsError{Msg: fmt.Sprintf(format, a...)} }

// ParseConfig is what parsing needs to know of the resizer's configuration.
type ParseConfig struct {
	MaxOutput int  // largest width or height after dpr
	AutoAVIF  bool // auto=format may choose AVIF (slow to encode: off by default)
}

var knownParams = []string{"w", "h", "dpr", "fit", "crop", "fp-x", "fp-y", "q", "fm", "auto", "bg", "s"}

// ParseOptions turns a query into Options. accept is the request's Accept
// header, used only with auto=format. It never panics on any input.
func ParseOptions(q url.Values, accept string, cfg ParseConfig) (Options, error) {
	for k, v := range q {
		if !slices.Contains(knownParams, k) {
			return Options{}, badf("unknown parameter %q (known: %s)", k, strings.Join(knownParams, ", "))
		}
		if len(v) > 1 {
			return Options{}, badf("parameter %q given %d times", k, len(v))
		}
	}
	var o Options
	var err error
	dpr := 1.0
	if v := q.Get("dpr"); v != "" {
		if dpr, err = strconv.ParseFloat(v, 64); err != nil || math.IsNaN(dpr) || dpr < 1 || dpr > 4 {
			return Options{}, badf("dpr must be a number from 1 to 4, not %q", v)
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"w", &o.Width}, {"h", &o.Height}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Options{}, badf("%s must be a whole number of pixels from 1, not %q", p.name, v)
		}
		px := int(math.Round(float64(n) * dpr))
		if px > cfg.MaxOutput {
			return Options{}, badf("%s=%d at dpr %g is %d px, over the %d px maximum", p.name, n, dpr, px, cfg.MaxOutput)
		}
		*p.dst = px
	}
	o.Fit = imaging.FitClip
	if v := q.Get("fit"); v != "" {
		o.Fit = imaging.Fit(v)
		if !slices.Contains([]imaging.Fit{imaging.FitClip, imaging.FitMax, imaging.FitCrop, imaging.FitFill, imaging.FitScale}, o.Fit) {
			return Options{}, badf("fit must be clip, max, crop, fill or scale, not %q", v)
		}
	}
	if v := q.Get("crop"); v != "" {
		if o.Fit != imaging.FitCrop {
			return Options{}, badf("crop needs fit=crop")
		}
		o.Gravity = imaging.Gravity(v)
		if !slices.Contains([]imaging.Gravity{imaging.GravityCenter, imaging.GravityEntropy, imaging.GravityAttention, imaging.GravityFocal}, o.Gravity) {
			return Options{}, badf("crop must be center, entropy, attention or focalpoint, not %q", v)
		}
	}
	if o.Fit == imaging.FitCrop && o.Gravity == "" {
		o.Gravity = imaging.GravityCenter
	}
	for _, p := range []struct {
		name string
		dst  *float64
	}{{"fp-x", &o.FocalX}, {"fp-y", &o.FocalY}} {
		v := q.Get(p.name)
		if v == "" {
			*p.dst = 0.5
			continue
		}
		if o.Gravity != imaging.GravityFocal {
			return Options{}, badf("%s needs crop=focalpoint", p.name)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
			return Options{}, badf("%s must be a number from 0 to 1, not %q", p.name, v)
		}
		*p.dst = f
	}
	if o.Gravity != imaging.GravityFocal {
		o.FocalX, o.FocalY = 0, 0
	}
	if v := q.Get("q"); v != "" {
		if o.Quality, err = strconv.Atoi(v); err != nil || o.Quality < 1 || o.Quality > 100 {
			return Options{}, badf("q must be a whole number from 1 to 100, not %q", v)
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
	default:
		return Options{}, badf("fm must be webp, jpg, pjpg, png or avif, not %q", v)
	}
	switch v := q.Get("auto"); v {
	case "":
	case "format":
		o.Format, o.Progressive, o.Negotiated = NegotiateFormat(accept, cfg.AutoAVIF), false, true
	default:
		return Options{}, badf("auto must be format, not %q", v)
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
	if c := o.Background; c != nil {
		v.Set("bg", fmt.Sprintf("%02x%02x%02x%02x", c.A, c.R, c.G, c.B))
	}
	return v.Encode() // url.Values.Encode sorts by key
}

// CheckLadder enforces the size ladder on an unsigned request: w and h as
// asked (before dpr) must be rungs, and dpr a multiple of 0.5, so that
// arbitrary sizes cannot fill the CDN or burn our CPU.
func CheckLadder(q url.Values, ladder []int) error {
	for _, name := range []string{"w", "h"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, _ := strconv.Atoi(v) // already validated by ParseOptions
		if !slices.Contains(ladder, n) {
			return badf("%s=%d is not an allowed size without a signature; nearest allowed: %d", name, n, nearest(ladder, n))
		}
	}
	if v := q.Get("dpr"); v != "" {
		d, _ := strconv.ParseFloat(v, 64)
		if d*2 != math.Trunc(d*2) {
			return badf("dpr=%s is not allowed without a signature; use a multiple of 0.5", v)
		}
	}
	return nil
}

func nearest(ladder []int, n int) int {
	best := ladder[0]
	for _, r := range ladder {
		if abs(r-n) < abs(best-n) || abs(r-n) == abs(best-n) && r > best {
			best = r
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// DefaultLadder covers phone and desktop widths at 1x-3x.
var DefaultLadder = []int{16, 32, 48, 64, 96, 128, 160, 200, 240, 320, 400, 480, 640, 750, 828, 960, 1080, 1280, 1440, 1920, 2048}

// signedPayload is what a signature covers: the path and the query without s,
// sorted by key (url.Values.Encode), joined by "?".
func signedPayload(path string, q url.Values) string {
	c := url.Values{}
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "s" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		c[k] = q[k]
	}
	return path + "?" + c.Encode()
}

var errBadSignature = errors.New("signature does not match")
