package imaging

// #include <malloc.h>
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/davidbyttow/govips/v2/vips"
)

// Config tunes libvips for a server.
type Config struct {
	// Threads is libvips' worker threads per operation. A server runs one
	// operation per core at once, so 1 (what imgproxy uses) avoids oversubscribing
	// the cores and keeps malloc arenas, and so resident memory, small.
	Threads int
}

var (
	startOnce sync.Once
	startErr  error
)

// Start initialises libvips once per process: untrusted loaders blocked, the
// operation cache off (a server sees each source once, and the cache only holds
// memory), libvips' own log routed to log. Later calls return the first result.
func Start(cfg Config, log *slog.Logger) error {
	startOnce.Do(func() { startErr = start(cfg, log) })
	return startErr
}

// Stop removes what libvips' Go binding left on disk: the folder it writes
// its ICC profiles to (os.TempDir()/govips-*) when an image is first
// colour-managed. It leaves libvips running, so renders still in flight
// finish; call it as the process ends.
func Stop() {
	for _, p := range []string{vips.SRGBIEC6196621ICCProfilePath, vips.SRGBV2MicroICCProfilePath, vips.SGrayV2MicroICCProfilePath, vips.GenericGrayGamma22ICCProfilePath} {
		dir := filepath.Dir(p)
		if filepath.IsAbs(p) && strings.HasPrefix(filepath.Base(dir), "govips-") {
			os.RemoveAll(dir)
		}
	}
}

func start(cfg Config, log *slog.Logger) error {
	if cfg.Threads <= 0 {
		cfg.Threads = 1
	}
	arenas := boundArenas()
	// Read by vips_init: blocks ImageMagick, PDF, SVG, JPEG 2000, JPEG XL and
	// every other loader libvips marks untrusted.
	if err := os.Setenv("VIPS_BLOCK_UNTRUSTED", "1"); err != nil {
		return err
	}
	vips.LoggingSettings(func(domain string, level vips.LogLevel, msg string) {
		log.Log(context.Background(), slogLevel(level), msg, "domain", domain)
	}, vips.LogLevelWarning)
	if err := vips.Startup(&vips.Config{
		ConcurrencyLevel: cfg.Threads,
		MaxCacheFiles:    0,
		MaxCacheMem:      0,
		MaxCacheSize:     0,
	}); err != nil {
		return fmt.Errorf("libvips: %w", err)
	}
	if err := checkUntrustedBlocked(); err != nil {
		return err
	}
	log.Info("libvips started", "version", vips.Version, "threads", cfg.Threads, "untrusted_loaders", "blocked", "operation_cache", "off", "malloc_arenas", arenas)
	return nil
}

// mallocArenas bounds glibc's malloc arenas. By default glibc makes up to 8
// per core, one for each thread that meets contention, and libvips' many
// threads each keep freed memory in their own: resident memory then only
// grows (the most reported problem of libvips servers). Set here, not only
// in a container's environment, so that the bare binary holds too;
// MALLOC_ARENA_MAX, when given, wins.
const mallocArenas = 2

func boundArenas() string {
	if v := os.Getenv("MALLOC_ARENA_MAX"); v != "" {
		return v
	}
	C.mallopt(C.M_ARENA_MAX, mallocArenas)
	return strconv.Itoa(mallocArenas)
}

// checkUntrustedBlocked proves the block is on: a valid one-pixel SVG must fail
// to load. If it loads, some path reached an untrusted loader and we refuse to run.
func checkUntrustedBlocked() error {
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect width="1" height="1"/></svg>`)
	img, err := vips.LoadImageFromBuffer(svg, nil)
	if err == nil {
		img.Close()
		return errors.New("libvips self-test: an SVG loaded although VIPS_BLOCK_UNTRUSTED is set; refusing to start")
	}
	return nil
}

// slogLevel maps libvips levels. Its warnings are about one input file
// ("unknown EXIF resolution unit", "error in tile"), whose failure the caller
// already reports, so they log at debug.
func slogLevel(l vips.LogLevel) slog.Level {
	switch l {
	case vips.LogLevelError, vips.LogLevelCritical:
		return slog.LevelError
	case vips.LogLevelInfo, vips.LogLevelMessage:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// VipsVersion is the version of the libvips this binary runs on.
func VipsVersion() string { return vips.Version }

// Memory is what libvips holds now in pixel buffers it tracks, and the most
// it has held since it started, in bytes. Decoders' and encoders' own
// allocations (libwebp, libaom) are not tracked: RSS has them.
func Memory() (now, high int64) {
	var s vips.MemoryStats
	vips.ReadVipsMemStats(&s)
	return s.Mem, s.MemHigh
}
