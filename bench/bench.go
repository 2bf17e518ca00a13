// Package bench drives imgorigin the way users do and reports latency,
// throughput, memory and CPU, with cold throughput as a ratio of the floor:
// the same images and sizes through libvips alone, in-process, on the same cores.
package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/resizer"
	"github.com/imgorigin/imgorigin/role"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/storage/disk"
	"github.com/imgorigin/imgorigin/token"
)

// Config of a run; the flags of `imgorigin bench` fill it.
type Config struct {
	Scenarios   []string      // default: all
	Duration    time.Duration // measured time per scenario
	Warmup      time.Duration // unmeasured time before it
	Concurrency int           // closed loop: requests in flight
	Rate        float64       // open loop: arrivals per second (0: closed loop)
	Corpus      string        // directory of photos; "": generated
	URL         string        // a running server; "": start one in-process
	AdminURL    string        // its metrics listener, for cache and store figures
	Keys        []string      // originals on the running server (with URL)
	DataDir     string        // scratch for the in-process store
	// Generated is how many photos are drawn when Corpus is "" (default 8):
	// tests that need only a few skip the others' drawing and ingest.
	Generated int
	// MigratePhotos is how many legacy photos the migrate scenario moves.
	MigratePhotos int
	// S3Endpoint is the S3-compatible server the regions scenario makes its
	// two buckets on; RemoteRTT the round trip it puts in front of the far
	// one; RegionsRemoteKeys how many far keys it stores.
	S3Endpoint        string
	RemoteRTT         time.Duration
	RegionsRemoteKeys int
	// ViewsPhotos is how many originals the views scenario asks a srcset of
	// (0: all), ViewsShield how many views of the shield mix it adds.
	ViewsPhotos int
	ViewsShield int
}

// Scenarios are the names --scenario accepts, in run order.
var Scenarios = []string{"cold", "cold-1080", "cold-browser", "cold-1080-browser", "cold-12mp-1080", "warm-original", "hot", "zipf", "shield", "edges", "upload", "upload-12mp", "upload-12mp-c32"}

// zipfPhotos is how many photos the zipf scenario draws from.
const zipfPhotos = 300

func get(path, accept string) request { return request{method: "GET", path: path, accept: accept} }

// upload sends the worker's next source with the worker's own token.
func upload(_ *rand.Rand, t *target, worker, i int) request {
	return request{method: "POST", path: "/v1/uploads", auth: t.tokens[worker%len(t.tokens)], body: t.sources[i%len(t.sources)]}
}

// twelveMP draws n 4000x3000 photo-like JPEGs.
func twelveMP(n int) func() ([][]byte, error) {
	return func() ([][]byte, error) { return photoJPEGs(n, 4000, 3000, 100) }
}

// request is one request a scenario sends.
type request struct {
	method, path string
	accept       string
	auth         string // bearer token
	body         []byte // sent as image/jpeg
}

// target is what requests are drawn from: originals to resize, sources and
// upload tokens (one per worker, so workers never coalesce) to upload.
type target struct {
	keys     []string
	zipfKeys []string // many photos, for the zipf scenario
	// keys12 are 12 MP originals, originals12 their bytes, for the
	// scenarios that ask of them
	keys12      []string
	originals12 [][]byte
	sources     [][]byte
	tokens      []string
}

// scenario says how the in-process server is set up and what each request asks.
type scenario struct {
	name          string
	originalCache bool
	variantCache  bool
	next          func(rng *rand.Rand, t *target, worker, i int) request
	floorWidth    int            // >0: also measure the libvips floor at this width, and where a render's time goes
	floorFormat   imaging.Format // of the floor and the stages; default WebP
	twelveMP      bool           // asks of 12 MP originals (target.keys12)
	noSmallCopies bool           // the resizer reads originals only
	concurrency   int            // >0: overrides --concurrency (the scenario is about it)
	sources       func() ([][]byte, error)
	description   string
}

// appSizes are a photo app's views: list, detail, full screen; dpr is drawn apart.
var appSizes = []struct {
	query  string
	weight int
}{{"w=160&h=160&fit=crop", 50}, {"w=400", 30}, {"w=390&h=844&fit=max", 20}}

