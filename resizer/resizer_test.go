package resizer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
	"github.com/imgorigin/imgorigin/sign"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
)

func TestMain(m *testing.M) { testimage.Main(m) }

// countingStore wraps a real disk store, counts Gets, and can delay or fail them.
type countingStore struct {
	storage.Store
	gets  atomic.Int64
	delay time.Duration
	fail  error
}

func (s *countingStore) Get(ctx context.Context, key string) (*storage.Object, error) {
	s.gets.Add(1)
	time.Sleep(s.delay) // a sleep, not a wait: it plays a slow store
	if s.fail != nil {
		return nil, s.fail
	}
	return s.Store.Get(ctx, key)
}

type fixture struct {
	t     testing.TB
	dir   string // the disk store's directory
	store *countingStore
	h     *Handler
	srv   *httptest.Server
	reg   *prometheus.Registry
}

func newFixture(t testing.TB, mod func(*Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := disk.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.SignKeys = [][]byte{[]byte("old-key-still-valid!"), []byte("current-signing-key!")}
	if mod != nil {
		mod(&cfg)
	}
	f := &fixture{t: t, dir: dir, store: &countingStore{Store: st}, reg: prometheus.NewRegistry()}
	f.h, err = New(f.store, cfg, slog.New(slog.DiscardHandler), f.reg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) put(key string, data []byte) {
	f.t.Helper()
	if _, err := f.store.Put(context.Background(), key, data, "application/octet-stream", nil); err != nil {
		f.t.Fatal(err)
	}
}

// place writes a file into the store's directory as another program would:
// not through the store, so not the store's own.
func (f *fixture) place(key string, data []byte) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, key), data, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) get(path string, header ...string) (*http.Response, []byte) {
	f.t.Helper()
	return f.do("GET", path, header...)
}

