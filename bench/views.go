package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/role"
	"github.com/imgorigin/imgorigin/sign"
)

// ViewsRow is what one kind of view costs: the bytes a CDN sends out for it
// and how far it looks from a lossless rendition of the same original at the
// same size (butteraugli's distance: below 1 invisible, 3 clearly visible).
type ViewsRow struct {
	Set          string  `json:"set"`    // srcset or shield
	Format       string  `json:"format"` // of the answers
	Size         string  `json:"size"`   // size class of the answers' long edge
	Views        int     `json:"views"`
	BytesPerView float64 `json:"bytes_per_view"`
	Distance     float64 `json:"butteraugli_mean"`
	P50ms        float64 `json:"p50_ms"`
	P99ms        float64 `json:"p99_ms"`
}

// ViewsReport is the views scenario: every row, and the srcset's totals.
type ViewsReport struct {
	Accept         string     `json:"accept"`
	ShieldViews    int        `json:"shield_views"`
	Rows           []ViewsRow `json:"rows"`
	SrcsetBytes    int64      `json:"srcset_bytes"`
	SrcsetDistance float64    `json:"srcset_butteraugli_mean"`
	ShieldPerView  float64    `json:"shield_bytes_per_view"`
	ShieldDistance float64    `json:"shield_butteraugli_mean"`
	// Classes compare AVIF with WebP per set and size class.
	Classes []ViewsClass `json:"classes"`
}

// viewsAccept is what a current browser sends for images.
const viewsAccept = "image/avif,image/webp,*/*"

// benchSignKey signs the lossless references the views scenario asks for.
var benchSignKey = []byte("imgorigin-bench-sign-key")

// runViews asks a default resizer for what browsers ask (auto=format, with
// viewsAccept): each original at 320, 640 and 1080 px (a srcset), and
// shield views of the shield mix (each a butteraugli comparison, about a
// second at 1080 px). Each answer is compared with the same
// URL rendered lossless (a signed fm=png) by butteraugli.
func runViews(ctx context.Context, stores role.Stores, keys, zipfKeys []string, shield int, log *slog.Logger) (*ViewsReport, error) {
	if _, err := exec.LookPath("butteraugli"); err != nil {
		return nil, fmt.Errorf("views: the butteraugli command is needed (Debian's butteraugli package; make test installs it): %w", err)
	}
	// Every view rendered (no variant cache), as a CDN's origin sees it; any
	// size unsigned, as signed requests are not put on the size ladder: the
	// lossless reference then has the geometry of the view it is compared with.
	rcfg := scenarioResizer(scenario{originalCache: true})
	rcfg.SignKeys = [][]byte{benchSignKey}
	base, _, _, stop, err := inProcess(ctx, rcfg, 0, stores, log)
	if err != nil {
		return nil, err
	}
	defer stop()
	dir, err := os.MkdirTemp("", "imgorigin-views")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	type view struct {
		set, path string
	}
	var views []view
	for _, k := range keys {
		for _, w := range []int{320, 640, 1080} {
			views = append(views, view{"srcset", fmt.Sprintf("/%s?w=%d&auto=format", k, w)})
		}
	}
	next := originTraffic(1)
	rng := rand.New(rand.NewPCG(19, 19))
	t := &target{zipfKeys: zipfKeys}
	for range shield {
		p := strings.Replace(next(rng, t, 0, 0).path, "&fm=webp", "&auto=format", 1)
		views = append(views, view{"shield", p})
	}

	type sample struct {
		bytes    int
		distance float64
		ms       float64
	}
	groups := map[[3]string][]sample{}
	client := &http.Client{Timeout: time.Minute}
	for i, v := range views {
		ref, _, err := fetch(client, base+losslessPath(v.path), "")
		if err != nil {
			return nil, fmt.Errorf("views: lossless %s: %w", v.path, err)
		}
		// As a browser asks, then as one that takes no AVIF asks (what
		// --auto-avif=false answers everyone).
		for j, accept := range []string{viewsAccept, viewsAcceptNoAVIF} {
			start := time.Now()
			body, ct, err := fetch(client, base+v.path, accept)
			ms := float64(time.Since(start).Microseconds()) / 1000
			if err != nil {
				return nil, fmt.Errorf("views: %s: %w", v.path, err)
			}
			d, long, err := distance(dir, 2*i+j, ref, body)
			if err != nil {
				return nil, fmt.Errorf("views: %s: %w", v.path, err)
			}
			k := [3]string{v.set, strings.TrimPrefix(ct, "image/"), sizeClass(long)}
			if j == 1 {
				k[1] = "no-avif:" + k[1]
			}
			groups[k] = append(groups[k], sample{len(body), d, ms})
		}
	}

	rep := &ViewsReport{Accept: viewsAccept, ShieldViews: shield}
	var bytes, dist, n [2]float64 // srcset, shield, as browsers ask
	for _, k := range slices.SortedFunc(maps.Keys(groups), func(a, b [3]string) int { return slices.Compare(a[:], b[:]) }) {
		ss := groups[k]
		row := ViewsRow{Set: k[0], Format: k[1], Size: k[2], Views: len(ss)}
		set := 0
		if k[0] == "shield" {
			set = 1
		}
		browser := !strings.HasPrefix(k[1], "no-avif:")
		var ms []float64
		for _, s := range ss {
			row.BytesPerView += float64(s.bytes) / float64(len(ss))
			row.Distance += s.distance / float64(len(ss))
			ms = append(ms, s.ms)
			if browser {
				bytes[set], dist[set], n[set] = bytes[set]+float64(s.bytes), dist[set]+s.distance, n[set]+1
			}
		}
		row.P50ms, row.P99ms = percentile(ms, 50), percentile(ms, 99)
		rep.Rows = append(rep.Rows, row)
	}
	rep.SrcsetBytes, rep.SrcsetDistance = int64(bytes[0]), dist[0]/max(n[0], 1)
	rep.ShieldPerView, rep.ShieldDistance = bytes[1]/max(n[1], 1), dist[1]/max(n[1], 1)
	rep.Classes = compareClasses(rep.Rows)
	return rep, nil
}

