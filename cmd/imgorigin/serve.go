package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imgorigin/imgorigin/resizer"
	"github.com/imgorigin/imgorigin/role"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/sign"
)

// resizerFlags fill a resizer.Config.
type resizerFlags struct {
	cfg          resizer.Config
	ladder       string
	ladderPolicy string
	signKeys     string
	signScheme   string
}

func (f *resizerFlags) register(fs *flag.FlagSet) {
	f.cfg = resizer.DefaultConfig()
	c := &f.cfg
	fs.StringVar(&f.ladder, "ladder", joinInts(resizer.DefaultLadder), "comma-separated widths/heights unsigned requests may use; 'any' allows every size (only for origins no stranger can reach)")
	fs.StringVar(&f.ladderPolicy, "ladder-policy", string(c.LadderPolicy), "unsigned sizes off the ladder: 'snap' serves the next rung up (any srcset works), 'reject' answers 400")
	fs.StringVar(&f.signKeys, "sign-keys", "", "comma-separated keys for the s parameter, all verify: hex HMAC keys (>= 16 bytes) with --sign-scheme hmac, imgix secure URL tokens with --sign-scheme imgix")
	fs.StringVar(&f.signScheme, "sign-scheme", string(c.SignScheme), "how s is computed: 'hmac' (HMAC-SHA256, see README) or 'imgix' (imgix's secureURLToken, so imgix's libraries sign unchanged)")
	fs.IntVar(&c.MaxOutput, "max-output", c.MaxOutput, "largest output width or height, after dpr")
	fs.Int64Var(&c.Limits.MaxPixels, "max-source-pixels", c.Limits.MaxPixels, "most pixels decoded from a source (all frames, after JPEG shrink-on-load), checked from the header before decoding")
	fs.Int64Var(&c.Limits.MaxDeclaredPixels, "max-declared-pixels", c.Limits.MaxDeclaredPixels, "largest source (one frame) as its header declares it, however much it shrinks on load")
	fs.IntVar(&c.Limits.MaxFrames, "max-frames", c.Limits.MaxFrames, "most animation frames kept")
	fs.Int64Var(&c.MaxSourceBytes, "max-source-bytes", c.MaxSourceBytes, "largest original read from the store")
	fs.IntVar(&c.StoreReads, "store-reads", c.StoreReads, "originals read from the store at once; past it, 503")
	fs.Int64Var(&c.StoreReadBytes, "store-read-bytes", c.StoreReadBytes, "bytes the originals being read may hold together; past it, 503")
	fs.Int64Var(&c.OriginalCacheBytes, "original-cache-bytes", c.OriginalCacheBytes, "memory for cached originals")
	fs.Int64Var(&c.VariantCacheBytes, "variant-cache-bytes", c.VariantCacheBytes, "memory for cached renditions")
	fs.IntVar(&c.Concurrency, "render-concurrency", c.Concurrency, "renders at once (default: cores)")
	fs.IntVar(&c.QueueLength, "render-queue", c.QueueLength, "renders that may wait for a slot; past that, 503")
	fs.DurationVar(&c.Revalidate, "revalidate", c.Revalidate, "how long a key's cached original and variants are served before the store is asked (HEAD) whether it still holds the original: a deleted photo stops being served within it (0: never ask)")
	fs.IntVar(&c.SmallCopyEdge, "small-copy-edge", c.SmallCopyEdge, "make lossy answers up to this long edge from the original's small copy when it has the pixels they need, px (0: always from the original)")
	fs.DurationVar(&c.StoreTimeout, "store-timeout", c.StoreTimeout, "longest a read of an original may take, retries included; past it, 503")
	fs.IntVar(&c.Unsigned.MaxSide, "unsigned-max-side", c.Unsigned.MaxSide, "largest width or height without a signature (larger asks are scaled down)")
	fs.IntVar(&c.Unsigned.MaxSlowPixels, "unsigned-max-slow-pixels", c.Unsigned.MaxSlowPixels, "largest PNG or lossless (WebP, AVIF) output without a signature, in pixels")
	fs.Int64Var(&c.Unsigned.MaxDecodePixels, "unsigned-max-decode-pixels", c.Unsigned.MaxDecodePixels, "most pixels an unsigned request may have decoded (after JPEG shrink-on-load); larger files in the store need a signed URL")
	fs.IntVar(&c.Unsigned.MaxQuality, "unsigned-max-quality", c.Unsigned.MaxQuality, "highest q without a signature")
	fs.Int64Var(&c.Unsigned.MaxAnimationPixels, "unsigned-max-animation-pixels", c.Unsigned.MaxAnimationPixels, "most pixels an animation kept animated may hold in all its frames without a signature (each frame is decoded whole)")
	fs.DurationVar(&c.Unsigned.PerOriginal.Burst, "unsigned-render-per-original", c.Unsigned.PerOriginal.Burst, "render time one original may spend at once on unsigned requests off the canonical srcset forms; past it, 429 (0: no bound)")
	fs.Float64Var(&c.Unsigned.PerOriginal.Rate, "unsigned-render-per-original-rate", c.Unsigned.PerOriginal.Rate, "seconds of render time a second that refill --unsigned-render-per-original")
	fs.DurationVar(&c.Unsigned.PerClient.Burst, "unsigned-render-per-client", c.Unsigned.PerClient.Burst, "render time one client address may spend at once on unsigned requests off the canonical srcset forms; past it, 429 (0: no bound)")
	fs.Float64Var(&c.Unsigned.PerClient.Rate, "unsigned-render-per-client-rate", c.Unsigned.PerClient.Rate, "seconds of render time a second that refill --unsigned-render-per-client")
	fs.StringVar(&c.ClientAddressHeader, "client-address-header", "", "header with the viewer's address for the per-client budget (CloudFront-Viewer-Address), when only the CDN reaches the origin; empty: the connecting address")
	fs.DurationVar(&c.Deadline, "deadline", c.Deadline, "longest a request may take; past it, 503")
	fs.StringVar(&c.CacheControl, "cache-control", c.CacheControl, "Cache-Control of 200 answers")
	fs.DurationVar(&c.StaleWhileRevalidate, "stale-while-revalidate", 0, "add stale-while-revalidate to 200s (0: off)")
	fs.DurationVar(&c.StaleIfError, "stale-if-error", 0, "add stale-if-error to 200s (0: off)")
	fs.StringVar(&c.ErrorCacheControl, "error-cache-control", c.ErrorCacheControl, "Cache-Control of 4xx answers (5xx are always no-store)")
	fs.IntVar(&c.Quality, "quality", c.Quality, "output quality when the request has no q")
	fs.BoolVar(&c.AutoAVIF, "auto-avif", c.AutoAVIF, "let auto=format choose AVIF for clients that accept it (--auto-avif=false: WebP at most)")
}

