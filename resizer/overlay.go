package resizer

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/storage"
)

// OverlaySpec is a watermark (mark) or a blend as asked: another original
// of the store, named by its key, or (a blend) a colour, and how it lies
// on the output.
type OverlaySpec struct {
	Key         string
	Color       *imaging.Color
	W, H        *measure
	Fit, Crop   string
	Scale       int
	Align       string
	Pad, Alpha  int
	X, Y        *int
	Tile        bool
	Rot         float64
	Mode        string
	Inherit     bool
	MinW, MinH  int
	base        string
	pad, alpha  *int
	fromColorOf bool
}

// blendModes are imgix's blend modes that libvips has.
var blendModes = map[string]vips.BlendMode{
	"normal": vips.BlendModeOver, "multiply": vips.BlendModeMultiply, "screen": vips.BlendModeScreen,
	"overlay": vips.BlendModeOverlay, "darken": vips.BlendModeDarken, "lighten": vips.BlendModeLighten,
	"dodge": vips.BlendModeColorDodge, "burn": vips.BlendModeColorBurn, "hardlight": vips.BlendModeHardLight,
	"softlight": vips.BlendModeSoftLight, "difference": vips.BlendModeDifference, "exclusion": vips.BlendModeExclusion,
}

// overlayParams are the table's entries of a mark ("mark", aliases with
// "m") or a blend ("blend", "b").
func overlayParams(name string, spec func(*Options) *OverlaySpec, aliases map[string][]string, blend bool) []param {
	what := "the watermark"
	if blend {
		what = "the blend"
	}
	p := func(suffix string) string {
		if suffix == "" {
			return name
		}
		return name + "-" + suffix
	}
	out := []param{
		{name: p(""), values: "a key of this store", does: "lays another original of the store on the output",
			read: func(o *Options, v string) error {
				if blend {
					if c, err := parseColor(name, v); err == nil {
						spec(o).Color = &c
						return nil
					}
				}
				spec(o).Key = strings.TrimPrefix(v, "/")
				return nil
			},
			write: func(o Options) string {
				s := spec(&o)
				if s.Color != nil && !s.fromColorOf {
					return hexColor(*s.Color)
				}
				return s.Key
			},
		},
		lengthParam(p("w"), what+"'s width: pixels, or a fraction of the output's", func(o *Options) **measure { return &spec(o).W }),
		lengthParam(p("h"), what+"'s height: pixels, or a fraction of the output's", func(o *Options) **measure { return &spec(o).H }),
		alignParam(p("align"), "where "+what+" lies (default bottom right for a mark, the centre for a blend)", func(o *Options) *string { return &spec(o).Align }),
		optionalInt(p("alpha"), 0, 100, "0–100", what+"'s opacity (default 100)", func(o *Options) **int { return &spec(o).alpha },
			func(o Options) int { return spec(&o).Alpha }, 100, func(o Options) bool { return spec(&o).active() }),
		optionalInt(p("pad"), 0, 8192, "pixels", "how far "+what+" lies from the edges it is aligned to", func(o *Options) **int { return &spec(o).pad },
			func(o Options) int { return spec(&o).Pad }, defaultPad(blend), func(o Options) bool { return spec(&o).active() }),
		pointParam(p("x"), "where "+what+"'s left edge lies, in pixels (over the alignment)", func(o *Options) **int { return &spec(o).X }),
		pointParam(p("y"), "where "+what+"'s top edge lies, in pixels (over the alignment)", func(o *Options) **int { return &spec(o).Y }),
	}
	if blend {
		out = append(out,
			param{name: p("color"), values: "colour", does: "a colour to blend instead of an image",
				read: func(o *Options, v string) error {
					c, err := parseColor(p("color"), v)
					spec(o).Color, spec(o).fromColorOf = &c, true
					return err
				},
				write: func(o Options) string {
					if s := spec(&o); s.fromColorOf && s.Color != nil {
						return hexColor(*s.Color)
					}
					return ""
				},
			},
			choiceParam(p("mode"), []string{"normal", "multiply", "screen", "overlay", "darken", "lighten", "dodge", "burn", "hardlight", "softlight", "difference", "exclusion"},
				"how the blend mixes with the output (default `overlay`)", func(o *Options, v string) { spec(o).Mode = v }, func(o Options) string {
					if s := spec(&o); s.active() && s.Mode != "overlay" {
						return s.Mode
					}
					return ""
				}),
			choiceParam(p("fit"), []string{"clip", "crop", "scale", "max", "clamp"}, "how the blend image goes into its box (default `clip`)",
				func(o *Options, v string) { spec(o).Fit = v }, func(o Options) string { return spec(&o).Fit }),
			param{name: p("crop"), values: "list of `top`, `bottom`, `left`, `right`, `faces`", does: "with `blend-fit=crop`: what of the blend image the crop keeps",
				read: func(o *Options, v string) error {
					for _, c := range strings.Split(v, ",") {
						if !slices.Contains([]string{"top", "bottom", "left", "right", "faces"}, c) {
							return badf("%s must be a list of top, bottom, left, right, faces, not %q", p("crop"), v)
						}
					}
					spec(o).Crop = v
					return nil
				},
				write: func(o Options) string { return spec(&o).Crop },
			},
			choiceParam(p("size"), []string{"inherit"}, "`inherit`: the blend image takes the output's size", func(o *Options, _ string) { spec(o).Inherit = true },
				func(o Options) string {
					if spec(&o).Inherit {
						return "inherit"
					}
					return ""
				}),
		)
	} else {
		out = append(out,
			param{name: p("base"), values: "a key prefix", does: "prefixed to `mark`'s key",
				read:  func(o *Options, v string) error { spec(o).base = strings.TrimPrefix(v, "/"); return nil },
				write: func(Options) string { return "" }, // in the key
			},
			choiceParam(p("fit"), []string{"clip", "crop", "fill", "max", "scale"}, "how the watermark goes into its box (default `clip`)",
				func(o *Options, v string) { spec(o).Fit = v }, func(o Options) string { return spec(&o).Fit }),
			intParam(p("scale"), 0, 100, "the watermark's width as a percentage of the output's, without `mark-w` or `mark-h`", func(o *Options) *int { return &spec(o).Scale }),
			choiceParam(p("tile"), []string{"grid"}, "repeats the watermark over the whole output", func(o *Options, _ string) { spec(o).Tile = true },
				func(o Options) string {
					if spec(&o).Tile {
						return "grid"
					}
					return ""
				}),
			numberParam(p("rot"), 0, 359, "turns the watermark clockwise, in degrees", func(o *Options) *float64 { return &spec(o).Rot }),
			intParam(p("if-min-width"), 0, 100000, "lays the watermark only on outputs at least this wide", func(o *Options) *int { return &spec(o).MinW }),
			intParam(p("if-min-height"), 0, 100000, "lays the watermark only on outputs at least this tall", func(o *Options) *int { return &spec(o).MinH }),
		)
	}
	for i := range out {
		out[i].aliases = aliases[out[i].name]
	}
	return out
}