func (f *fixture) do(method, path string, header ...string) (*http.Response, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func decode(t testing.TB, b []byte) *vips.ImageRef {
	t.Helper()
	img, err := vips.NewImageFromBuffer(b)
	if err != nil {
		t.Fatalf("decode %d bytes (%.40q): %v", len(b), b, err)
	}
	return img
}

func TestFormatsInAndOut(t *testing.T) {
	f := newFixture(t, nil)
	sources := testimage.Formats(t, 600, 400)
	outs := map[string]imaging.Format{"webp": imaging.WebP, "jpg": imaging.JPEG, "pjpg": imaging.JPEG, "png": imaging.PNG, "avif": imaging.AVIF}
	for name, src := range sources {
		f.put(name, src)
		for fm, want := range outs {
			resp, body := f.get("/" + name + "?w=320&fm=" + fm)
			if resp.StatusCode != 200 {
				t.Errorf("%s -> %s: %d %s", name, fm, resp.StatusCode, body)
				continue
			}
			h, err := imaging.Probe(body)
			if err != nil || h.Format != want || h.Width != 320 || h.Height != 213 {
				t.Errorf("%s -> %s: output %+v, %v", name, fm, h, err)
			}
			if resp.Header.Get("Content-Type") != want.ContentType() {
				t.Errorf("%s -> %s: Content-Type %q", name, fm, resp.Header.Get("Content-Type"))
			}
		}
	}
	// Without fm: the source's format where browsers show it, else WebP.
	for name, want := range map[string]imaging.Format{"jpeg": imaging.JPEG, "png-alpha": imaging.PNG, "webp": imaging.WebP, "tiff": imaging.WebP, "heic": imaging.WebP, "gif": imaging.WebP} {
		_, body := f.get("/" + name + "?w=320")
		if h, _ := imaging.Probe(body); h.Format != want {
			t.Errorf("%s without fm: %s, want %s", name, h.Format, want)
		}
	}
	// Animated GIF and WebP stay animated as WebP.
	for _, name := range []string{"webp-animated", "gif-animated"} {
		_, body := f.get("/" + name + "?w=320&fm=webp")
		if h, _ := imaging.Probe(body); h.Pages != 3 || h.Width != 320 {
			t.Errorf("%s lost its frames: %+v", name, h)
		}
	}
	var body []byte
	// Alpha survives to PNG and WebP, is flattened onto bg for JPEG.
	_, body = f.get("/png-alpha?w=320&fm=png")
	if img := decode(t, body); !img.HasAlpha() {
		t.Error("PNG output lost alpha")
	}
	_, body = f.get("/png-alpha?w=320&fm=jpg")
	if img := decode(t, body); img.HasAlpha() || img.Bands() != 3 {
		t.Errorf("JPEG output has %d bands", img.Bands())
	}
}

// A rendition at the original's own size and format that encodes larger than
// the original is not served: the original is.
func TestNeverServesMoreBytesThanTheOriginal(t *testing.T) {
	f := newFixture(t, nil)
	photo := testimage.Photo(t, 320, 200)
	small, _, err := photo.ExportWebp(&vips.WebpExportParams{Quality: 30, ReductionEffort: 6})
	if err != nil {
		t.Fatal(err)
	}
	f.put("small", small)
	_, body := f.get("/small?w=320&fm=webp&q=100")
	if len(body) != len(small) {
		t.Fatalf("served %d bytes; the original at the same size and format is %d", len(body), len(small))
	}
	if _, body := f.get("/small?w=160&fm=webp&q=100"); len(body) == len(small) {
		t.Fatal("a smaller size served the original")
	}
}

func TestOrientationIsBakedIn(t *testing.T) {
	f := newFixture(t, nil)
	for n := 1; n <= 8; n++ {
		key := "oriented-" + string(rune('0'+n))
		f.put(key, testimage.Oriented(t, 400, 200, n))
		resp, body := f.get("/" + key + "?w=200&fm=png")
		if resp.StatusCode != 200 {
			t.Fatalf("orientation %d: %d %s", n, resp.StatusCode, body)
		}
		img := decode(t, body)
		if img.Width() != 200 || img.Height() != 100 {
			t.Errorf("orientation %d: %dx%d, want 200x100", n, img.Width(), img.Height())
		}
		for _, p := range []struct {
			x, y int
			rgb  [3]float64
		}{{10, 10, [3]float64{220, 0, 0}}, {190, 90, [3]float64{0, 0, 220}}} {
			px, _ := img.GetPoint(p.x, p.y)
			if diff(px, p.rgb) > 30 {
				t.Errorf("orientation %d: pixel (%d,%d) = %v, want %v", n, p.x, p.y, px[:3], p.rgb)
			}
		}
	}
}

// An Adobe RGB photo must come out with the colours of its sRGB twin: the
// profile is applied, not dropped.
func TestAdobeRGBComesOutAsSRGB(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/davidbyttow/govips/v2").Output()
	if err != nil {
		t.Fatalf("locating govips' bundled Adobe RGB profile: %v", err)
	}
	adobe := filepath.Join(strings.TrimSpace(string(out)), "resources", "adobe-rgb.icc")
	f := newFixture(t, nil)
	photo := testimage.Photo(t, 400, 300)
	f.put("srgb", testimage.PNG(t, photo))
	if err := photo.TransformICCProfileWithFallback(adobe, vips.SRGBIEC6196621ICCProfilePath); err != nil {
		t.Fatal(err)
	}
	f.put("adobe", testimage.PNG(t, photo))
	raw := decode(t, testimage.PNG(t, photo)) // Adobe RGB numbers, shown as if sRGB
	_, a := f.get("/adobe?w=200&fm=png")
	_, s := f.get("/srgb?w=200&fm=png")
	ai, si := decode(t, a), decode(t, s)
	if len(ai.GetICCProfile()) != 0 {
		t.Error("output still carries an ICC profile")
	}
	var worst, rawWorst float64
	for _, p := range [][2]int{{20, 20}, {100, 75}, {180, 140}, {60, 120}, {150, 30}} {
		pa, _ := ai.GetPoint(p[0], p[1])
		ps, _ := si.GetPoint(p[0], p[1])
		pr, _ := raw.GetPoint(p[0]*2, p[1]*2)
		worst = max(worst, diff(pa, [3]float64(ps[:3])))
		rawWorst = max(rawWorst, diff(pr, [3]float64(ps[:3])))
	}
	if rawWorst < 10 {
		t.Fatalf("test is too weak: Adobe RGB numbers differ from sRGB by only %.0f", rawWorst)
	}
	if worst > 4 {
		t.Fatalf("Adobe RGB output differs from its sRGB twin by %.0f levels (unconverted: %.0f)", worst, rawWorst)
	}
}

func TestSignatureAndLadder(t *testing.T) {
	f := newFixture(t, nil)
	photo := testimage.Photo(t, 800, 600)
	f.put("p", testimage.JPEG(t, photo))
	signed := func(key, query string) string {
		q, _ := url.ParseQuery(query)
		return "/p?" + query + "&s=" + sign.Sign([]byte(key), "/p", q)
	}
	cases := []struct {
		name, path string
		status     int
		body       string
	}{
		{"ladder size, unsigned", "/p?w=320", 200, ""},

		{"off-ladder size, signed with the current key", signed("current-signing-key!", "w=333"), 200, ""},
		{"signed with an older key still accepted", signed("old-key-still-valid!", "w=333&fm=png"), 200, ""},
		{"signed with an unknown key", signed("somebody-elses-key!!", "w=333"), 403, "signature"},
		{"signature for other parameters", strings.Replace(signed("current-signing-key!", "w=333"), "w=333", "w=334", 1), 403, "signature"},
	}
	for _, c := range cases {
		resp, body := f.get(c.path)
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.body) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, resp.StatusCode, body, c.status, c.body)
		}
	}
	// Parameter order does not matter to the signature.
	q, _ := url.ParseQuery("w=333&fm=png")
	s := sign.Sign([]byte("current-signing-key!"), "/p", q)
	if resp, body := f.get("/p?fm=png&w=333&s=" + s); resp.StatusCode != 200 {
		t.Errorf("reordered signed query: %d %s", resp.StatusCode, body)
	}
}

