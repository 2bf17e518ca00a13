package resizer

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/internal/testnode"
)

// imgixSpec is what the tests read of imgix's parameter spec
// (imgix-url-params' dist/parameters.json).
type imgixSpec struct {
	Version    string                    `json:"version"`
	Parameters map[string]imgixParameter `json:"parameters"`
	Aliases    map[string]string         `json:"aliases"`
}

type imgixParameter struct {
	Category string          `json:"category"`
	Aliases  []string        `json:"aliases"`
	Expects  []imgixExpected `json:"expects"`
	Default  any             `json:"default"`
}

type imgixExpected struct {
	Type           string `json:"type"`
	PossibleValues []any  `json:"possible_values"`
	StrictRange    *struct {
		Min, Max *float64
	} `json:"strict_range"`
	SuggestedRange *struct {
		Min, Max *float64
	} `json:"suggested_range"`
}

func readImgixSpec(t *testing.T) imgixSpec {
	t.Helper()
	path := filepath.Join(testnode.Modules(t), "imgix-url-params", "dist", "parameters.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("imgix's parameter spec: %v (make test installs imgix-url-params)", err)
	}
	var s imgixSpec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// generative are imgix's parameters that need model weights (background
// removal and replacement, generative fill, object removal, upscaling,
// licence plates), which are not to be fetched: outside "still image".
var generative = []string{"bg-remove", "bg-remove-fallback", "bg-remove-fg-type", "bg-remove-semi-transparency",
	"bg-remove-transparency-threshold", "bg-replace", "bg-replace-fallback", "bg-replace-neg-prompt", "fill-gen-fallback",
	"fill-gen-neg-prompt", "fill-gen-pos", "fill-gen-prompt", "fill-gen-seed", "object-removal-negative-prompt",
	"object-removal-prompt", "object-removal-rect", "object-removal-seed", "upscale", "upscale-fallback", "lp-blur"}

// stillImage lists the spec's parameters for still images: all but its
// video, animation and PDF categories and the generative ones.
func (s imgixSpec) stillImage() []string {
	var names []string
	for name, p := range s.Parameters {
		switch p.Category {
		case "video-rendering", "video rendering", "animation", "pdf":
			continue
		}
		if !slices.Contains(generative, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// valueNotYet are values of implemented parameters this resizer refuses,
// and why.
var valueNotYet = map[string]map[string]string{
	"fm": {"gif": "animations are served as WebP", "jp2": "no JPEG 2000 encoder", "jxr": "no JPEG XR encoder", "mp4": "not video", "webm": "not video", "blurhash": "placeholders are ThumbHash, in fm=json", "spritesheet": "not video"},
	"cs": {"adobergb1998": "no Adobe RGB profile ships with libvips or Debian's base"},
	"blend-mode": {"color": "libvips has no HSL blend modes", "hue": "libvips has no HSL blend modes",
		"luminosity": "libvips has no HSL blend modes", "saturation": "libvips has no HSL blend modes"},
	"fill": {"gen": "generative fill needs model weights", "generative": "generative fill needs model weights"},
}

// defaultDiffers are parameters whose default here is not imgix's, and why.
var defaultDiffers = map[string]string{
	"q":                   "the default quality is on WebP's scale and set by --quality (80), then per size class",
	"nr":                  "imgix's default applies with auto=enhance, which is not done here: without nr nothing is denoised",
	"nrs":                 "as nr",
	"border-stroke-color": "the spec's default, 0, is no colour: the stroke is black unless one is given",
	"bg":                  "padding is transparent where the format has alpha, white where not (imgix's docs say the same; its spec says fff)",
}

// Every still-image parameter of imgix's spec is in the table, with the
// spec's aliases, its possible values, its ranges and its default, or
// listed in notYet with a reason; nothing in the table is outside the
// spec.
func TestParamsFollowImgixSpec(t *testing.T) {
	spec := readImgixSpec(t)
	still := spec.stillImage()
	implemented := 0
	for _, name := range still {
		p := paramsByName[name]
		_, listed := notYet[name]
		switch {
		case p != nil && p.name == name && listed:
			t.Errorf("%s: implemented and listed as not yet", name)
		case p != nil && p.name == name:
			implemented++
			checkAgainstSpec(t, spec, name, p)
		case !listed:
			t.Errorf("%s: imgix's still-image parameter is neither in the table nor in notYet", name)
		}
	}
	for _, p := range params {
		if _, ok := spec.Parameters[p.name]; !ok {
			t.Errorf("%s: in the table but not in imgix's spec %s", p.name, spec.Version)
		}
	}
	share := float64(implemented) / float64(len(still))
	t.Logf("imgix-url-params %s: %d still-image parameters, %d implemented (%.0f %%)", spec.Version, len(still), implemented, 100*share)
	if len(still) != 146 {
		t.Errorf("%d still-image parameters in the spec, want the 146 of v11.36.0", len(still))
	}
	// The share only grows: raise the floor as parameters land (the goal is 90 %).
	if implemented < minImplemented {
		t.Errorf("%d implemented, fewer than the %d already done", implemented, minImplemented)
	}
}

// minImplemented is how many of the 146 are implemented.
const minImplemented = 141

func checkAgainstSpec(t *testing.T, spec imgixSpec, name string, p *param) {
	t.Helper()
	sp := spec.Parameters[name]
	want := slices.Clone(sp.Aliases)
	for alias, target := range spec.Aliases {
		if target == name && !slices.Contains(want, alias) {
			want = append(want, alias)
		}
	}
	sort.Strings(want)
	got := slices.Sorted(slices.Values(p.aliases))
	if !slices.Equal(got, want) {
		t.Errorf("%s: aliases %v, imgix's are %v", name, got, want)
	}
	for _, e := range sp.Expects {
		for _, v := range e.PossibleValues {
			s := fmt.Sprint(v)
			if reason, ok := valueNotYet[name][s]; ok {
				if _, err := readParam(name, s); err == nil {
					t.Errorf("%s=%s: accepted, but listed as not yet (%s)", name, s, reason)
				}
				continue
			}
			if _, err := readParam(name, s); err != nil {
				t.Errorf("%s=%s (a value imgix takes): %v", name, s, err)
			}
		}
		for _, r := range []*struct{ Min, Max *float64 }{e.StrictRange, e.SuggestedRange} {
			if r == nil || (e.Type != "integer" && e.Type != "number" && e.Type != "unit_scalar") {
				continue
			}
			for _, bound := range []*float64{r.Min, r.Max} {
				if bound == nil || (*bound == 0 && (e.Type == "unit_scalar" || name == "dpr")) {
					continue // 0 of a unit scalar, or dpr 0, is no size at all
				}
				s := strconv.FormatFloat(*bound, 'f', -1, 64)
				if e.Type == "unit_scalar" && !strings.Contains(s, ".") {
					s += ".0"
				}
				if _, err := readParam(name, s); err != nil {
					t.Errorf("%s=%s (an end of imgix's range): %v", name, s, err)
				}
			}
		}
	}
	if sp.Default != nil && defaultDiffers[name] == "" {
		def := fmt.Sprint(sp.Default)
		if b, ok := sp.Default.(bool); ok {
			def = strconv.FormatBool(b)
		}
		with, err := readParam(name, def)
		without, _ := readParam("-"+name, "")
		if err != nil || with.String() != without.String() {
			t.Errorf("%s=%s (imgix's default): %q, %v; without it %q", name, def, with.String(), err, without.String())
		}
	}
}

// readParam parses name=v with what imgix says the parameter depends on
// (a cropping fit, a focal point, a mask...).
func readParam(name, v string) (Options, error) {
	q := url.Values{"fit": {"crop"}, "crop": {"focalpoint"}, "w": {"100"}, "h": {"100"}}
	if without, ok := strings.CutPrefix(name, "-"); ok {
		q.Del(without) // the context without the parameter
	} else {
		q.Set(name, v)
	}
	return ParseOptions(q, "", ParseConfig{MaxOutput: 8192})
}

// README's parameter table is the table's.
func TestReadmeParameterTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| parameter | values | what it does |\n|---|---|---|\n")
	for _, p := range params {
		names := "`" + p.name + "`"
		for _, a := range p.aliases {
			names += ", `" + a + "`"
		}
		does := p.does
		if dearParams[p.name] != nil {
			does += ". **Signed URLs only**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", names, p.values, does)
	}
	b.WriteString("\nNot implemented yet (a URL carrying one is served as if it did not, the parameter named in `Imgorigin-Ignored`):\n\n")
	byReason := map[string][]string{}
	for name, reason := range notYet {
		byReason[reason] = append(byReason[reason], name)
	}
	for _, reason := range slices.Sorted(func(yield func(string) bool) {
		for r := range byReason {
			if !yield(r) {
				return
			}
		}
	}) {
		names := slices.Sorted(slices.Values(byReason[reason]))
		fmt.Fprintf(&b, "- %s: `%s`\n", reason, strings.Join(names, "`, `"))
	}
	const begin, end = "<!-- parameters: generated from resizer/table.go by TestReadmeParameterTable -->\n", "<!-- end of parameters -->\n"
	path := filepath.Join("..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := strings.Index(string(readme), begin), strings.Index(string(readme), end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q and %q", begin, end)
	}
	want := string(readme[:i+len(begin)]) + b.String() + string(readme[j:])
	if want == string(readme) {
		return
	}
	if os.Getenv("IMGORIGIN_WRITE_README") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's parameter table is not the table's: run IMGORIGIN_WRITE_README=1 go test -run TestReadmeParameterTable ./resizer/")
}