// originTraffic is what an origin behind a CDN sees: photos by Zipf
// popularity at the app's sizes and dpr 1-3 (20/40/40 %), each variant at
// most once per edge, the CDN holding it after.
func originTraffic(edges int) func(*rand.Rand, *target, int, int) request {
	var mu sync.Mutex
	var zipf *rand.Zipf
	seen := map[string]bool{}
	return func(rng *rand.Rand, t *target, _, _ int) request {
		mu.Lock()
		defer mu.Unlock()
		if zipf == nil {
			zipf = rand.NewZipf(rand.New(rand.NewPCG(11, 11)), 1.1, 1, uint64(len(t.zipfKeys)-1))
		}
		for tries := 0; ; tries++ {
			key := t.zipfKeys[zipf.Uint64()]
			size, p := appSizes[0].query, rng.IntN(100)
			for _, s := range appSizes {
				if p -= s.weight; p < 0 {
					size = s.query
					break
				}
			}
			dpr := []int{1, 2, 2, 3, 3}[rng.IntN(5)]
			path := fmt.Sprintf("/%s?%s&dpr=%d&fm=webp", key, size, dpr)
			if id := fmt.Sprint(rng.IntN(edges), path); !seen[id] || tries > 1000 {
				seen[id] = true
				return get(path, "")
			}
		}
	}
}

// mobileWidth draws the mobile size mix: 10 % 1080, 30 % 640, 40 % 320, 20 % 128.
func mobileWidth(rng *rand.Rand) int {
	switch p := rng.IntN(100); {
	case p < 10:
		return 1080
	case p < 40:
		return 640
	case p < 80:
		return 320
	}
	return 128
}

func scenarios() map[string]scenario {
	zipfOnce := sync.Mutex{}
	var zipf *rand.Zipf
	return map[string]scenario{
		"cold": {name: "cold", floorWidth: 320, description: "320 px WebP, no cache: fetch + decode + resize + encode every time",
			next: func(_ *rand.Rand, t *target, _, i int) request {
				return get(fmt.Sprintf("/%s?w=320&fm=webp", t.keys[i%len(t.keys)]), "")
			}},
		"cold-1080": {name: "cold-1080", floorWidth: 1080, description: "1080 px WebP, no cache (the largest mobile size)",
			next: func(_ *rand.Rand, t *target, _, i int) request {
				return get(fmt.Sprintf("/%s?w=1080&fm=webp", t.keys[i%len(t.keys)]), "")
			}},
		// What browsers get by default (AVIF since auto=format chooses it),
		// beside WebP's cold and cold-1080 in the same run.
		"cold-browser": {name: "cold-browser", description: "as cold, asked as a browser asks: auto=format, Accept " + viewsAccept,
			next: func(_ *rand.Rand, t *target, _, i int) request {
				return get(fmt.Sprintf("/%s?w=320&auto=format", t.keys[i%len(t.keys)]), viewsAccept)
			}},
		"cold-1080-browser": {name: "cold-1080-browser", floorWidth: 1080, floorFormat: imaging.AVIF, description: "as cold-1080, asked as a browser asks: auto=format, Accept " + viewsAccept,
			next: func(_ *rand.Rand, t *target, _, i int) request {
				return get(fmt.Sprintf("/%s?w=1080&auto=format", t.keys[i%len(t.keys)]), viewsAccept)
			}},
		"cold-12mp-1080": {name: "cold-12mp-1080", floorWidth: 1080, twelveMP: true, description: "as cold-1080, from 12 MP originals (the corpus upscaled, stored whole as a phone's photo with --original-max-edge 4500)",
			next: func(_ *rand.Rand, t *target, _, i int) request {
				return get(fmt.Sprintf("/%s?w=1080&fm=webp", t.keys12[i%len(t.keys12)]), "")
			}},
		"warm-original": {name: "warm-original", originalCache: true, description: "originals in memory, every variant rendered (mobile size mix)",
			next: func(rng *rand.Rand, t *target, _, i int) request {
				return get(fmt.Sprintf("/%s?w=%d&fm=webp", t.keys[i%len(t.keys)], mobileWidth(rng)), "")
			}},
		"hot": {name: "hot", originalCache: true, variantCache: true, description: "one cached 320 px variant",
			next: func(_ *rand.Rand, t *target, _, _ int) request {
				return get(fmt.Sprintf("/%s?w=320&fm=webp", t.keys[0]), "")
			}},
		"zipf": {name: "zipf", originalCache: true, variantCache: true, description: fmt.Sprintf("Zipf (s=1.1) popularity over %d photos, mobile size mix, auto=format with 70 %% WebP / 30 %% JPEG clients, caches at their defaults", zipfPhotos),
			next: func(rng *rand.Rand, t *target, _, _ int) request {
				zipfOnce.Lock()
				if zipf == nil {
					zipf = rand.NewZipf(rand.New(rand.NewPCG(7, 7)), 1.1, 1, uint64(len(t.zipfKeys)-1))
				}
				k := t.zipfKeys[zipf.Uint64()]
				zipfOnce.Unlock()
				accept := "image/webp,image/*"
				if rng.IntN(100) >= 70 {
					accept = "image/jpeg,image/*"
				}
				return get(fmt.Sprintf("/%s?w=%d&auto=format", k, mobileWidth(rng)), accept)
			}},
		"shield": {name: "shield", originalCache: true, variantCache: true, floorWidth: 400, next: originTraffic(1),
			description: fmt.Sprintf("origin behind a CDN with an origin shield: every variant asked once; Zipf (s=1.1) over %d photos, list (160x160 crop), detail (400 w) and full screen (390x844 max) at dpr 1-3", zipfPhotos)},
		"edges": {name: "edges", originalCache: true, variantCache: true, floorWidth: 400, next: originTraffic(10),
			description: "as shield without the shield: each variant asked at most once by each of 10 edges"},
		"upload": {name: "upload", description: "upload token -> POST /v1/uploads of a corpus photo -> stored WebP original (201)",
			next: upload},
		"upload-12mp": {name: "upload-12mp", sources: twelveMP(1), description: "as upload, with a 12 MP (4000x3000) JPEG",
			next: upload},
		"upload-12mp-c32": {name: "upload-12mp-c32", concurrency: 32, sources: twelveMP(4), description: "32 concurrent 12 MP uploads: the memory bound (RSS is the peak sampled)",
			next: upload},
	}
}

