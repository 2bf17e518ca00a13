// Package bench drives imgorigin the way users do and reports latency,
// throughput, memory and CPU, with cold throughput as a ratio of the floor:
// the same images and sizes through libvips alone, in-process, on the same cores.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/resizer"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/storage/disk"
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
}

// Scenarios are the names --scenario accepts, in run order.
var Scenarios = []string{"cold", "cold-1080", "warm-original", "hot", "zipf"}

// scenario says how the in-process resizer is cached and what each request asks.
type scenario struct {
	name          string
	originalCache bool
	variantCache  bool
	next          func(rng *rand.Rand, keys []string, i int) (path, accept string)
	floorWidth    int // >0: also measure the libvips floor at this width
	description   string
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
			next: func(_ *rand.Rand, keys []string, i int) (string, string) {
				return fmt.Sprintf("/%s?w=320&fm=webp", keys[i%len(keys)]), ""
			}},
		"cold-1080": {name: "cold-1080", floorWidth: 1080, description: "1080 px WebP, no cache (the largest mobile size)",
			next: func(_ *rand.Rand, keys []string, i int) (string, string) {
				return fmt.Sprintf("/%s?w=1080&fm=webp", keys[i%len(keys)]), ""
			}},
		"warm-original": {name: "warm-original", originalCache: true, description: "originals in memory, every variant rendered (mobile size mix)",
			next: func(rng *rand.Rand, keys []string, i int) (string, string) {
				return fmt.Sprintf("/%s?w=%d&fm=webp", keys[i%len(keys)], mobileWidth(rng)), ""
			}},
		"hot": {name: "hot", originalCache: true, variantCache: true, description: "one cached 320 px variant",
			next: func(_ *rand.Rand, keys []string, _ int) (string, string) {
				return fmt.Sprintf("/%s?w=320&fm=webp", keys[0]), ""
			}},
		"zipf": {name: "zipf", originalCache: true, variantCache: true, description: "Zipf popularity, mobile size mix, auto=format with 70 % WebP / 30 % JPEG clients",
			next: func(rng *rand.Rand, keys []string, _ int) (string, string) {
				zipfOnce.Lock()
				if zipf == nil {
					zipf = rand.NewZipf(rand.New(rand.NewPCG(7, 7)), 1.1, 1, uint64(len(keys)-1))
				}
				k := keys[zipf.Uint64()]
				zipfOnce.Unlock()
				accept := "image/webp,image/*"
				if rng.IntN(100) >= 70 {
					accept = "image/jpeg,image/*"
				}
				return fmt.Sprintf("/%s?w=%d&auto=format", k, mobileWidth(rng)), accept
			}},
	}
}

