package resizer

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/httperr"
)

func TestParseOptions(t *testing.T) {
	cfg := ParseConfig{MaxOutput: 4096}
	red := &imaging.Color{R: 255, A: 255}
	cases := []struct {
		query  string
		accept string
		want   Options
		err    string
	}{
		{query: "", want: Options{Fit: imaging.FitClip}},
		{query: "w=320", want: Options{Width: 320, Fit: imaging.FitClip}},
		{query: "w=320&h=200&dpr=2", want: Options{Width: 640, Height: 400, Fit: imaging.FitClip}},
		{query: "w=333&dpr=1.5", want: Options{Width: 500, Fit: imaging.FitClip}},
		{query: "w=100&h=100&fit=crop", want: Options{Width: 100, Height: 100, Fit: imaging.FitCrop, Gravity: imaging.GravityCenter}},
		{query: "w=100&h=100&fit=crop&crop=entropy", want: Options{Width: 100, Height: 100, Fit: imaging.FitCrop, Gravity: imaging.GravityEntropy}},
		{query: "fit=crop&crop=focalpoint&fp-x=0.25&fp-y=1", want: Options{Fit: imaging.FitCrop, Gravity: imaging.GravityFocal, FocalX: 0.25, FocalY: 1}},
		{query: "fit=crop&crop=focalpoint", want: Options{Fit: imaging.FitCrop, Gravity: imaging.GravityFocal, FocalX: 0.5, FocalY: 0.5}},
		{query: "w=100&h=100&fit=crop&crop=faces", want: Options{Width: 100, Height: 100, Fit: imaging.FitCrop, Gravity: imaging.GravityFaces}},
		{query: "w=128&h=128&fit=facearea&facepad=1.5&faceindex=2", want: Options{Width: 128, Height: 128, Fit: imaging.FitCrop, Gravity: imaging.GravityCenter, FaceArea: true, FacePad: 1.5, FaceIndex: 2}},
		{query: "fm=json&faces=1", want: Options{Format: FormatJSON, ListFaces: true}},
		{query: "w=100&h=100&fit=min&crop=edges", want: Options{Width: 100, Height: 100, Fit: imaging.FitMin, Gravity: imaging.GravityEntropy}},
		{query: "w=100&h=100&fit=crop&crop=top,left", want: Options{Width: 100, Height: 100, Fit: imaging.FitCrop, Gravity: imaging.GravityFocal, FocalX: 0, FocalY: 0}},
		{query: "w=100&h=100&fit=crop&crop=faces,bottom", want: Options{Width: 100, Height: 100, Fit: imaging.FitCrop, Gravity: imaging.GravityFaces}},
		{query: "w=100&crop=entropy&fp-x=0.3", want: Options{Width: 100, Fit: imaging.FitClip}}, // ignored without fit=crop, as imgix does
		{query: "w=640&ar=16:9&fit=crop", want: Options{Width: 640, Height: 360, Fit: imaging.FitCrop, Gravity: imaging.GravityCenter}},
		{query: "h=100&ar=1.5:1&fit=fill&dpr=2", want: Options{Width: 300, Height: 200, Fit: imaging.FitFill}},
		{query: "ar=4:3&fit=crop", want: Options{Fit: imaging.FitCrop, Gravity: imaging.GravityCenter, Aspect: 4.0 / 3}},
		{query: "w=640&ar=16:9", want: Options{Width: 640, Fit: imaging.FitClip}}, // ar needs a cropping or padding fit
		{query: "w=200&h=100&fit=fillmax", want: Options{Width: 200, Height: 100, Fit: imaging.FitFillMax}},
		{query: "w=320&dpr=5", want: Options{Width: 1600, Fit: imaging.FitClip}},
		{query: "w=4097", want: Options{Width: 4096, Fit: imaging.FitClip}},
		{query: "w=3000&h=1500&dpr=2", want: Options{Width: 4096, Height: 2048, Fit: imaging.FitClip}},
		{query: "w=320&ixlib=js-3.8.0&utm_source=x&utm_campaign=y", want: Options{Width: 320, Fit: imaging.FitClip}},
		{query: "auto=compress", want: Options{Fit: imaging.FitClip, Quality: 45}},
		{query: "auto=compress&q=70", want: Options{Fit: imaging.FitClip, Quality: 70}},
		{query: "auto=format,compress", accept: "image/webp", want: Options{Fit: imaging.FitClip, Quality: 45, Format: imaging.WebP, Negotiated: true}},
		{query: "auto=format&auto=compress", accept: "image/webp", want: Options{Fit: imaging.FitClip, Quality: 45, Format: imaging.WebP, Negotiated: true}},
		{query: "auto=enhance", want: Options{Fit: imaging.FitClip}},
		{query: "lossless=1&fm=webp", want: Options{Fit: imaging.FitClip, Format: imaging.WebP, Lossless: true}},
		{query: "lossless=false", want: Options{Fit: imaging.FitClip}},
		{query: "blur=200", want: Options{Fit: imaging.FitClip, Blur: 200}},
		{query: "fit=fill&bg=f00", want: Options{Fit: imaging.FitFill, Background: red}},
		{query: "fit=fill&bg=ffff0000", want: Options{Fit: imaging.FitFill, Background: red}},
		{query: "fit=fill&bg=80ff0000", want: Options{Fit: imaging.FitFill, Background: &imaging.Color{R: 255, A: 0x80}}},
		{query: "q=55&fm=pjpg", want: Options{Fit: imaging.FitClip, Quality: 55, Format: imaging.JPEG}},
		{query: "fm=jpg&jpg-progressive=false", want: Options{Fit: imaging.FitClip, Format: imaging.JPEG, Baseline: true}},
		{query: "fm=jpg&chromasub=422", want: Options{Fit: imaging.FitClip, Format: imaging.JPEG, Chroma: 444}},
		{query: "q=0", want: Options{Fit: imaging.FitClip}},
		{query: "width=100&height=50", want: Options{Width: 100, Height: 50, Fit: imaging.FitClip}},
		{query: "w64=MTAw", want: Options{Width: 100, Fit: imaging.FitClip}},
		{query: "w=0.5&dpr=0.75", want: Options{WidthFrac: 0.5, Fit: imaging.FitClip}},
		{query: "w=100&dpr=0.75", want: Options{Width: 75, Fit: imaging.FitClip}},
		{query: "w=320&v=3&foo=bar", want: Options{Width: 320, Fit: imaging.FitClip}}, // unknown: ignored, as imgix does
		{query: "fit=fill&bg=red", want: Options{Fit: imaging.FitFill, Background: red}},
		{query: "w=200&h=100&fit=crop&max-w=150&min-h=60&dpr=2", want: Options{Width: 400, Height: 200, MaxWidth: 300, MinHeight: 120, Fit: imaging.FitCrop, Gravity: imaging.GravityCenter}},
		{query: "w=200&max-w=150", want: Options{Width: 200, Fit: imaging.FitClip}}, // bounds belong to cropping fits
		{query: "fit=crop&crop=focalpoint&fp-z=2", want: Options{Fit: imaging.FitCrop, Gravity: imaging.GravityFocal, FocalX: 0.5, FocalY: 0.5, Zoom: 2}},
		{query: "fit=crop&fp-z=2", want: Options{Fit: imaging.FitCrop, Gravity: imaging.GravityCenter}},
		{query: "or=90&flip=hv&rot=30&rot-type=pivot", want: Options{Fit: imaging.FitClip, Orient: 6, Effects: imaging.Effects{FlipH: true, FlipV: true, Rotate: 30, Pivot: true}}},
		{query: "orient=0", want: Options{Fit: imaging.FitClip, Orient: 1}},
		{query: "bri=-20&con=30&exp=5&gam=10&high=-40&shad=50&sat=-100&vib=20&hue=180&sharp=12.5&usm=40&usmrad=3&invert=1", want: Options{Fit: imaging.FitClip, Effects: imaging.Effects{
			Brightness: -20, Contrast: 30, Exposure: 5, Gamma: 10, Highlights: -40, Shadows: 50, Saturation: -100, Vibrance: 20, Hue: 180, Sharpen: 12.5, Unsharp: 40, UnsharpRadius: 3, Invert: true}}},
		{query: "usmrad=3", want: Options{Fit: imaging.FitClip}}, // the radius of no mask
		{query: "sepia=80&mono=80ff0000&px=10", want: Options{Fit: imaging.FitClip, Effects: imaging.Effects{Sepia: 80, Mono: &imaging.Color{R: 255, A: 0x80}, Pixelate: 10}}},
		{query: "duotone=000080,fa8072&duotone-alpha=50", want: Options{Fit: imaging.FitClip, Effects: imaging.Effects{Duotone: &[2]imaging.Color{{B: 0x80, A: 255}, {R: 0xfa, G: 0x80, B: 0x72, A: 255}}, DuotoneAlpha: 50}}},
		{query: "duotone=black,white", want: Options{Fit: imaging.FitClip, Effects: imaging.Effects{Duotone: &[2]imaging.Color{{A: 255}, {R: 255, G: 255, B: 255, A: 255}}, DuotoneAlpha: 100}}},
		{query: "pad=10&pad-left=0&border=3,ff0000&border-bottom=6", want: Options{Fit: imaging.FitClip, Frame: imaging.Frame{Pad: imaging.Sides{Top: 10, Right: 10, Bottom: 10},
			Border: imaging.Sides{Top: 3, Right: 3, Bottom: 6, Left: 3}, BorderColor: imaging.Color{R: 255, A: 255}}}},
		{query: "fm=jpg", want: Options{Fit: imaging.FitClip, Format: imaging.JPEG}},
		{query: "fm=png", want: Options{Fit: imaging.FitClip, Format: imaging.PNG}},
		{query: "fm=avif", want: Options{Fit: imaging.FitClip, Format: imaging.AVIF}},
		{query: "auto=format", accept: "image/avif,image/webp,*/*", want: Options{Fit: imaging.FitClip, Format: imaging.WebP, Negotiated: true}},
		{query: "auto=format&fm=png", accept: "image/png,*/*", want: Options{Fit: imaging.FitClip, Format: imaging.JPEG, Negotiated: true}},
		{query: "w=0", err: "w must be"},
		{query: "w=-5", err: "w must be"},
		{query: "w=abc", err: "w must be"},
		{query: "dpr=5.5", err: "dpr must be"},
		{query: "dpr=0", err: "dpr must be"},
		{query: "w=1.5", err: "w must be"},
		{query: "w=9000", err: "w must be"},
		{query: "orient=9", err: "orient must be"},
		{query: "rot=360", err: "rot must be"},
		{query: "bri=101", err: "bri must be"},
		{query: "high=10", err: "high must be"},
		{query: "duotone=red", err: "duotone must be"},
		{query: "border=4", err: "border must be"},
		{query: "chromasub=411", err: "chromasub must be"},
		{query: "w64=!!", err: "base64"},
		{query: "w=100&width=200", err: "given twice"},
		{query: "dpr=NaN", err: "dpr must be"},
		{query: "fit=stretch", err: "fit must be"},
		{query: "fit=crop&crop=middle", err: "crop must be"},
		{query: "fit=crop&ar=16", err: "ar must be"},
		{query: "fit=crop&ar=0:1", err: "ar must be"},
		{query: "lossless=yes", err: "lossless must be"},
		{query: "blur=2001", err: "blur must be"},
		{query: "blur=-1", err: "blur must be"},
		{query: "q=50&q=60", err: "given 2 times"},
		{query: "fit=crop&crop=focalpoint&fp-y=1.5", err: "fp-y must be"},
		{query: "q=-1", err: "q must be"},
		{query: "q=101", err: "q must be"},
		{query: "fm=gif", err: "fm must be"},
		{query: "auto=sharpen", err: "auto must be"},
		{query: "bg=reddish", err: "bg must be"},
		{query: "bg=12345", err: "bg must be"},
		{query: "w=100&w=200", err: "given 2 times"},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		got, err := ParseOptions(q, c.accept, cfg)
		if c.err != "" {
			var he *httperr.Error
			if !errors.As(err, &he) || he.Status != 400 || !strings.Contains(he.Msg, c.err) {
				t.Errorf("%q: err = %v, want a 400 containing %q", c.query, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.query, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.query, got, c.want)
		}
		// The canonical form parses back to the same options (dpr folded in).
		back, err := url.ParseQuery(got.String())
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseOptions(back, c.accept, cfg)
		again.Negotiated = got.Negotiated
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("%q: canonical %q parses to %+v, %v", c.query, got.String(), again, err)
		}
	}
}

