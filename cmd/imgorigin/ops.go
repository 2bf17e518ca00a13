package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/tracing"
	"github.com/imgorigin/imgorigin/server"
)

// version is set at build time (-ldflags "-X main.version=v1.2.3"); else the
// module version Go recorded, else "dev".
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func versionCmd(out io.Writer) error {
	_, err := fmt.Fprintf(out, "imgorigin %s (%s, libvips %s, %s/%s)\n", versionString(), runtime.Version(), imaging.VipsVersion(), runtime.GOOS, runtime.GOARCH)
	return err
}

// startTracing turns OpenTelemetry tracing on when the OTEL_* environment
// asks for it (an OTLP endpoint: internal/tracing). The returned stop
// flushes the spans left.
func startTracing(ctx context.Context, service string, log *slog.Logger) (stop func(), err error) {
	shutdown, err := tracing.Setup(ctx, service, versionString())
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	if tracing.Enabled() {
		log.Info("tracing on", "service", service, "exporter", "otlp/http")
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			log.Warn("tracing: spans not flushed", "err", err)
		}
	}, nil
}

// registerBuildInfo adds imgorigin_build_info, always 1, labelled with what
// this process runs: dashboards tell fleet versions apart with it.
func registerBuildInfo(reg prometheus.Registerer) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imgorigin_build_info", Help: "Always 1; the labels say what this process runs."},
		[]string{"version", "goversion", "libvips"})
	g.WithLabelValues(versionString(), runtime.Version(), imaging.VipsVersion()).Set(1)
	reg.MustRegister(g)
}

// health probes a running server's admin listener, for container HEALTHCHECKs
// and exec probes (images carry no curl): exit 0 when ready (or, with
// --live, alive).
func healthCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	var addr string
	adminAddrFlag(fs, &addr)
	live := fs.Bool("live", false, "probe /healthz (alive) instead of /readyz (ready for traffic)")
	timeout := fs.Duration("health-timeout", 2*time.Second, "longest the probe may take")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path := "/readyz"
	if *live {
		path = "/healthz"
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %d: %s", path, resp.StatusCode, body)
	}
	_, err = fmt.Fprintf(out, "%s", body)
	return err
}

// serveAdmin runs admin, a server with only its admin listener (a process
// without public routes: migrate work), until the returned stop. A port in
// use (a server on the same machine) costs the metrics, not the run.
func serveAdmin(ctx context.Context, admin *server.Server, log *slog.Logger) (stop func()) {
	if err := admin.Listen(); err != nil {
		log.Warn("no admin listener: metrics are off (set --admin-addr)", "err", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := admin.Run(ctx); err != nil {
			log.Warn("admin listener", "err", err)
		}
	}()
	return func() { cancel(); <-done }
}