// viewsAcceptNoAVIF is what a browser without AVIF sends.
const viewsAcceptNoAVIF = "image/webp,*/*"

// ViewsClass compares, in one set and size class, what browsers get
// (auto=format with AVIF) with what they get without AVIF (WebP).
type ViewsClass struct {
	Set          string  `json:"set"`
	Size         string  `json:"size"`
	Format       string  `json:"format"` // what browsers get
	Bytes        float64 `json:"bytes_per_view"`
	Distance     float64 `json:"butteraugli_mean"`
	WebPBytes    float64 `json:"webp_bytes_per_view"`
	WebPDistance float64 `json:"webp_butteraugli_mean"`
}

// compareClasses pairs each class's browser row with its no-AVIF row.
func compareClasses(rows []ViewsRow) []ViewsClass {
	var out []ViewsClass
	for _, r := range rows {
		if strings.HasPrefix(r.Format, "no-avif:") {
			continue
		}
		for _, w := range rows {
			if w.Set == r.Set && w.Size == r.Size && w.Format == "no-avif:webp" {
				out = append(out, ViewsClass{Set: r.Set, Size: r.Size, Format: r.Format, Bytes: r.BytesPerView, Distance: r.Distance, WebPBytes: w.BytesPerView, WebPDistance: w.Distance})
			}
		}
	}
	return out
}

// losslessPath is path asked as a lossless PNG of the same geometry, signed
// (unsigned PNG is bounded to small sizes).
func losslessPath(path string) string {
	p, raw, _ := strings.Cut(path, "?")
	q, _ := url.ParseQuery(raw)
	q.Del("auto")
	q.Del("fm")
	q.Set("fm", "png")
	return p + "?" + q.Encode() + "&s=" + url.QueryEscape(sign.Sign(benchSignKey, p, q))
}

func fetch(client *http.Client, u, accept string) ([]byte, string, error) {
	req, _ := http.NewRequest("GET", u, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return b, resp.Header.Get("Content-Type"), err
}

// distance is butteraugli's distance between the PNG ref and the image b
// (any format libvips reads), and b's long edge.
func distance(dir string, i int, ref, b []byte) (float64, int, error) {
	img, err := vips.NewImageFromBuffer(b)
	if err != nil {
		return 0, 0, err
	}
	defer img.Close()
	png, _, err := img.ExportPng(&vips.PngExportParams{Compression: 1})
	if err != nil {
		return 0, 0, err
	}
	refPath, outPath := filepath.Join(dir, fmt.Sprintf("%d-ref.png", i)), filepath.Join(dir, fmt.Sprintf("%d-out.png", i))
	if err := os.WriteFile(refPath, ref, 0o644); err != nil {
		return 0, 0, err
	}
	if err := os.WriteFile(outPath, png, 0o644); err != nil {
		return 0, 0, err
	}
	cmd := exec.Command("butteraugli", refPath, outPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("butteraugli: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	return d, max(img.Width(), img.Height()), err
}

// sizeClass names where a long edge falls: what a list, a detail and a full
// screen view ask.
func sizeClass(long int) string {
	switch {
	case long <= 400:
		return "<=400"
	case long <= 800:
		return "401-800"
	}
	return ">800"
}

// percentile is the nearest-rank p-th percentile of xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