// A value that is not the default is written, zero included: txt-pad=0
// (default 10) or mark-alpha=0 (default 100) must not become the default
// in the key.
func TestCanonicalFormKeepsZeroes(t *testing.T) {
	for query, want := range map[string]string{"w=320&txt=hi&txt-pad=0": "txt-pad=0", "w=320&mark=logo&mark-alpha=0&mark-pad=0": "mark-alpha=0&mark-pad=0"} {
		q, _ := url.ParseQuery(query)
		o, err := ParseOptions(q, "", ParseConfig{MaxOutput: 4096})
		if err != nil || !strings.Contains(o.String(), want) {
			t.Errorf("%s: canonical %q (%v), want it to hold %s", query, o.String(), err, want)
		}
	}
}

func TestCanonicalFormIgnoresOrderAndSpelling(t *testing.T) {
	parse := func(s string) string {
		q, _ := url.ParseQuery(s)
		o, err := ParseOptions(q, "", ParseConfig{MaxOutput: 4096})
		if err != nil {
			t.Fatal(err)
		}
		return o.String()
	}
	same := [][2]string{
		{"w=320&h=200&fit=crop", "fit=crop&h=200&w=320&crop=center"},
		{"w=160&dpr=2", "w=320"},
		{"fm=jpg", "fm=jpeg"},
		{"fit=fill&bg=f00", "bg=FFFF0000&fit=fill"},
		// Parameters that change nothing where they are make no new key.
		{"w=320", "w=320&mark-pad=3&mark-alpha=50&blend-mode=screen&txt-size=40&txt-color=f00"},
		{"w=320", "w=320&colors=3&prefix=x&duotone-alpha=40&usmrad=4&rot-type=pivot&grid-size=9&grid-colors=f00,0f0"},
		{"w=320", "w=320&fill-color=red&fill-gradient-cs=lch&trim-color=fff&trim-md=3&mask-bg=000&corner-radius=4"},
		{"w=320", "w=320&border-radius=9&border-stroke-size=2&min-w=10&max-h=20&fp-z=3&ch=width&dl=a.jpg&expires=99999999999"},
		{"w=320", "w=320&q=0&chromasub=420&jpg-progressive=1&cs=strip&iptc=block&nr=-20&auto=enhance&foo=bar"},
		{"w=320&txt=hi", "txt=hi&w=320&txt-size=12&txt-pad=10&txt-clip=end"},
		{"width=320", "w=320"},
	}
	for _, p := range same {
		if a, b := parse(p[0]), parse(p[1]); a != b {
			t.Errorf("%q -> %q but %q -> %q", p[0], a, p[1], b)
		}
	}
}

