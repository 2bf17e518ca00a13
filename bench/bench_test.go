package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
	"github.com/imgorigin/imgorigin/storage/storagetest"
)

func TestMain(m *testing.M) { testimage.Main(m) }

// A short run of every scenario against the in-process server: the report must
// hold real, error-free figures in the JSON fields scripts read.
func TestRunReportsEveryScenario(t *testing.T) {
	dir := t.TempDir()
	// All but the 32-upload memory scenario, which is slow by design.
	scenarios := Scenarios[:len(Scenarios)-1]
	cfg := Config{Duration: 400 * time.Millisecond, Warmup: 100 * time.Millisecond, Concurrency: 2, DataDir: filepath.Join(dir, "store"), Scenarios: scenarios, Generated: 3}
	rep, err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(scenarios) {
		t.Fatalf("%d results for %d scenarios", len(rep.Results), len(scenarios))
	}
	for _, r := range rep.Results {
		if r.Requests == 0 || r.Errors != 0 || r.RPS <= 0 || r.P50 <= 0 || r.P50 > r.P99 || r.P99 > r.Max || r.RSSMB <= 0 {
			t.Errorf("%s: implausible %+v", r.Scenario, r)
		}
	}
	byName := map[string]Result{}
	for _, r := range rep.Results {
		byName[r.Scenario] = r
	}
	if c := byName["cold"]; c.FloorRPS <= 0 || c.FloorRatio <= 0 || c.StoreGetsPerImage != 1 || c.VariantHitRatio != 0 {
		t.Errorf("cold must read the store once per image and hit no cache: %+v", c)
	}
	// Where a render's time goes, from the small copies (the generated
	// originals, 2048 px, have them), and the 12 MP originals' too.
	for _, name := range []string{"cold", "cold-1080", "cold-1080-browser", "cold-12mp-1080"} {
		r := byName[name]
		st := r.Stages
		if r.FloorRPS <= 0 || st == nil || st.Renders == 0 || st.FromSmall != st.Renders || st.Decode <= 0 || st.Encode <= 0 || st.SourceMP > 1.5 {
			t.Errorf("%s: floor %.1f/s, stages %+v; want a floor and every render from a small copy", name, r.FloorRPS, st)
		}
	}
	if h := byName["hot"]; h.VariantHitRatio < 0.99 || h.StoreGetsPerImage != 0 {
		t.Errorf("hot must be served from the variant cache: %+v", h)
	}
	// Each URL is asked once (TestOriginTrafficAsksEachURLOncePerEdge); the
	// size ladder and the original's own size still fold a few onto one variant.
	if s := byName["shield"]; s.VariantHitRatio >= 0.5 || s.FloorRPS <= 0 {
		t.Errorf("shield must mostly render and measure its floor: %+v", s)
	}
	if u := byName["upload"]; u.StatusCounts[201] != u.Requests {
		t.Errorf("uploads: %+v", u.StatusCounts)
	}
	if a := byName["upload-12mp"].Aborted; a == nil || a.Count != 200 || a.BaselineMB <= 0 || a.AfterMB <= 0 {
		t.Errorf("aborted uploads not measured: %+v", a)
	}
	if len(rep.Corpus.Files) == 0 || rep.Corpus.Files[0].SSIM < 0.9 || rep.Corpus.Files[0].OriginalBytes <= 0 || rep.Corpus.Files[0].SmallCopyBytes <= 0 {
		t.Errorf("corpus cost lines: %+v", rep.Corpus.Files)
	}
	js := filepath.Join(dir, "r.json")
	if err := rep.WriteJSON(js); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	b, _ := os.ReadFile(js)
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "requests", "errors", "rps", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "rss_mb"} {
		if _, ok := rows[0][k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if _, ok := rows[0]["floor_ratio"]; !ok {
		t.Error("cold JSON lacks floor_ratio")
	}
	var md strings.Builder
	rep.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "| cold | closed c=2 |") {
		t.Errorf("markdown lacks the cold row:\n%s", md.String())
	}
}