// Run executes the scenarios and returns one result each.
func Run(ctx context.Context, cfg Config, log *slog.Logger) (*Report, error) {
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 2
	}
	if len(cfg.Scenarios) == 0 {
		cfg.Scenarios = Scenarios
	}
	all := scenarios()
	for _, s := range cfg.Scenarios {
		if _, ok := all[s]; !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", s, strings.Join(Scenarios, ", "))
		}
	}
	rep := &Report{Started: time.Now().UTC(), Config: cfg}
	var originals [][]byte
	keys := cfg.Keys
	var st *disk.Store
	if cfg.URL == "" {
		srcs, err := loadCorpus(cfg.Corpus, 8)
		if err != nil {
			return nil, err
		}
		if st, err = disk.New(cfg.DataDir); err != nil {
			return nil, err
		}
		in, err := ingest.New(st, ingest.Config{Limits: imaging.DefaultLimits(), Original: imaging.DefaultOriginal(), KeySecret: []byte("imgorigin-bench-key-secret")})
		if err != nil {
			return nil, err
		}
		for _, s := range srcs {
			res, err := in.Ingest(ctx, "bench", s.data)
			if err != nil {
				return nil, fmt.Errorf("ingest %s: %w", s.name, err)
			}
			keys = append(keys, res.Key)
			originals = append(originals, res.Data)
			rep.Corpus.Files++
			rep.Corpus.SourceBytes += int64(len(s.data))
			rep.Corpus.OriginalBytes += res.Bytes
			rep.Corpus.Megapixels += float64(res.Width*res.Height) / 1e6
		}
		rep.Corpus.Megapixels /= float64(len(srcs))
		log.Info("corpus ingested", "files", len(keys), "source_bytes", rep.Corpus.SourceBytes, "original_bytes", rep.Corpus.OriginalBytes)
	}
	if len(keys) == 0 {
		return nil, errors.New("bench: --url needs --keys (originals on that server)")
	}
	for _, name := range cfg.Scenarios {
		sc := all[name]
		res, err := runScenario(ctx, cfg, sc, st, keys, log)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if sc.floorWidth > 0 && originals != nil {
			res.FloorRPS = floor(ctx, originals, sc.floorWidth, cfg.Concurrency, cfg.Duration)
			if res.FloorRPS > 0 {
				res.FloorRatio = res.RPS / res.FloorRPS
			}
		}
		log.Info("scenario done", "scenario", name, "rps", res.RPS, "p50_ms", res.P50, "p99_ms", res.P99)
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

func runScenario(ctx context.Context, cfg Config, sc scenario, st *disk.Store, keys []string, log *slog.Logger) (Result, error) {
	base, admin := cfg.URL, cfg.AdminURL
	if base == "" {
		rcfg := resizer.DefaultConfig()
		rcfg.AnySizeUnsigned = true
		rcfg.Concurrency = cfg.Concurrency
		if !sc.originalCache {
			rcfg.OriginalCacheBytes = 0
		}
		if !sc.variantCache {
			rcfg.VariantCacheBytes = 0
		}
		srv := server.New(server.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"}, nil, slog.New(slog.DiscardHandler))
		rz, err := resizer.New(st, rcfg, log, srv.Registry)
		if err != nil {
			return Result{}, err
		}
		srv.Handle("/", rz)
		if err := srv.Listen(); err != nil {
			return Result{}, err
		}
		sctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- srv.Run(sctx) }()
		defer func() { stop(); <-done }()
		base, admin = "http://"+srv.Addr(), "http://"+srv.AdminAddr()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}, Timeout: 30 * time.Second}
	load := loader{client: client, base: base, sc: sc, keys: keys, cfg: cfg}
	load.run(ctx, cfg.Warmup, nil)
	before := scrape(client, admin)
	usageBefore := readUsage()
	var rec recorder
	elapsed := load.run(ctx, cfg.Duration, &rec)
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
		res.RSSMB = float64(usageAfter.rss) / (1 << 20)
		if res.Requests > 0 {
			res.CPUSecondsPer1k = (usageAfter.cpu - usageBefore.cpu).Seconds() / float64(res.Requests) * 1000
		}
	}
	if before != nil && after != nil {
		served := float64(res.Requests - res.Errors)
		if served > 0 {
			res.StoreGetsPerImage = (after["store_gets"] - before["store_gets"]) / served
		}
		res.VariantHitRatio = ratio(after["variant_hit"]-before["variant_hit"], after["variant_miss"]-before["variant_miss"])
		res.OriginalHitRatio = ratio(after["original_hit"]-before["original_hit"], after["original_miss"]-before["original_miss"])
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
	latencies []time.Duration
	statuses  map[int]int
	bytes     int64
}

func (r *recorder) add(d time.Duration, status int, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.statuses == nil {
		r.statuses = map[int]int{}
	}
	r.latencies = append(r.latencies, d)
	r.statuses[status]++
	r.bytes += n
}

func (r *recorder) result(name string, elapsed time.Duration) Result {
	slices.Sort(r.latencies)
	res := Result{Scenario: name, Requests: len(r.latencies), StatusCounts: r.statuses, BytesOut: r.bytes}
	for code, n := range r.statuses {
		if code != http.StatusOK {
			res.Errors += n
		}
	}
	if elapsed > 0 {
		res.RPS = float64(res.Requests) / elapsed.Seconds()
	}
	pct := func(p float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		i := min(len(r.latencies)-1, int(p*float64(len(r.latencies))))
		return ms(r.latencies[i])
	}
	res.P50, res.P90, res.P99, res.P999 = pct(0.50), pct(0.90), pct(0.99), pct(0.999)
	if len(r.latencies) > 0 {
		res.Max = ms(r.latencies[len(r.latencies)-1])
	}
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
