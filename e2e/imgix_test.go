package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/resizer"
)

const imgixToken = "imgorigin-test-token-16"

// The server's defaults the expected widths follow (see README).
const (
	maxOutput = 4096 // --max-output
	maxSide   = 2560 // --unsigned-max-side
)

// A 3000x2000 upload is stored as a 2560x1707 original.
func storedPhoto(t *testing.T, s *server) (key string, w, h int) {
	t.Helper()
	photo := testimage.Photo(t, 3000, 2000)
	defer photo.Close()
	key, w = s.upload(t, testimage.JPEG(t, photo))
	if w != 2560 {
		t.Fatalf("stored original is %d px wide, want 2560", w)
	}
	return key, w, 1707
}

// @imgix/js-core, unchanged, against a server that checks imgix's signatures:
// every URL it builds, unsigned and signed, is served at the expected width
// (unsigned: the rung at or above the one asked).
func TestImgixJSCore(t *testing.T) {
	s := serve(t, "--sign-scheme", "imgix", "--sign-keys", imgixToken)
	key, sw, sh := storedPhoto(t, s)
	type built struct{ Client, Call, URL string }
	var urls []built
	sc := bufio.NewScanner(bytes.NewReader(node(t, "jscore-urls.mjs", key, imgixToken)))
	for sc.Scan() {
		var b built
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			t.Fatal(err)
		}
		urls = append(urls, b)
	}
	if len(urls) < 150 {
		t.Fatalf("js-core built only %d URLs", len(urls))
	}
	served := map[string]int{}
	for _, b := range urls {
		signed := b.Client == "signed"
		u := strings.Replace(b.URL, "http://images.example.com", s.URL, 1)
		status, width, hdr, err := fetchWidth(u)
		want, tolerance := expectedWidth(t, u, signed, sw, sh)
		if status != 200 || err != nil || abs(width-want) > tolerance {
			t.Errorf("%s %s: %s: %d, %d px wide (%v); want 200, %d px", b.Client, b.Call, b.URL, status, width, err, want)
			continue
		}
		if !signed && u != s.URL+"/"+key+"?ixlib=js-3.8.0" && hdr.Get("Imgorigin-Rung") == "" {
			t.Errorf("%s: no Imgorigin-Rung header", b.URL)
		}
		served[b.Client]++
	}
	t.Logf("@imgix/js-core 3.8.0: %d of %d unsigned and %d of %d signed URLs served at the expected width",
		served["unsigned"], len(urls)/2, served["signed"], len(urls)/2)

	// A signature from another token, or for other parameters, is refused.
	good := strings.Replace(urls[len(urls)-1].URL, "http://images.example.com", s.URL, 1)
	for _, bad := range []string{strings.Replace(good, "&s=", "&w=99&s=", 1), good[:len(good)-4] + "0000"} {
		if status, _, _, _ := fetchWidth(bad); status != 403 {
			t.Errorf("%s: %d, want 403", bad, status)
		}
	}
}

// Next.js's built-in imgix loader over Next's default sizes: every URL it
// makes is served, at the rung at or above its width (fit=max: never more
// than the original).
func TestNextImgixLoader(t *testing.T) {
	s := serve(t)
	key, sw, sh := storedPhoto(t, s)
	sc := bufio.NewScanner(bytes.NewReader(node(t, "next-imgix-loader.mjs", key)))
	counts := map[string][2]int{}
	var shapes []string
	for sc.Scan() {
		var b struct {
			Shape string
			Width int
			URL   string
		}
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(shapes, b.Shape) {
			shapes = append(shapes, b.Shape)
		}
		u := strings.Replace(b.URL, "http://images.example.com", s.URL, 1)
		status, width, _, err := fetchWidth(u)
		want, tolerance := expectedWidth(t, u, false, sw, sh)
		c := counts[b.Shape]
		c[1]++
		if status != 200 || err != nil || abs(width-want) > tolerance {
			t.Errorf("%s, width %d: %s: %d, %d px (%v); want 200, %d px", b.Shape, b.Width, b.URL, status, width, err, want)
		} else {
			c[0]++
		}
		counts[b.Shape] = c
	}
	for _, shape := range shapes {
		t.Logf("Next.js imgix loader, %s: %d of %d sizes served at the expected width", shape, counts[shape][0], counts[shape][1])
	}
	if counts["next/image default (quality 75)"][1] != 16 {
		t.Fatalf("want Next's 16 default sizes, got %v", counts)
	}
}