func (f *resizerFlags) config() (resizer.Config, error) {
	c := f.cfg
	if f.ladder == "any" {
		c.AnySizeUnsigned, c.Ladder = true, nil
	} else {
		c.Ladder = nil
		for _, s := range strings.Split(f.ladder, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				return c, fmt.Errorf("--ladder: %q is not a size", s)
			}
			c.Ladder = append(c.Ladder, n)
		}
	}
	slices.Sort(c.Ladder)
	c.LadderPolicy, c.SignScheme = resizer.LadderPolicy(f.ladderPolicy), sign.Scheme(f.signScheme)
	for _, s := range strings.Split(f.signKeys, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		k := []byte(s) // an imgix token is used as it is written
		if c.SignScheme == sign.HMAC {
			var err error
			if k, err = hex.DecodeString(s); err != nil {
				return c, fmt.Errorf("--sign-keys: not hex: %w", err)
			}
		}
		c.SignKeys = append(c.SignKeys, k)
	}
	return c, c.Validate()
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// serve runs a server role: "serve" is the embedded default (resizer and
// uploader on one port, development keys created under --data); "resizer"
// and "uploader" run one role each, for regional fleets, and the uploader
// then refuses to start without its keys.
func serve(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	sc := server.DefaultConfig()
	fs.StringVar(&sc.Addr, "addr", sc.Addr, "public listener (the CDN's origin)")
	adminAddrFlag(fs, &sc.AdminAddr)
	// Fleet roles sit behind load balancers that poll readiness every few
	// seconds; the embedded default usually has none and should stop at once.
	drainDelay := 5 * time.Second
	if name == "serve" {
		drainDelay = 0
	}
	fs.DurationVar(&sc.DrainDelay, "drain-delay", drainDelay, "after SIGTERM, how long /readyz fails before listeners close (let load balancers notice)")
	fs.DurationVar(&sc.ReadTimeout, "read-timeout", sc.ReadTimeout, "longest a request may take to arrive, headers and body (uploads move it on while bytes flow)")
	fs.IntVar(&sc.MaxConns, "max-conns", sc.MaxConns, "most open public connections; more wait in the accept queue (0: 3/4 of the open-file limit)")
	fs.DurationVar(&sc.DrainTimeout, "drain-timeout", sc.DrainTimeout, "after SIGTERM, how long in-flight requests may take")
	fs.DurationVar(&sc.ReadyInterval, "ready-interval", sc.ReadyInterval, fmt.Sprintf("how often readiness checks that the store answers (each check within %s)", sc.ReadyTimeout))
	fs.IntVar(&sc.ReadyFailures, "ready-failures", sc.ReadyFailures, "failed store checks in a row that make /readyz answer 503 (the first success makes it ready again)")
	var corsOrigins string
	fs.StringVar(&corsOrigins, "cors-origins", "", "comma-separated origins (https://app.example.com) whose pages may call this server from a browser, or '*' for any")
	var rf resizerFlags
	var uf uploaderFlags
	if name != "uploader" {
		rf.register(fs)
	}
	if name != "resizer" {
		uf.register(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var err error
	if sc.CORSOrigins, err = server.ParseOrigins(splitList(corsOrigins)); err != nil {
		return fmt.Errorf("--cors-origins: %w", err)
	}
	log, err := sf.logger()
	if err != nil {
		return err
	}
	cfg := role.Config{Server: sc, Stores: sf.Stores, Dev: name == "serve"}
	if name != "uploader" {
		rcfg, err := rf.config()
		if err != nil {
			return err
		}
		cfg.Resizer = &rcfg
	}
	if name != "resizer" {
		cfg.Uploads = uf.uploads()
	}
	if err := startVips(log); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	stopTracing, err := startTracing(ctx, "imgorigin-"+name, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	r, err := role.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	registerBuildInfo(r.Server.Registry)
	return r.Run(ctx)
}
