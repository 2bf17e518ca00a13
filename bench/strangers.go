package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/internal/hostile"
)

// DefaultLadder's rungs, as a photo app's srcsets ask them.
var srcsetWidths = []int{16, 32, 48, 64, 96, 128, 160, 200, 240, 320, 400, 480, 640, 750, 828, 960, 1080, 1280, 1440, 1920, 2048}

// strangers plays what a stranger can ask without a signature, each case
// with new URLs (a CDN in front absorbs nothing), and reports what each
// costs the server in CPU per request (from its own metrics) beside a plain
// cold w=320 render: a 100-frame animation, blur on AVIF, a plain-directory
// file asked at no size, a PNG full of zTXt chunks, HEAD and If-None-Match: *
// (whether they render and count), 3,000 ranges, utm_* variants; last, 1,152
// cheap variants of one photo and whether its srcset sizes still answer.
func (a *attacker) strangers(ctx context.Context) error {
	keys, err := a.uploadPhotos("stranger", 10, 31)
	if err != nil {
		return err
	}
	victim, cold := keys[0], keys[1:]
	// A plain cold render, the unit every case is measured in.
	var plain []string
	for _, k := range cold {
		plain = append(plain, "/"+k+"?w=320")
	}
	unit, _ := a.cost(ctx, "GET", plain)
	a.rep.set("plain_w320_cpu_ms", round1(unit))
	ratio := func(name, method string, paths []string, header ...string) {
		ms, statuses := a.cost(ctx, method, paths, header...)
		a.rep.set(name, fmt.Sprintf("%.1f ms CPU a request (%.2fx w=320), %v", ms, ms/unit, statuses))
	}

	// 2. A 100-frame animation at full size, and at 240 px.
	anim, err := animatedWebP(100, 320, 240, 7)
	if err != nil {
		return err
	}
	st, animKey, err := a.upload("stranger-anim", anim)
	if err != nil || st != http.StatusCreated {
		return fmt.Errorf("animated upload: %d %v", st, err)
	}
	ratio("animation_100_frames_full", "GET", variants("/"+animKey+"?fm=webp", 3))
	ratio("animation_100_frames_w240", "GET", variants("/"+animKey+"?w=240", 3))
	// 4. Blur on AVIF, at the largest size and at 1080 px.
	ratio("blur_avif_w2048", "GET", variants("/"+cold[0]+"?w=2048&blur=2000&fm=avif", 3))
	ratio("blur_avif_w1080", "GET", variants("/"+cold[1]+"?w=1080&blur=2000&fm=avif", 3))
	// Every effect the URL API gives an unsigned request, at its dearest,
	// at 320 px and at 2048 px beside a plain render of that size; the
	// dear ones need a signature and are refused before any work.
	const cheapEffects = "&bri=50&con=50&exp=50&gam=50&high=-100&shad=100&invert=1&flip=hv&or=3&border=20,red&pad=20" +
		"&border-stroke-size=4&fit=fill&transparency=grid&fp-debug=1&cs=srgb&dpi=300&rect=10,10,0.9,0.9&chromasub=444&fm=jpg&jpg-progressive=0"
	ratio("effects_unsigned_w320", "GET", variants("/"+cold[6]+"?w=320&h=320"+cheapEffects, 10))
	ratio("plain_w2048", "GET", variants("/"+cold[7]+"?w=2048&h=2048&fm=jpg", 10))
	ratio("effects_unsigned_w2048", "GET", variants("/"+cold[8]+"?w=2048&h=2048"+cheapEffects, 10))
	ratio("effects_dear_w320", "GET", variants("/"+cold[6]+"?w=320&sat=50&nr=100&trim=auto&mask=ellipse", 3))
	// 12. HEAD and If-None-Match: * of new variants: do they render, do they count?
	ratio("head_new_variants", "HEAD", variants("/"+cold[2]+"?w=640&fm=webp", 4))
	ratio("if_none_match_star", "GET", variants("/"+cold[3]+"?w=640&fm=webp", 4), "If-None-Match", "*")
	// 13. 3,000 one-byte ranges of a small variant.
	var ranges []string
	for i := range 3000 {
		ranges = append(ranges, fmt.Sprintf("%d-%d", i, i))
	}
	_, whole := a.get(ctx, "/"+cold[4]+"?w=320")
	st, many := a.get(ctx, "/"+cold[4]+"?w=320", "Range", "bytes="+strings.Join(ranges, ","))
	a.rep.set("ranges_3000", fmt.Sprintf("%d, %d bytes for a %d byte variant (%.1fx)", st, many, whole, float64(many)/float64(max(whole, 1))))
	// 3. utm_* and ixlib make new CDN keys, never new renders.
	before := a.renderCount()
	var utm []string
	for i := range 20 {
		utm = append(utm, fmt.Sprintf("/%s?w=480&utm_source=s%d&ixlib=js-%d", cold[5], i, i))
	}
	_, statuses := a.cost(ctx, "GET", utm)
	a.rep.set("utm_variants_20", fmt.Sprintf("%v renders, %v", a.renderCount()-before, statuses))
	// 9 and 5. Files another program put in the store.
	png, err := pngWithText(2000)
	if err != nil {
		return err
	}
	start := time.Now()
	st, _, _ = a.upload("stranger-png", png)
	a.rep.set("png_2000_ztxt_upload", fmt.Sprintf("%d in %.0f ms", st, float64(time.Since(start).Microseconds())/1000))
	if a.cfg.StoreDir == "" {
		a.rep.set("plain_directory_cases", "not run: no store directory given")
	} else {
		big, err := photoJPEGs(1, 4000, 3000, 77)
		if err != nil {
			return err
		}
		for name, b := range map[string][]byte{"stranger-4000px.jpg": big[0], "stranger-text.png": png} {
			if err := os.WriteFile(filepath.Join(a.cfg.StoreDir, name), b, 0o644); err != nil {
				return err
			}
		}
		ratio("plain_directory_4000px_no_size", "GET", variants("/stranger-4000px.jpg?fm=webp", 3))
		ratio("plain_directory_png_2000_ztxt_w320", "GET", variants("/stranger-text.png?w=320", 3))
	}

	// 1. Last, since it spends this address's budget: 1,152 cheap variants
	// of one photo, then its srcset sizes with auto=format, as browsers ask.
	var cheap []string
	for _, w := range []int{16, 32, 48, 64, 96, 128, 160, 200, 240} {
		for q := 15; q <= 90; q += 5 {
			for _, fit := range []string{"clip", "crop"} {
				for _, blur := range []int{0, 20, 40, 60} {
					cheap = append(cheap, fmt.Sprintf("/%s?w=%d&h=%d&q=%d&fit=%s&blur=%d", victim, w, w, q, fit, blur))
				}
			}
		}
	}
	start = time.Now()
	_, statuses = a.cost(ctx, "GET", cheap)
	a.rep.set("lock_1152_variants", fmt.Sprintf("%v in %.1f s", statuses, time.Since(start).Seconds()))
	failed := map[string]int{}
	for _, accept := range []string{"image/avif,image/webp,*/*", "image/webp,*/*"} {
		for _, w := range srcsetWidths {
			if st, _ := a.get(ctx, fmt.Sprintf("/%s?w=%d&auto=format", victim, w), "Accept", accept); st != http.StatusOK {
				failed[fmt.Sprint(st)]++
			}
		}
	}
	a.rep.set("srcset_after_lock", fmt.Sprintf("%d of %d not 200 %v", sum(failed), 2*len(srcsetWidths), failed))
	return nil
}

