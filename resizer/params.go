package resizer

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/image/colornames"

	"github.com/imgorigin/imgorigin/imaging"
)

// param is one imgix parameter: its names, how its value is read into
// Options, and how the options write it back in canonical form. The table
// of them (params) is the whole URL API: the parser, the canonical form
// (the variant key and ETag), the unsigned ceiling and README's table all
// come from it, so a new parameter is one entry and its test.
type param struct {
	name    string
	aliases []string
	// values and does are README's columns.
	values, does string
	// read parses v into o. Parameters that depend on others (crop on fit,
	// ar on w and h) read into o's scratch fields; settle resolves them.
	read func(o *Options, v string) error
	// write is o's canonical value of the parameter; "" when it changes
	// nothing (its default, or folded into another, as dpr into w and h).
	write func(o Options) string
	// unsigned, when set, bounds o for a request without a signature.
	unsigned func(o *Options, u UnsignedLimits)
}

// paramsByName finds an entry by its name or an alias.
var paramsByName = func() map[string]*param {
	m := map[string]*param{}
	for i := range params {
		p := &params[i]
		for _, n := range append([]string{p.name}, p.aliases...) {
			if m[n] != nil {
				panic("resizer: parameter " + n + " twice in the table")
			}
			m[n] = p
		}
	}
	return m
}()

// asksBeyond reports whether o asks anything of the table but the
// parameters named: whether any other writes a value.
func (o Options) asksBeyond(names ...string) bool {
	for _, p := range params {
		if !slices.Contains(names, p.name) && p.write(o) != "" {
			return true
		}
	}
	return false
}

// noBase64 are the parameters imgix takes no base64 variant of.
var noBase64 = []string{"auto", "ch"}

// ignoredParam names parameters that never change an image: imgix's
// libraries add ixlib for their own statistics, links carry utm_*, and s is
// the signature. They stay out of every key, and are not "ignored" in the
// sense of Ignored (an unknown parameter).
func ignoredParam(k string) bool { return k == "ixlib" || k == "s" || strings.HasPrefix(k, "utm_") }

// normalize spells a query with the table's names: aliases become their
// parameter's name and base64 variants (name64, URL-safe, unpadded) their
// decoded value. Parameters the table lacks are dropped and listed in
// unknown, as imgix ignores them. A parameter given twice (also under two
// names) is refused, except auto, which may repeat.
func normalize(q url.Values) (out url.Values, unknown []string, err error) {
	out = make(url.Values, len(q))
	for k, vs := range q {
		if ignoredParam(k) {
			continue
		}
		name, encoded := k, false
		p := paramsByName[name]
		if p == nil && strings.HasSuffix(k, "64") {
			name, encoded = strings.TrimSuffix(k, "64"), true
			p = paramsByName[name]
			if p != nil && slices.Contains(noBase64, p.name) {
				p = nil
			}
		}
		if p == nil {
			unknown = append(unknown, k)
			continue
		}
		if encoded {
			decoded := make([]string, len(vs))
			for i, v := range vs {
				b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
				if err != nil {
					return nil, nil, badf("%s must be URL-safe base64 (RFC 4648) without padding, not %q", k, v)
				}
				decoded[i] = string(b)
			}
			vs = decoded
		}
		if out.Has(p.name) && p.name != "auto" {
			return nil, nil, badf("parameter %q given twice (as %s and another of its names)", p.name, k)
		}
		if len(vs) > 1 && p.name != "auto" {
			return nil, nil, badf("parameter %q given %d times", k, len(vs))
		}
		out[p.name] = append(out[p.name], vs...)
	}
	slices.Sort(unknown)
	return out, unknown, nil
}

// Value readers: each accepts exactly what its README row says, nothing
// strconv also takes (signs where none belong, exponents, hex, NaN).