func TestLadder(t *testing.T) {
	for _, c := range []struct {
		query  string
		policy LadderPolicy
		want   string // the query parsed, or the error
		served string
	}{
		{"w=320", LadderSnap, "w=320", "w=320"},
		{"w=321", LadderSnap, "w=400", "w=400"},
		{"w=100&ixlib=js-3.8.0", LadderSnap, "ixlib=js-3.8.0&w=128", "w=128"},
		{"w=8192", LadderSnap, "w=2048", "w=2048"},
		{"w=1", LadderSnap, "w=16", "w=16"},
		{"h=1000", LadderSnap, "h=1080", "h=1080"},
		{"w=320&h=213", LadderSnap, "h=213&w=320", "w=320,h=213"}, // the long side is a rung
		{"w=300&h=200", LadderSnap, "h=213&w=320", "w=320,h=213"}, // 3:2 kept
		{"w=200&h=300&dpr=2", LadderSnap, "dpr=2&h=320&w=213", "w=213,h=320,dpr=2"},
		{"w=320&dpr=1.7", LadderSnap, "dpr=2&w=320", "w=320,dpr=2"},
		{"dpr=2.5", LadderSnap, "dpr=2.5", ""},
		{"w=abc", LadderSnap, "w=abc", "w=abc"}, // left for ParseOptions to refuse
		{"w=320&h=640&dpr=2", LadderReject, "dpr=2&h=640&w=320", "w=320,h=640,dpr=2"},
		{"w=321", LadderReject, "nearest allowed: 320", ""},
		{"h=1000", LadderReject, "nearest allowed: 960", ""},
		{"w=320&h=213", LadderReject, "nearest allowed: 200", ""},
		{"w=5000", LadderReject, "nearest allowed: 2048", ""},
		{"w=320&dpr=1.7", LadderReject, "multiple of 0.5", ""},
	} {
		q, _ := url.ParseQuery(c.query)
		got, served, err := onLadder(q, DefaultLadder, c.policy)
		switch {
		case err != nil:
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %q: %v, want %q", c.policy, c.query, err, c.want)
			}
		case got.Encode() != c.want || served != c.served:
			t.Errorf("%s %q: %q served %q, want %q served %q", c.policy, c.query, got.Encode(), served, c.want, c.served)
		}
	}
}