func TestOriginTrafficAsksEachURLOncePerEdge(t *testing.T) {
	tgt := &target{}
	for i := range zipfPhotos {
		tgt.zipfKeys = append(tgt.zipfKeys, fmt.Sprintf("zipf/%04d", i))
	}
	for _, edges := range []int{1, 10} {
		next, rng := originTraffic(edges), rand.New(rand.NewPCG(1, 2))
		asked := map[string]int{}
		for i := range 2000 {
			asked[next(rng, tgt, 0, i).path]++
		}
		most := 0
		for _, n := range asked {
			most = max(most, n)
		}
		if most > edges || (edges > 1 && most == 1) {
			t.Errorf("%d edges: a URL asked up to %d times over %d URLs", edges, most, len(asked))
		}
	}
}

func TestOpenLoopCountsFromTheSchedule(t *testing.T) {
	cfg := Config{Duration: time.Second, Rate: 50, Concurrency: 2, DataDir: t.TempDir(), Scenarios: []string{"hot"}, Generated: 2}
	rep, err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Results[0]
	if r.Requests < 45 || r.Requests > 55 || !strings.HasPrefix(r.Mode, "open") {
		t.Fatalf("open loop at 50/s for 1s sent %d requests (%s)", r.Requests, r.Mode)
	}
}