// DefaultConfig is the Config `imgorigin bench` starts from: its flags take
// their defaults from it.
func DefaultConfig() Config {
	return Config{Duration: 20 * time.Second, Warmup: 3 * time.Second, Concurrency: 2, MigratePhotos: 1000, ViewsShield: 60,
		RemoteRTT: 80 * time.Millisecond, RegionsRemoteKeys: 300}
}

// Run executes the scenarios and returns one result each (see withDefaults
// for what cfg may leave zero).
func Run(ctx context.Context, cfg Config, log *slog.Logger) (*Report, error) {
	cfg = cfg.withDefaults()
	all := scenarios()
	for _, s := range cfg.Scenarios {
		if _, ok := all[s]; !ok && s != "migrate" && s != "regions" && s != "views" && s != "quality" {
			return nil, fmt.Errorf("unknown scenario %q (known: %s, migrate, regions, views, quality)", s, strings.Join(Scenarios, ", "))
		}
	}
	rep := &Report{Started: time.Now().UTC(), Config: cfg}
	var originals [][]byte
	tgt := &target{keys: cfg.Keys}
	var st *disk.Store
	var in *ingest.Ingester
	if cfg.URL == "" {
		var err error
		twelve := slices.ContainsFunc(cfg.Scenarios, func(name string) bool { return all[name].twelveMP })
		if st, in, originals, err = ingestCorpus(ctx, cfg, tgt, rep, twelve, log); err != nil {
			return nil, err
		}
	}
	if tgt.zipfKeys == nil {
		tgt.zipfKeys = tgt.keys
	}
	if len(tgt.keys) == 0 {
		return nil, errors.New("bench: --url needs --keys (originals on that server)")
	}
	for _, name := range cfg.Scenarios {
		if cfg.URL != "" && slices.Contains([]string{"migrate", "views", "quality", "regions"}, name) {
			return nil, fmt.Errorf("%s: runs in-process only", name)
		}
		switch name {
		case "migrate":
			m, err := runMigrate(ctx, filepath.Join(cfg.DataDir, "migrate"), tgt.sources, cfg.MigratePhotos, slog.New(slog.DiscardHandler))
			if err != nil {
				return nil, fmt.Errorf("migrate: %w", err)
			}
			rep.Migrate = m
			continue
		case "views":
			v, err := runViews(ctx, role.Stores{Store: cfg.DataDir}, firstN(tgt.keys, cfg.ViewsPhotos), tgt.zipfKeys, cfg.ViewsShield, log)
			if err != nil {
				return nil, err
			}
			rep.Views = v
			continue
		case "quality":
			q, err := runQuality(ctx, firstN(originals, cfg.ViewsPhotos))
			if err != nil {
				return nil, err
			}
			rep.Quality = q
			continue
		case "regions":
			rows, err := runRegions(ctx, cfg, originals, in, log)
			if err != nil {
				return nil, err
			}
			rep.Results = append(rep.Results, rows...)
			continue
		}
		sc := all[name]
		if strings.HasPrefix(name, "upload") && cfg.URL != "" {
			return nil, fmt.Errorf("%s: upload scenarios run in-process only (they mint their own tokens)", name)
		}
		res, err := runScenario(ctx, cfg, sc, role.Stores{Store: cfg.DataDir}, tgt, log)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if sc.floorWidth > 0 && originals != nil {
			if err := againstTheFloor(ctx, cfg, sc, st, tgt, originals, &res); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		log.Info("scenario done", "scenario", name, "rps", res.RPS, "p50_ms", res.P50, "p99_ms", res.P99)
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// withDefaults is cfg with what it leaves zero taken from DefaultConfig, but
// for Duration and Warmup (a test's zero is its own), and every scenario
// when it names none.
func (cfg Config) withDefaults() Config {
	def := DefaultConfig()
	if cfg.Concurrency < 1 {
		cfg.Concurrency = def.Concurrency
	}
	if cfg.RemoteRTT <= 0 {
		cfg.RemoteRTT = def.RemoteRTT
	}
	if cfg.RegionsRemoteKeys <= 0 {
		cfg.RegionsRemoteKeys = def.RegionsRemoteKeys
	}
	if cfg.MigratePhotos <= 0 {
		cfg.MigratePhotos = def.MigratePhotos
	}
	if cfg.ViewsShield <= 0 {
		cfg.ViewsShield = def.ViewsShield
	}
	if len(cfg.Scenarios) == 0 {
		cfg.Scenarios = Scenarios
	}
	return cfg
}

// ingestCorpus stores the corpus in a disk store at cfg.DataDir as uploads
// do, into tgt (keys, sources, and the same originals again under zipfPhotos
// keys for Zipf popularity) and rep (what each original costs); with twelve,
// it also stores 12 MP originals. It returns the store, its ingester and the
// originals' bytes.
func ingestCorpus(ctx context.Context, cfg Config, tgt *target, rep *Report, twelve bool, log *slog.Logger) (*disk.Store, *ingest.Ingester, [][]byte, error) {
	srcs, err := loadCorpus(cfg.Corpus, cmp.Or(cfg.Generated, 8))
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := disk.New(cfg.DataDir)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err := newIngester(st)
	if err != nil {
		return nil, nil, nil, err
	}
	var results []ingest.Result
	var originals [][]byte
	for _, s := range srcs {
		res, err := in.Ingest(ctx, "bench", s.data)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("ingest %s: %w", s.name, err)
		}
		ssim, err := imaging.SSIM(s.data, res.Data)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("ssim %s: %w", s.name, err)
		}
		results = append(results, res)
		tgt.keys = append(tgt.keys, res.Key)
		tgt.sources = append(tgt.sources, s.data)
		originals = append(originals, res.Data)
		rep.Corpus.Files = append(rep.Corpus.Files, CorpusFile{Name: s.name, SourceBytes: int64(len(s.data)), OriginalBytes: res.Bytes,
			SmallCopyBytes: int64(len(res.Small)), Width: res.Width, Height: res.Height, SSIM: ssim, Faces: len(res.Faces)})
	}
	log.Info("corpus ingested", "files", len(tgt.keys))
	// Zipf popularity needs many photos: store the originals again under
	// more keys of ingest's form, with their small copies (the bytes are the
	// same; the caches cannot tell).
	for i := range zipfPhotos {
		res := results[i%len(results)]
		res.Key = fmt.Sprintf("%032x", i)
		if err := in.Save(ctx, &res); err != nil {
			return nil, nil, nil, err
		}
		tgt.zipfKeys = append(tgt.zipfKeys, res.Key)
	}
	if twelve {
		if tgt.keys12, tgt.originals12, err = twelveMPOriginals(ctx, st, srcs); err != nil {
			return nil, nil, nil, err
		}
	}
	return st, in, originals, nil
}

// againstTheFloor measures sc's floor on the same originals and where a
// render's time goes, into res.
func againstTheFloor(ctx context.Context, cfg Config, sc scenario, st *disk.Store, tgt *target, originals [][]byte, res *Result) error {
	keys := tgt.keys
	if sc.twelveMP {
		keys, originals = tgt.keys12, tgt.originals12
	}
	format := cmp.Or(sc.floorFormat, imaging.WebP)
	res.FloorRPS = floor(ctx, originals, sc.floorWidth, format, cfg.Concurrency, cfg.Duration)
	if res.FloorRPS > 0 {
		res.FloorRatio = res.RPS / res.FloorRPS
	}
	var err error
	if res.Stages, err = stageMedians(ctx, st, keys, sc.floorWidth, format); err != nil {
		return fmt.Errorf("stages: %w", err)
	}
	return nil
}

// firstN is s's first n elements, or all of s when n is 0 or more than it has.
func firstN[T any](s []T, n int) []T {
	if n > 0 && n < len(s) {
		return s[:n]
	}
	return s
}

// benchKeySecret makes the bench's keys.
var benchKeySecret = []byte("imgorigin-bench-key-secret")

// newIngester converts into st as uploads do, with the bench's own key secret.
func newIngester(st ingest.Store) (*ingest.Ingester, error) {
	return ingest.New(st, ingest.Config{Limits: imaging.DefaultLimits(), Original: imaging.DefaultOriginal(), KeySecret: benchKeySecret})
}

// scenarioResizer is the resizer a scenario measures: any size unsigned,
// cached as the scenario says.
func scenarioResizer(sc scenario) resizer.Config {
	rcfg := resizer.DefaultConfig()
	rcfg.AnySizeUnsigned = true
	rcfg.Concurrency = runtime.NumCPU()
	if !sc.originalCache {
		rcfg.OriginalCacheBytes = 0
	}
	if !sc.variantCache {
		rcfg.VariantCacheBytes = 0
	}
	if sc.noSmallCopies {
		rcfg.SmallCopyEdge = 0
	}
	return rcfg
}

// inProcess starts the embedded server as `imgorigin serve` assembles it
// (role.New), on stores (their data directory is made here) with a resizer
// of rcfg; it returns the base and admin URLs, the upload tokens (one per
// worker) and a stop function.
func inProcess(ctx context.Context, rcfg resizer.Config, workers int, stores role.Stores, log *slog.Logger) (base, admin string, tokens []string, stop func(), err error) {
	data, err := os.MkdirTemp("", "imgorigin-bench-data") // keys: never inside the store
	if err != nil {
		return "", "", nil, nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(data)
		}
	}()
	uploads := role.DefaultUploads()
	// The c32 scenario measures memory under load, not shedding.
	uploads.Config.QueueLength, uploads.Config.QueueTimeout = 64, time.Minute
	uploads.TokenIssuer = "imgorigin-bench"
	stores.Data = data
	r, err := role.New(ctx, role.Config{
		Server:  server.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"},
		Stores:  stores,
		Resizer: &rcfg, Uploads: &uploads, Dev: true,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", "", nil, nil, err
	}
	if err := r.Server.Listen(); err != nil {
		return "", "", nil, nil, err
	}
	for w := range workers {
		tok, _, err := r.Keys.MintUpload(fmt.Sprintf("bench-worker-%d", w), token.UploadLimits{MaxUploads: 1 << 30}, time.Hour, time.Now())
		if err != nil {
			return "", "", nil, nil, err
		}
		tokens = append(tokens, tok)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(sctx) }()
	return "http://" + r.Server.Addr(), "http://" + r.Server.AdminAddr(), tokens, func() { cancel(); <-done; os.RemoveAll(data) }, nil
}

func runScenario(ctx context.Context, cfg Config, sc scenario, stores role.Stores, tgt *target, log *slog.Logger) (Result, error) {
	if sc.concurrency > 0 {
		cfg.Concurrency = sc.concurrency
	}
	base, admin := cfg.URL, cfg.AdminURL
	t := *tgt
	if sc.sources != nil {
		var err error
		if t.sources, err = sc.sources(); err != nil {
			return Result{}, err
		}
	}
	if base == "" {
		var stop func()
		var err error
		if base, admin, t.tokens, stop, err = inProcess(ctx, scenarioResizer(sc), cfg.Concurrency, stores, log); err != nil {
			return Result{}, err
		}
		defer stop()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}, Timeout: 60 * time.Second}
	load := loader{client: client, base: base, sc: sc, target: &t, cfg: cfg}
	load.run(ctx, cfg.Warmup, nil)
	before := scrape(client, admin)
	usageBefore := readUsage()
	var rec recorder
	sample := sampleRSS(50 * time.Millisecond)
	elapsed := load.run(ctx, cfg.Duration, &rec)
	samples := sample()
	peakRSS := slices.Max(samples)
	usageAfter := readUsage()
	after := scrape(client, admin)
	res := rec.result(sc.name, elapsed)
	res.Description = sc.description
	if cfg.Rate > 0 {
		res.Mode = fmt.Sprintf("open %g/s", cfg.Rate)
	} else {
		res.Mode = fmt.Sprintf("closed c=%d", cfg.Concurrency)
	}
	if cfg.URL == "" { // the server runs in this process: its usage is ours
		res.RSSMB = mb(peakRSS)
		res.RSSQuartilesMB = quartiles(samples)
		if res.Requests > 0 {
			res.CPUSecondsPer1k = (usageAfter.cpu - usageBefore.cpu).Seconds() / float64(res.Requests) * 1000
		}
	}
	if before != nil && after != nil && !strings.HasPrefix(sc.name, "upload") {
		served := float64(res.Requests - res.Errors)
		if served > 0 {
			res.StoreGetsPerImage = (after["store_gets"] - before["store_gets"]) / served
		}
		res.VariantHitRatio = ratio(after["variant_hit"]-before["variant_hit"], after["variant_miss"]-before["variant_miss"])
		res.OriginalHitRatio = ratio(after["original_hit"]-before["original_hit"], after["original_miss"]-before["original_miss"])
	}
	if sc.name == "upload-12mp" {
		res.Aborted = abortedUploads(base, t.tokens[0], t.sources[0], 200)
	}
	return res, nil
}