func TestCachingHeadersConditionalAndHead(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.StaleIfError = 24 * time.Hour })
	photo := testimage.Photo(t, 800, 600)
	f.put("p", testimage.JPEG(t, photo))
	resp, body := f.get("/p?w=320")
	h := resp.Header
	etag := h.Get("ETag")
	if resp.StatusCode != 200 || !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("status %d, ETag %q: want a strong ETag", resp.StatusCode, etag)
	}
	for k, want := range map[string]string{
		"Cache-Control":          "public, max-age=31536000, immutable, stale-if-error=86400",
		"Content-Type":           "image/jpeg",
		"X-Content-Type-Options": "nosniff",
		"Vary":                   "",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if h.Get("Last-Modified") == "" || h.Get("Content-Length") != itoa(len(body)) {
		t.Errorf("Last-Modified %q, Content-Length %q for %d bytes", h.Get("Last-Modified"), h.Get("Content-Length"), len(body))
	}
	// Revalidation: 304, with or without the variant still in memory.
	if resp, _ := f.get("/p?w=320", "If-None-Match", etag); resp.StatusCode != 304 || resp.Header.Get("ETag") != etag {
		t.Errorf("If-None-Match from cache: %d", resp.StatusCode)
	}
	f.h.variants = newByteCache(1<<20, func(v *variant) int64 { return int64(len(v.data)) })
	f.h.originals = newByteCache(1<<20, func(o *original) int64 { return int64(len(o.data)) })
	gets := f.store.gets.Load()
	if resp, _ := f.get("/p?w=320", "If-None-Match", etag); resp.StatusCode != 304 {
		t.Errorf("If-None-Match after eviction: %d", resp.StatusCode)
	}
	if f.store.gets.Load() != gets {
		t.Error("a revalidation read the original: it should need only its ETag")
	}
	if resp, _ := f.get("/p?w=320", "If-None-Match", `"something-else"`); resp.StatusCode != 200 {
		t.Errorf("non-matching If-None-Match: %d", resp.StatusCode)
	}
	// Other options, other ETag.
	if other, _ := f.get("/p?w=640"); other.Header.Get("ETag") == etag {
		t.Error("two variants share an ETag")
	}
	// HEAD: same headers, no body.
	head, hbody := f.do("HEAD", "/p?w=320")
	if head.StatusCode != 200 || len(hbody) != 0 || head.Header.Get("ETag") != etag || head.Header.Get("Content-Length") != itoa(len(body)) {
		t.Errorf("HEAD: %d, %d body bytes, ETag %q, Content-Length %q", head.StatusCode, len(hbody), head.Header.Get("ETag"), head.Header.Get("Content-Length"))
	}
	// auto=format: Vary: Accept, and the format follows Accept.
	resp, _ = f.get("/p?w=320&auto=format", "Accept", "image/avif,image/webp,*/*")
	if resp.Header.Get("Vary") != "Accept" || resp.Header.Get("Content-Type") != "image/avif" {
		t.Errorf("auto=format with AVIF accepted: Vary %q, %s", resp.Header.Get("Vary"), resp.Header.Get("Content-Type"))
	}
	resp, _ = f.get("/p?w=320&auto=format", "Accept", "image/webp,*/*")
	if resp.Header.Get("Content-Type") != "image/webp" {
		t.Errorf("auto=format with WebP accepted: %s", resp.Header.Get("Content-Type"))
	}
	resp, _ = f.get("/p?w=320&auto=format", "Accept", "image/*")
	if resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("auto=format without WebP: %s", resp.Header.Get("Content-Type"))
	}
}