// FuzzParseOptions checks, for any query, Accept and original size, that
// parsing never panics, canonical forms round-trip, and the unsigned ceiling
// holds: no side past MaxSide, nothing past the original, render options a
// fixed point (the cache key of what is rendered).
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{"w=320", "w=1&h=1&fit=crop&crop=focalpoint&fp-x=0&fp-y=1", "bg=abcd&fit=fill", "dpr=3.999&w=1000",
		"auto=format&q=1", "w=2048&h=2048&dpr=2&fit=scale&fm=avif&q=100", "w=640&fm=png&bg=80ff0000", "h=4096&fit=fill&bg=fff",
		"ar=16:9&fit=crop", "ar=1:3&fit=fill", "fit=fillmax&w=3000&h=100", "crop=faces,top&fit=min&w=10&h=10", "blur=2000&lossless=1&fm=webp&w=640",
		"auto=format,compress&auto=compress&ixlib=js-3.8.0&dpr=5&w=2048"} {
		f.Add(s, "image/avif,image/webp", uint16(2560), uint16(1920), false)
	}
	cfg := DefaultConfig()
	cfg.AutoAVIF = true
	f.Fuzz(func(t *testing.T, query, accept string, sw, sh uint16, alpha bool) {
		q, err := url.ParseQuery(query)
		if err != nil || sw == 0 || sh == 0 {
			return
		}
		o, err := ParseOptions(q, accept, ParseConfig{MaxOutput: 4096, AutoAVIF: true})
		if err != nil {
			return
		}
		if o.Width > 4096 || o.Height > 4096 || o.Width < 0 || o.Height < 0 {
			t.Fatalf("%q gave out-of-range size %dx%d", query, o.Width, o.Height)
		}
		back, _ := url.ParseQuery(o.String())
		again, err := ParseOptions(back, accept, ParseConfig{MaxOutput: 4096, AutoAVIF: true})
		if err != nil || again.String() != o.String() {
			t.Fatalf("canonical %q does not round-trip: %q, %v", o.String(), again.String(), err)
		}
		u := cfg.Unsigned.quantize(o)
		if u.Width > cfg.Unsigned.MaxSide || u.Height > cfg.Unsigned.MaxSide || u.Quality > cfg.Unsigned.MaxQuality {
			t.Fatalf("%q unsigned: %dx%d q%d, over the ceiling", query, u.Width, u.Height, u.Quality)
		}
		h := imaging.Header{Format: imaging.WebP, Width: int(sw), Height: int(sh), Pages: 1, Orientation: 1, Alpha: alpha}
		r, err := cfg.renderOptions(u, h, false)
		if err != nil {
			return
		}
		if r.Width > int(sw) || r.Height > int(sh) {
			t.Fatalf("%q unsigned on %dx%d renders a %dx%d box", query, sw, sh, r.Width, r.Height)
		}
		if again, err := cfg.renderOptions(r, h, false); err != nil || again.String() != r.String() {
			t.Fatalf("render options of %q are not a fixed point: %q then %q (%v)", query, r.String(), again.String(), err)
		}
	})
}