func ratio(hit, miss float64) float64 {
	if hit+miss == 0 {
		return 0
	}
	return hit / (hit + miss)
}

// recorder collects latencies and statuses of measured requests.
type recorder struct {
	mu        sync.Mutex
	latencies histogram
	statuses  map[int]int
	bytes     int64
}

func (r *recorder) add(d time.Duration, status int, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.statuses == nil {
		r.statuses = map[int]int{}
	}
	r.latencies.add(d)
	r.statuses[status]++
	r.bytes += n
}

func (r *recorder) result(name string, elapsed time.Duration) Result {
	res := Result{Scenario: name, Requests: int(r.latencies.n), StatusCounts: r.statuses, BytesOut: r.bytes}
	for code, n := range r.statuses {
		if code != http.StatusOK && code != http.StatusCreated {
			res.Errors += n
		}
	}
	if elapsed > 0 {
		res.RPS = float64(res.Requests) / elapsed.Seconds()
	}
	pct := func(p float64) float64 { return ms(r.latencies.quantile(p)) }
	res.P50, res.P90, res.P99, res.P999 = pct(0.50), pct(0.90), pct(0.99), pct(0.999)
	res.Max = ms(r.latencies.max)
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// quartiles returns RSS at 25, 50, 75 and 100 % of a run, in MB: flat memory
// shows as four close numbers, a leak as a climb.
func quartiles(samples []int64) []float64 {
	var out []float64
	for _, q := range []float64{0.25, 0.5, 0.75, 1} {
		out = append(out, mb(samples[min(len(samples)-1, int(q*float64(len(samples))))]))
	}
	return out
}