func TestMigrateScenario(t *testing.T) {
	t.Parallel() // asserts no timing: shares the CPU with the others that assert none
	cfg := Config{DataDir: t.TempDir(), Scenarios: []string{"migrate"}, MigratePhotos: 30, Generated: 2}
	rep, err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Migrate
	if m == nil || m.Photos != 30 || len(m.RSSQuartilesMB) != 4 {
		t.Fatalf("migrate result %+v", m)
	}
	// The figures follow from one another as the report says they do.
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	if !near(m.PhotosPerSecond, 30/m.Seconds) || !near(m.PerCore, m.PhotosPerSecond/float64(runtime.NumCPU())) ||
		!near(m.CostPerMillion, m.CPUSecondsPhoto*1e6/3600*SpotVCPUHour) || m.CPUSecondsPhoto <= 0 {
		t.Errorf("migrate figures disagree: %+v", m)
	}
	if slices.Min(m.RSSQuartilesMB) <= 0 {
		t.Errorf("RSS at 25, 50, 75 and 100 %% of the run: %v", m.RSSQuartilesMB)
	}
	// Every legacy photo became one WebP original, capped at 2560 px, and
	// its small copy, at most 1280 px.
	migrated, err := disk.New(filepath.Join(cfg.DataDir, "migrate", "migrated"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := migrated.List(context.Background(), "", "", 100)
	if err != nil || len(page.Items) != 60 {
		t.Fatalf("the destination holds %d objects (%v), want 30 originals and their small copies", len(page.Items), err)
	}
	for _, it := range page.Items {
		edge := 2560
		if k, small := strings.CutSuffix(it.Key, ".small"); small {
			edge = imaging.DefaultOriginal().SmallEdge
			if _, err := migrated.Head(context.Background(), k); err != nil {
				t.Errorf("small copy %s without its original: %v", it.Key, err)
			}
		}
		obj, err := migrated.Get(context.Background(), it.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := storage.ReadAll(obj, 64<<20)
		if err != nil {
			t.Fatal(err)
		}
		h, err := imaging.Probe(b)
		if err != nil || h.Format != imaging.WebP || max(h.Width, h.Height) > edge {
			t.Fatalf("%s: %+v, %v; want a WebP of at most %d px", it.Key, h, err, edge)
		}
	}
}

// The regions scenario against the real S3-compatible server: reads from the
// far bucket pay the round trip put in front of it, local and replica reads
// do not, and the originals cache hides it for a photo's later sizes.
func TestRegionsScenario(t *testing.T) {
	cfg := Config{Duration: 1500 * time.Millisecond, Concurrency: 2, DataDir: t.TempDir(), Scenarios: []string{"regions"},
		S3Endpoint: storagetest.S3Endpoint(t), RemoteRTT: 80 * time.Millisecond, RegionsRemoteKeys: 40, Generated: 2}
	rep, err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]Result{}
	for _, r := range rep.Results {
		rows[r.Scenario] = r
		if r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s: %+v", r.Scenario, r)
		}
	}
	local, replica, remote := rows["regions-local"], rows["regions-replica"], rows["regions-remote"]
	// A remote read pays the round trip the proxy puts in front of the far
	// bucket: a floor its sleep guarantees, however loaded the machine.
	// How it compares with local and replica reads is the report's to say,
	// not a test's: on two loaded cores p50s cross.
	if rtt := float64(cfg.RemoteRTT.Milliseconds()); remote.P50 < 0.9*rtt {
		t.Errorf("remote p50 %.1f ms is not a round trip (%v): local %.1f, replica %.1f", remote.P50, cfg.RemoteRTT, local.P50, replica.P50)
	}
	// What the originals cache hides is counted in reads of the far bucket,
	// not timed: with two clients on two loaded cores, a p50 over some twenty
	// requests is not firm (an empty-cache make test saw cached 309 ms
	// against uncached 212 ms).
	sizes, cached := rows["regions-remote-sizes"], rows["regions-remote-sizes-cached"]
	if cached.StoreGetsPerImage > 0.5 || sizes.StoreGetsPerImage != 1 || cached.OriginalHitRatio < 0.5 {
		t.Errorf("the originals cache hides nothing: uncached %+v, cached %+v", sizes, cached)
	}
}

// The views scenario measures what browsers ask of a default resizer: bytes
// a view and butteraugli's distance to a lossless rendition, per format and
// size class, over a srcset and the shield mix.
func TestViewsScenario(t *testing.T) {
	t.Parallel() // asserts no timing: shares the CPU with the others that assert none
	cfg := Config{DataDir: t.TempDir(), Scenarios: []string{"views"}, ViewsPhotos: 1, ViewsShield: 3, Generated: 2}
	rep, err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Views
	if v == nil || v.SrcsetBytes <= 0 || v.ShieldPerView <= 0 {
		t.Fatalf("views report %+v", v)
	}
	views, srcset := 0, 0
	for _, r := range v.Rows {
		views += r.Views
		if r.Set == "srcset" {
			srcset += r.Views
		}
		// WebP q80 of a photo is visibly but not grossly off a lossless one.
		if r.Distance <= 0.5 || r.Distance >= 8 || r.BytesPerView <= 0 || r.P50ms <= 0 || r.P99ms < r.P50ms {
			t.Errorf("row %+v", r)
		}
	}
	if views != 2*(3+3) || srcset != 2*3 {
		t.Fatalf("%d views (%d of the srcset), want 12 (6): each asked with and without AVIF", views, srcset)
	}
	// Each srcset class pairs what browsers get with WebP.
	classes := 0
	for _, c := range v.Classes {
		if c.Set == "srcset" {
			classes++
		}
		if c.WebPBytes <= 0 || c.WebPDistance <= 0 || c.Bytes <= 0 {
			t.Errorf("class %+v", c)
		}
	}
	if classes != 3 {
		t.Errorf("%d srcset classes compared, want 3: %+v", classes, v.Classes)
	}
}

// The quality scenario sweeps encoder qualities: per format, more quality
// costs more bytes and brings the rendition nearer the lossless one.
func TestQualityScenario(t *testing.T) {
	t.Parallel() // asserts no timing: shares the CPU with the others that assert none
	grid := qualityGrid
	qualityGrid = map[imaging.Format][]int{imaging.WebP: {50, 90}, imaging.AVIF: {40, 80}}
	t.Cleanup(func() { qualityGrid = grid })
	cfg := Config{DataDir: t.TempDir(), Scenarios: []string{"quality"}, ViewsPhotos: 1, Generated: 1}
	rep, err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Quality) != 2*2*3 {
		t.Fatalf("%d rows, want 12: %+v", len(rep.Quality), rep.Quality)
	}
	at := map[[3]any]QualityRow{}
	for _, r := range rep.Quality {
		at[[3]any{r.Format, r.Quality, r.Width}] = r
		if r.Bytes <= 0 || r.Ms <= 0 || r.Distance <= 0 {
			t.Errorf("row %+v", r)
		}
	}
	for _, f := range []string{"webp", "avif"} {
		lo, hi := qualityGrid[imaging.Format(f)][0], qualityGrid[imaging.Format(f)][1]
		for _, w := range []int{320, 640, 1080} {
			l, h := at[[3]any{f, lo, w}], at[[3]any{f, hi, w}]
			if h.Bytes <= l.Bytes || h.Distance >= l.Distance {
				t.Errorf("%s at %d px: q%d %+v against q%d %+v", f, w, hi, h, lo, l)
			}
		}
	}
}