// alignments place along one axis: 0 left or top, 0.5 centre, 1 right or
// bottom (-1: not this axis).
var alignments = map[string][2]float64{"top": {-1, 0}, "middle": {-1, 0.5}, "bottom": {-1, 1}, "left": {0, -1}, "center": {0.5, -1}, "right": {1, -1}}

// alignParam is a list of where something lies: top, middle, bottom,
// left, center, right.
func alignParam(name, does string, field func(*Options) *string) param {
	return param{name: name, values: "list of `top`, `middle`, `bottom`, `left`, `center`, `right`", does: does,
		read: func(o *Options, v string) error {
			for _, a := range strings.Split(v, ",") {
				if _, ok := alignments[a]; !ok {
					return badf("%s must be a list of top, middle, bottom, left, center, right, not %q", name, v)
				}
			}
			*field(o) = v
			return nil
		},
		write: func(o Options) string { return *field(&o) },
	}
}

// align sets x and y from an alignment list, each where it names one.
func align(v string, x, y *float64) {
	for _, a := range strings.Split(v, ",") {
		if at, ok := alignments[a]; ok {
			if at[0] >= 0 {
				*x = at[0]
			}
			if at[1] >= 0 {
				*y = at[1]
			}
		}
	}
}

func defaultPad(blend bool) int {
	if blend {
		return 0
	}
	return 5
}

func (s *OverlaySpec) active() bool { return s.Key != "" || s.Color != nil }