// variants makes n distinct URLs of one request by a parameter without
// effect on the pixels (bg on a clip), each a new key for a CDN.
func variants(path string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s&bg=%06x", path, 0x100000+i)
	}
	return out
}

// cost asks for each path in turn and returns the server's CPU per request
// in ms, from its process_cpu_seconds_total, and the statuses it answered.
func (a *attacker) cost(ctx context.Context, method string, paths []string, header ...string) (float64, map[int]int) {
	statuses := map[int]int{}
	cpu0 := a.cpuSeconds()
	for _, p := range paths {
		st, _ := a.request(ctx, method, p, header...)
		statuses[st]++
	}
	time.Sleep(200 * time.Millisecond) // work a request left behind (HEAD) ends
	return (a.cpuSeconds() - cpu0) * 1000 / float64(len(paths)), statuses
}

func (a *attacker) cpuSeconds() float64 {
	v, _ := sample(scrapeMetrics(a.client, a.cfg.AdminURL+"/metrics"), "process_cpu_seconds_total")
	return v
}

// renderCount is how many renders the server has run.
func (a *attacker) renderCount() float64 {
	fam := scrapeMetrics(a.client, a.cfg.AdminURL+"/metrics")["imgorigin_resizer_stage_duration_seconds"]
	if fam == nil {
		return -1
	}
	for _, m := range fam.Metric {
		for _, l := range m.Label {
			if l.GetName() == "stage" && l.GetValue() == "render" {
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

// animatedWebP is n distinct frames of w x h, as an animated WebP.
func animatedWebP(n, w, h, seed int) ([]byte, error) {
	frames := make([]*vips.ImageRef, n)
	for i := range frames {
		f, err := photoLike(w, h, seed+i)
		if err != nil {
			return nil, err
		}
		frames[i] = f
	}
	all := frames[0]
	defer all.Close()
	if err := all.ArrayJoin(frames[1:], 1); err != nil {
		return nil, err
	}
	for _, f := range frames[1:] {
		f.Close()
	}
	if err := all.SetPageHeight(h); err != nil {
		return nil, err
	}
	b, _, err := all.ExportWebp(&vips.WebpExportParams{Quality: 75, ReductionEffort: 0})
	return b, err
}

// pngWithText is a small photo as a PNG carrying n zTXt chunks.
func pngWithText(n int) ([]byte, error) {
	img, err := photoLike(256, 256, 3)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	png, _, err := img.ExportPng(vips.NewPngExportParams())
	if err != nil {
		return nil, err
	}
	return hostile.PNGWithText(png, n), nil
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