// decimal reads a plain decimal number: digits with at most one point
// ("2", "1.5", ".5").
func decimal(v string) (float64, bool) {
	if v == "" || len(v) > 24 || strings.Count(v, ".") > 1 || v == "." || strings.Trim(v, "0123456789.") != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// signedDecimal is decimal with an optional leading minus.
func signedDecimal(v string) (float64, bool) {
	f, ok := decimal(strings.TrimPrefix(v, "-"))
	if strings.HasPrefix(v, "-") {
		f = -f
	}
	return f, ok
}

// whole reads a plain whole number: digits only, at most 9 of them.
func whole(v string) (int, bool) {
	if v == "" || len(v) > 9 || strings.Trim(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// integer is whole with an optional leading minus.
func integer(v string) (int, bool) {
	n, ok := whole(strings.TrimPrefix(v, "-"))
	if strings.HasPrefix(v, "-") {
		n = -n
	}
	return n, ok
}

// boolean reads imgix's booleans.
func boolean(v string) (bool, bool) {
	switch v {
	case "1", "true":
		return true, true
	case "0", "false":
		return false, true
	}
	return false, false
}

// parseColor reads imgix's colours: hex RGB, ARGB, RRGGBB or AARRGGBB, or a
// CSS colour keyword (red, lightsteelblue...).
func parseColor(name, s string) (imaging.Color, error) {
	if c, ok := colornames.Map[strings.ToLower(s)]; ok {
		return imaging.Color{R: c.R, G: c.G, B: c.B, A: 255}, nil
	}
	if strings.EqualFold(s, "transparent") {
		return imaging.Color{}, nil
	}
	bad := badf("%s must be a hex colour (RGB, ARGB, RRGGBB or AARRGGBB) or a CSS colour name, not %q", name, s)
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

// hexColor writes a colour canonically, AARRGGBB.
func hexColor(c imaging.Color) string { return fmt.Sprintf("%02x%02x%02x%02x", c.A, c.R, c.G, c.B) }

// Entry builders for the common kinds of value.

// intParam is an integer in lo..hi read into *field(o), 0 its default.
func intParam(name string, lo, hi int, does string, field func(*Options) *int) param {
	return param{name: name, values: fmt.Sprintf("%d–%d", lo, hi), does: does,
		read: func(o *Options, v string) error {
			n, ok := integer(v)
			if !ok || n < lo || n > hi {
				return badf("%s must be a whole number from %d to %d, not %q", name, lo, hi, v)
			}
			*field(o) = n
			return nil
		},
		write: func(o Options) string { return itoaUnlessZero(*field(&o)) },
	}
}

// numberParam is a decimal number in lo..hi read into *field(o).
func numberParam(name string, lo, hi float64, does string, field func(*Options) *float64) param {
	return param{name: name, values: fmt.Sprintf("%g–%g", lo, hi), does: does,
		read: func(o *Options, v string) error {
			f, ok := signedDecimal(v)
			if !ok || f < lo || f > hi {
				return badf("%s must be a plain decimal number from %g to %g, not %q", name, lo, hi, v)
			}
			*field(o) = f
			return nil
		},
		write: func(o Options) string { return ftoaUnlessZero(*field(&o)) },
	}
}

// boolParam is imgix's boolean read into *field(o), false its default.
func boolParam(name, does string, field func(*Options) *bool) param {
	return param{name: name, values: "`1`/`true`, `0`/`false`", does: does,
		read: func(o *Options, v string) error {
			b, ok := boolean(v)
			if !ok {
				return badf("%s must be 1, 0, true or false, not %q", name, v)
			}
			*field(o) = b
			return nil
		},
		write: func(o Options) string {
			if *field(&o) {
				return "1"
			}
			return ""
		},
	}
}

// colorParam is a colour read into *field(o), nil its default.
func colorParam(name, does string, field func(*Options) **imaging.Color) param {
	return param{name: name, values: "colour", does: does,
		read: func(o *Options, v string) error {
			c, err := parseColor(name, v)
			*field(o) = &c
			return err
		},
		write: func(o Options) string {
			if c := *field(&o); c != nil {
				return hexColor(*c)
			}
			return ""
		},
	}
}

// sidesParam is one side's width (0..limit pixels) of a frame.
func sidesParam(name string, limit int, does string, side func(*Options) *int) param {
	p := intParam(name, 0, limit, does, side)
	p.values = fmt.Sprintf("pixels, 0–%d", limit)
	return p
}

// choiceParam is one of values, read by set.
func choiceParam(name string, choices []string, does string, set func(o *Options, v string), get func(o Options) string) param {
	return param{name: name, values: "`" + strings.Join(choices, "`, `") + "`", does: does,
		read: func(o *Options, v string) error {
			if !slices.Contains(choices, v) {
				return badf("%s must be %s, not %q", name, orList(choices), v)
			}
			set(o, v)
			return nil
		},
		write: get,
	}
}

func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func itoaUnlessZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func ftoaUnlessZero(f float64) string {
	if f == 0 {
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// roundTo rounds f to a multiple of step, for the unsigned ceiling.
func roundTo(f, step float64) float64 { return math.Round(f/step) * step }

// optionalInt is a whole number in lo..hi whose default (def) applies
// only when on(o): read into a pointer that settle resolves.
func optionalInt(name string, lo, hi int, unit, does string, field func(*Options) **int, get func(Options) int, def int, on func(Options) bool) param {
	return param{name: name, values: unit, does: does,
		read: func(o *Options, v string) error {
			n, ok := whole(v)
			if !ok || n < lo || n > hi {
				return badf("%s must be a whole number from %d to %d, not %q", name, lo, hi, v)
			}
			*field(o) = &n
			return nil
		},
		write: func(o Options) string {
			if !on(o) || get(o) == def {
				return ""
			}
			return strconv.Itoa(get(o)) // 0 too, where the default is not
		},
	}
}
