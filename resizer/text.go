package resizer

import (
	"slices"
	"strings"

	"github.com/imgorigin/imgorigin/imaging"
)

// TextSpec is txt and its options as asked.
type TextSpec struct {
	Text, Font, Align, Clip string
	Size, Pad, Width        int
	Lead, Track, Line       int
	Color, LineColor        *imaging.Color
	Fit                     bool
	Shadow                  float64
	X, Y                    *int
	pad, size               *int
}

// settle applies txt's defaults, or drops its options without txt.
func (s *TextSpec) settle() {
	if s.Text == "" {
		*s = TextSpec{}
		return
	}
	s.Size, s.Pad = 12, 10
	if s.size != nil && *s.size > 0 { // 0: the default
		s.Size = *s.size
	}
	if s.pad != nil {
		s.Pad = *s.pad
	}
	if s.Clip == "" {
		s.Clip = "end"
	}
	if s.Line == 0 {
		s.LineColor = nil
	}
	s.size, s.pad = nil, nil
}

// text is the imaging's text of s.
func (s TextSpec) text() *imaging.Text {
	if s.Text == "" {
		return nil
	}
	t := &imaging.Text{Text: s.Text, Font: s.Font, Size: s.Size, Color: imaging.Color{A: 255}, Pad: s.Pad, X: s.X, Y: s.Y, Width: s.Width,
		Lead: s.Lead, Track: s.Track, Fit: s.Fit, Line: s.Line, LineColor: imaging.White, Shadow: s.Shadow}
	if s.Color != nil {
		t.Color = *s.Color
	}
	if s.LineColor != nil {
		t.LineColor = *s.LineColor
	}
	align(s.Align, &t.AlignX, &t.AlignY)
	for _, c := range strings.Split(s.Clip, ",") {
		if c == "ellipsis" {
			t.Ellipsis = true
		} else {
			t.Clip = c
		}
	}
	return t
}

// textParams are txt's entries in the table.
func textParams() []param {
	spec := func(o *Options) *TextSpec { return &o.Text }
	on := func(o Options) bool { return o.Text.Text != "" }
	ps := []param{
		{name: "txt", values: "text (UTF-8; `txt64` for base64)", does: "draws the text on the output, in DejaVu Sans unless `txt-font` names another installed font",
			read: func(o *Options, v string) error {
				if len(v) > 1000 {
					return badf("txt must be at most 1000 bytes, not %d", len(v))
				}
				o.Text.Text = v
				return nil
			},
			write: func(o Options) string { return o.Text.Text },
		},
		{name: "txt-font", values: "a font: family and style (`DejaVu Sans Bold`, `DejaVu Serif,Italic`)", does: "the text's font, found by fontconfig among the installed ones (the nearest if it is not installed)",
			read: func(o *Options, v string) error {
				if v == "" || len(v) > 100 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,-") != "" {
					return badf("txt-font must be letters, digits, spaces, commas or dashes, not %q", v)
				}
				o.Text.Font = strings.NewReplacer(",", " ", "-", " ").Replace(v)
				return nil
			},
			write: func(o Options) string { return o.Text.Font },
		},
		optionalInt("txt-size", 0, 1000, "pixels", "the text's size (default 12)", func(o *Options) **int { return &o.Text.size }, func(o Options) int { return o.Text.Size }, 12, on),
		optionalInt("txt-pad", 0, 8192, "pixels", "how far the text lies from the edges it is aligned to (default 10)", func(o *Options) **int { return &o.Text.pad }, func(o Options) int { return o.Text.Pad }, 10, on),
		aka(colorParam("txt-color", "the text's colour (default black)", func(o *Options) **imaging.Color { return &o.Text.Color }), "tc", "txt-clr", "txtclr", "txtcolor"),
		alignParam("txt-align", "where the text lies (default top left)", func(o *Options) *string { return &o.Text.Align }),
		{name: "txt-clip", values: "list of `start`, `middle`, `end`, `ellipsis`", does: "what of a line too long for the output is cut (default `end`), with `…` if `ellipsis`",
			read: func(o *Options, v string) error {
				for _, c := range strings.Split(v, ",") {
					if !slices.Contains([]string{"start", "middle", "end", "ellipsis"}, c) {
						return badf("txt-clip must be a list of start, middle, end, ellipsis, not %q", v)
					}
				}
				o.Text.Clip = v
				return nil
			},
			write: func(o Options) string {
				if o.Text.Clip == "end" {
					return ""
				}
				return o.Text.Clip
			},
		},
		choiceParam("txt-fit", []string{"max"}, "`max`: the size shrinks (from `txt-size`) until the text fits the output", func(o *Options, _ string) { o.Text.Fit = true },
			func(o Options) string {
				if o.Text.Fit {
					return "max"
				}
				return ""
			}),
		intParam("txt-width", 0, 8192, "wraps the text at this width in pixels", func(o *Options) *int { return &spec(o).Width }),
		intParam("txt-lead", 0, 1000, "extra pixels between lines", func(o *Options) *int { return &spec(o).Lead }),
		intParam("txt-track", -4, 1000, "extra pixels between letters", func(o *Options) *int { return &spec(o).Track }),
		intParam("txt-line", 0, 100, "outlines the letters, this many pixels wide", func(o *Options) *int { return &spec(o).Line }),
		aka(colorParam("txt-line-color", "the outline's colour (default white)", func(o *Options) **imaging.Color { return &o.Text.LineColor }), "txt-line-clr", "txtlineclr", "txtlinecolor"),
		numberParam("txt-shad", 0, 10, "a soft shadow under the text, 10 most", func(o *Options) *float64 { return &spec(o).Shadow }),
		pointParam("txt-x", "where the text's left edge lies, in pixels (over the alignment)", func(o *Options) **int { return &o.Text.X }),
		pointParam("txt-y", "where the text's top edge lies, in pixels (over the alignment)", func(o *Options) **int { return &o.Text.Y }),
	}
	aliases := map[string][]string{"txt": {"t"}, "txt-align": {"ta", "txtalign"}, "txt-clip": {"tcl", "txtclip"}, "txt-fit": {"txtfit"},
		"txt-font": {"tf", "txtfont"}, "txt-lead": {"txtlead"}, "txt-line": {"tl", "txtline"}, "txt-pad": {"tp", "txtpad"},
		"txt-shad": {"tsh", "txtshad"}, "txt-size": {"tsz", "txtsize"}, "txt-track": {"tt", "txttrack"}, "txt-width": {"txtwidth"},
		"txt-x": {"txtx"}, "txt-y": {"txty"}}
	for i := range ps {
		if a, ok := aliases[ps[i].name]; ok {
			ps[i].aliases = a
		}
	}
	return ps
}