func TestErrorStatusesAndHeaders(t *testing.T) {
	const limit = 64 << 10
	f := newFixture(t, func(c *Config) { c.MaxSourceBytes = limit })
	big := testimage.Photo(t, 1000, 1000)
	defer big.Close()
	if b := testimage.PNG(t, big); len(b) <= limit {
		t.Fatalf("test PNG is %d bytes, not over the %d limit", len(b), limit)
	} else {
		f.put("big", b)
	}
	f.put("text", []byte("<html>this is not an image at all</html>"))
	cases := []struct {
		path   string
		status int
	}{
		{"/?w=320", 404},
		{"/missing?w=320", 404},
		{"/a/../b?w=320", 400},
		{"/text?w=320", 415},
		{"/big?w=320", 413},
		{"/missing?w=320&bri=500", 400},
	}
	for _, c := range cases {
		resp, body := f.get(c.path)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.path, resp.StatusCode, body, c.status)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=60" {
			t.Errorf("%s: Cache-Control %q, want a short public cache for 4xx", c.path, cc)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || !strings.HasPrefix(string(body), itoa(c.status)) || strings.Count(string(body), "\n") != 1 {
			t.Errorf("%s: %s %q: want a one-line text reason", c.path, ct, body)
		}
	}
	f.store.fail = errors.New("connection reset by peer")
	resp, _ := f.get("/down?w=320")
	if resp.StatusCode != 503 || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("store failure: %d, Cache-Control %q; want 503 no-store with Retry-After", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

// Many concurrent requests for one uncached original make exactly one store
// fetch; many for one variant make exactly one render.
func TestCoalescing(t *testing.T) {
	f := newFixture(t, nil)
	f.store.delay = 100 * time.Millisecond
	photo := testimage.Photo(t, 1600, 1200)
	f.put("p", testimage.JPEG(t, photo))
	sizes := []string{"320", "640", "128", "960"}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := f.get("/p?w=" + sizes[i%len(sizes)])
			if resp.StatusCode != 200 {
				t.Errorf("%d %s", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	if n := f.store.gets.Load(); n != 1 {
		t.Fatalf("40 concurrent requests made %d store fetches, want 1", n)
	}
	if n := observations(t, f.reg, "imgorigin_resizer_stage_duration_seconds", "render"); n != float64(len(sizes)) {
		t.Fatalf("%d renders for %d distinct variants", int(n), len(sizes))
	}
	if c := testutil.ToFloat64(f.h.metrics.coalesced.WithLabelValues("render")); c < 1 {
		t.Fatalf("coalesced renders counted %v", c)
	}
}

// observations counts what a histogram saw under one label value.
func observations(t testing.TB, reg *prometheus.Registry, metric, labelValue string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == labelValue {
					return float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return 0
}

func TestOverloadAnswers503Fast(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Concurrency, c.QueueLength, c.Deadline = 1, 1, 300*time.Millisecond })
	photo := testimage.Photo(t, 800, 600)
	f.put("p", testimage.JPEG(t, photo))
	// Occupy the one slot, and the one queue place.
	if err := f.h.pool.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	queued := make(chan error, 1)
	go func() { queued <- f.h.pool.Acquire(context.Background()) }()
	testwait.For(t, "one request queued", func() bool { return f.h.pool.Waiting() == 1 })
	start := time.Now()
	resp, body := f.get("/p?w=320")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("full queue: %d %s, Retry-After %q", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(string(body), "queue is full") {
		t.Errorf("full queue reason: %s", body)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("full queue took %v to answer; it must not wait", d)
	}
	// With a place in the queue but no free slot, the deadline answers 503.
	f.h.pool.Release()
	<-queued // the queued acquirer now holds the slot
	start = time.Now()
	resp, body = f.get("/p?w=640")
	if resp.StatusCode != 503 || !strings.Contains(string(body), "deadline") {
		t.Fatalf("deadline: %d %s", resp.StatusCode, body)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("deadline answer after %v, want about 300ms", d)
	}
	f.h.pool.Release()
	if resp, _ := f.get("/p?w=640"); resp.StatusCode != 200 {
		t.Errorf("after overload: %d", resp.StatusCode)
	}
}

func TestHostileInputIsRefusedQuickly(t *testing.T) {
	f := newFixture(t, nil)
	photo := testimage.Photo(t, 600, 400)
	full := testimage.JPEG(t, photo)
	hostile := map[string][]byte{
		"bomb-png-30000x30000":    testimage.PNGClaiming(t, 30000, 30000),
		"jpeg-claims-65500x65500": testimage.JPEGClaiming(t, 65500, 65500),
		"truncated-jpeg":          full[:len(full)*6/10],
		"not-an-image":            []byte("<!doctype html><html><body>hello</body></html>"),
		"svg":                     []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><script>alert(1)</script></svg>`),
		"bmp-claims-huge":         append([]byte("BM\x9a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\xff\xff\xff\x7f\xff\xff\xff\x7f\x01\x00\x18\x00"), make([]byte, 120)...),
		"empty":                   {},
	}
	for name, b := range hostile {
		f.put(name, b)
		start := time.Now()
		resp, body := f.get("/" + name + "?w=320")
		took := time.Since(start)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s: %d %s, want a 4xx", name, resp.StatusCode, body)
		}
		// Generous bound for a loaded CI machine; typical is a few ms.
		if took > 500*time.Millisecond {
			t.Errorf("%s: refused after %v", name, took)
		}
	}
}

func diff(px []float64, want [3]float64) float64 {
	var d float64
	for i := range 3 {
		d = max(d, abs64(px[i]-want[i]))
	}
	return d
}

func abs64(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func itoa(n int) string { return strconv.Itoa(n) }