// expectedWidth is the width README promises for a URL on a 2560x1707
// original, with tolerance 1 where it follows from a height by rounding.
func expectedWidth(t *testing.T, raw string, signed bool, sw, sh int) (int, int) {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	w, _ := strconv.Atoi(q.Get("w"))
	h, _ := strconv.Atoi(q.Get("h"))
	dpr := 1.0
	if v := q.Get("dpr"); v != "" {
		dpr, _ = strconv.ParseFloat(v, 64)
	}
	fit := q.Get("fit")
	if fit == "" {
		fit = "clip"
	}
	crops, pads := fit == "crop" || fit == "min", fit == "fill" || fit == "fillmax"
	if !signed { // sizes off the ladder: the next rung up, w:h kept
		ladder := resizer.DefaultLadder
		if long := max(w, h); long > 0 && !slices.Contains(ladder, long) {
			rung := ladder[len(ladder)-1]
			for i := len(ladder) - 1; i >= 0 && ladder[i] >= long; i-- {
				rung = ladder[i]
			}
			f := float64(rung) / float64(long)
			w, h = round(float64(w)*f), round(float64(h)*f)
		}
		dpr = math.Ceil(dpr*2) / 2
	}
	if ar := q.Get("ar"); ar != "" && (crops || pads) {
		a, b, _ := strings.Cut(ar, ":")
		aw, _ := strconv.ParseFloat(a, 64)
		ah, _ := strconv.ParseFloat(b, 64)
		if w > 0 && h == 0 {
			h = round(float64(w) * ah / aw)
		} else if h > 0 && w == 0 {
			w = round(float64(h) * aw / ah)
		}
	}
	W, H := round(float64(w)*dpr), round(float64(h)*dpr)
	for _, limit := range []int{maxOutput, map[bool]int{true: maxOutput, false: maxSide}[signed]} {
		if W > limit || H > limit {
			f := float64(limit) / float64(max(W, H))
			W, H = round(float64(W)*f), round(float64(H)*f)
		}
	}
	if W > 0 && H > 0 && (crops || pads || fit == "scale") {
		enlarge := signed && (fit == "crop" || fit == "fill" || fit == "scale")
		if !enlarge && (crops || !signed) && (W > sw || H > sh) {
			return round(float64(W) * math.Min(float64(sw)/float64(W), float64(sh)/float64(H))), 1
		}
		return W, 0
	}
	// clip and max: fit inside the box; only signed clip enlarges.
	scale, tolerance := math.Inf(1), 0
	if W > 0 {
		scale = float64(W) / float64(sw)
	}
	if H > 0 && float64(H)/float64(sh) < scale {
		scale, tolerance = float64(H)/float64(sh), 1
	}
	if math.IsInf(scale, 1) || scale > 1 && !(signed && fit != "max" && fit != "min" && fit != "fillmax") {
		return sw, 0
	}
	return round(float64(sw) * scale), tolerance
}

func round(f float64) int { return int(math.Round(f)) }

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// @imgix/js-core builds URLs for the URL API beyond sizes, unsigned and
// signed (imgix's scheme), and the server serves each: an image 400 px wide
// (or as the parameters size it), JSON or CSS; unsigned, what only a
// signature may ask is refused with a reason.
func TestImgixJSCoreParameters(t *testing.T) {
	s := serve(t, "--sign-scheme", "imgix", "--sign-keys", imgixToken)
	key, _, _ := storedPhoto(t, s)
	mark, _ := s.upload(t, testimage.PNG(t, testimage.Marked(t, 400, 200)))
	sc := bufio.NewScanner(bytes.NewReader(node(t, "jscore-params.mjs", key, mark, imgixToken)))
	n := map[string]int{}
	for sc.Scan() {
		var b struct {
			Client, Call, URL, Kind string
			Dear                    bool
		}
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			t.Fatal(err)
		}
		a, err := httpGet(strings.Replace(b.URL, "http://images.example.com", s.URL, 1))
		if err != nil {
			t.Fatal(err)
		}
		body, ctype := string(a.body), a.header.Get("Content-Type")
		switch {
		case b.Client == "unsigned" && b.Dear:
			if a.status != 400 || !strings.Contains(body, "signed URL") {
				t.Errorf("unsigned %s: %d %q, want 400 asking for a signature", b.Call, a.status, body)
			}
		case a.status != 200:
			t.Errorf("%s %s: %s: %d %q", b.Client, b.Call, b.URL, a.status, body)
		case b.Kind == "json" && ctype != "application/json", b.Kind == "css" && !strings.HasPrefix(ctype, "text/css"):
			t.Errorf("%s %s: %s, want %s", b.Client, b.Call, ctype, b.Kind)
		case b.Kind == "image":
			h, err := imaging.Probe(a.body)
			want := map[bool]int{true: 200, false: 400}[strings.Contains(b.Call, `"width":200`)]
			switch {
			case strings.Contains(b.Call, `"max-w":300`):
				want = 300
			case strings.Contains(b.Call, `"dpr":0.75`) && b.Client == "signed":
				want = 300 // unsigned, dpr rounds up to a multiple of 0.5 (the ladder)
			}
			if err != nil || (!strings.Contains(b.Call, "pivot") && abs(h.Width-want) > 1) {
				t.Errorf("%s %s: %d px wide (%v), want %d", b.Client, b.Call, h.Width, err, want)
			}
		}
		n[b.Client]++
	}
	if n["signed"] < 34 || n["unsigned"] < 34 {
		t.Fatalf("js-core built %v URLs, want 34 each", n)
	}
}