// settle applies the defaults and drops an overlay that is not asked.
func (s *OverlaySpec) settle(blend bool) {
	if s.base != "" && s.Key != "" {
		s.Key = s.base + s.Key
	}
	if !s.active() {
		*s = OverlaySpec{}
		return
	}
	s.Alpha, s.Pad = 100, defaultPad(blend)
	if s.alpha != nil {
		s.Alpha = *s.alpha
	}
	if s.pad != nil {
		s.Pad = *s.pad
	}
	if blend && s.Mode == "" {
		s.Mode = "overlay"
	}
	s.base, s.alpha, s.pad = "", nil, nil
}

// overlay is the imaging's overlay of s, src its image (nil for a colour).
func (s OverlaySpec) overlay(blend bool, src *original) *imaging.Overlay {
	o := &imaging.Overlay{Color: s.Color, Alpha: float64(s.Alpha) / 100, Pad: s.Pad, X: s.X, Y: s.Y, Tile: s.Tile, Rotate: s.Rot,
		Scale: float64(s.Scale) / 100, MinWidth: s.MinW, MinHeight: s.MinH, Mode: vips.BlendModeOver, AlignX: 1, AlignY: 1}
	if src != nil {
		o.Src, o.Header = src.data, src.header
	}
	if blend {
		o.Mode, o.AlignX, o.AlignY = blendModes[s.Mode], 0.5, 0.5
		if s.Inherit {
			o.Width, o.Height, o.Fit = imaging.Length{V: 1, Fraction: true}, imaging.Length{V: 1, Fraction: true}, imaging.FitScale
		}
	}
	align(s.Align, &o.AlignX, &o.AlignY)
	if s.W != nil {
		o.Width = imaging.Length{V: s.W.v, Fraction: s.W.kind == 'f'}
	}
	if s.H != nil {
		o.Height = imaging.Length{V: s.H.v, Fraction: s.H.kind == 'f'}
	}
	switch s.Fit {
	case "":
	case "clamp":
		o.Fit = imaging.FitClamp
	default:
		o.Fit = imaging.Fit(s.Fit)
	}
	if s.Crop != "" {
		o.Gravity, o.FocalX, o.FocalY = imaging.GravityCenter, 0.5, 0.5
		for _, c := range strings.Split(s.Crop, ",") {
			switch c {
			case "faces":
				o.Gravity = imaging.GravityAttention
			case "top", "bottom", "left", "right":
				o.Gravity = imaging.GravityFocal
				if c == "top" || c == "bottom" {
					o.FocalY = map[string]float64{"top": 0, "bottom": 1}[c]
				} else {
					o.FocalX = map[string]float64{"left": 0, "right": 1}[c]
				}
			}
		}
	}
	return o
}

// overlays reads the originals a mark and a blend name, and makes them
// the imaging's overlays.
func (h *Handler) overlays(ctx context.Context, opts Options) (blend, mark *imaging.Overlay, err error) {
	for _, o := range []struct {
		spec  OverlaySpec
		blend bool
		dst   **imaging.Overlay
	}{{opts.Blend, true, &blend}, {opts.Mark, false, &mark}} {
		if !o.spec.active() {
			continue
		}
		var src *original
		if o.spec.Key != "" && o.spec.Color == nil {
			if err := storage.ValidateKey(o.spec.Key); err != nil {
				return nil, nil, badf("%s: %v", map[bool]string{true: "blend", false: "mark"}[o.blend], err)
			}
			if src, err = h.original(ctx, o.spec.Key); errors.Is(err, storage.ErrNotFound) {
				return nil, nil, badf("%s %q: no such image in the store", map[bool]string{true: "blend", false: "mark"}[o.blend], o.spec.Key)
			} else if err != nil {
				return nil, nil, err
			}
		}
		*o.dst = o.spec.overlay(o.blend, src)
	}
	return blend, mark, nil
}

// pointParam is a whole number of pixels, given or not.
func pointParam(name, does string, field func(*Options) **int) param {
	return param{name: name, values: "pixels", does: does,
		read: func(o *Options, v string) error {
			n, ok := whole(v)
			if !ok || n > 100000 {
				return badf("%s must be a whole number of pixels, not %q", name, v)
			}
			*field(o) = &n
			return nil
		},
		write: func(o Options) string {
			if p := *field(&o); p != nil {
				return strconv.Itoa(*p)
			}
			return ""
		},
	}
}
