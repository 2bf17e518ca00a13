// Package server runs a role's HTTP listeners: the public one (behind the CDN)
// and the admin one (metrics and probes, never exposed through the CDN), with
// readiness, structured access logs and a graceful drain on shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/imgorigin/imgorigin/internal/httperr"
	"github.com/imgorigin/imgorigin/internal/tracing"
)

// Config of the listeners.
type Config struct {
	Addr      string // public listener, e.g. 127.0.0.1:8080; empty: none (a worker: admin only)
	AdminAddr string // metrics, /healthz, /readyz; empty disables it
	// IdleTimeout must outlast the CDN's keep-alive (CloudFront: 5 s) or the
	// CDN reuses connections we are closing. Default 75 s.
	IdleTimeout       time.Duration
	ReadHeaderTimeout time.Duration // default 10 s: slow-loris defence
	// ReadTimeout bounds reading a whole request, headers and body: a client
	// that declares a body and never sends it is cut, and its connection
	// freed. Handlers that take long bodies (uploads) move the deadline on as
	// bytes arrive. Default 10 s.
	ReadTimeout time.Duration
	// MaxConns bounds the public listener's open connections; past it, new
	// ones wait in the kernel's accept queue and hold no descriptor of ours,
	// so the admin listener, the store and files always have some. Default:
	// three quarters of the process's open-file limit.
	MaxConns int
	// DrainDelay is how long readiness reports false before the listeners stop
	// accepting, so load balancers stop sending first. Default 0 (the fleet
	// roles default their flag to 5 s).
	DrainDelay time.Duration
	// CORSOrigins may call the public listener from browsers: origins
	// (https://app.example.com) or "*". Empty: no CORS.
	CORSOrigins []string
	// ReadyInterval, ReadyTimeout and ReadyFailures govern the checks added
	// with AddCheck: each runs every interval within the timeout, and
	// readiness fails after that many errors in a row. Defaults 5 s, 2 s, 3.
	ReadyInterval time.Duration
	ReadyTimeout  time.Duration
	ReadyFailures int
	// DrainTimeout bounds waiting for in-flight requests. Default 25 s, inside
	// Kubernetes' default 30 s grace period.
	DrainTimeout time.Duration
}

// DefaultConfig is a Config with its defaults filled in (MaxConns, which
// follows the open-file limit where the server starts, left 0): flags take
// their defaults from it.
func DefaultConfig() Config {
	c := Config{Addr: "127.0.0.1:8080", AdminAddr: "127.0.0.1:9090"}
	c.defaults()
	c.MaxConns = 0
	return c
}

func (c *Config) defaults() {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 75 * time.Second
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 10 * time.Second
	}
	if c.ReadyInterval <= 0 {
		c.ReadyInterval = 5 * time.Second
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 2 * time.Second
	}
	if c.ReadyFailures <= 0 {
		c.ReadyFailures = 3
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 25 * time.Second
	}
	if c.MaxConns <= 0 {
		c.MaxConns = defaultMaxConns()
	}
}

// defaultMaxConns leaves a quarter of the open-file limit (Go raises the soft
// limit to the hard one at start-up) for everything but public connections.
func defaultMaxConns() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 768
	}
	return int(min(lim.Cur, 1<<20) * 3 / 4)
}

// Admin listener bounds: probes and scrapes are small and quick, and a
// handful of clients (kubelet, Prometheus) use it.
const (
	adminMaxConns     = 64
	adminReadTimeout  = 5 * time.Second
	adminWriteTimeout = 30 * time.Second
)

// Server owns the listeners of one process.
type Server struct {
	cfg      Config
	log      *slog.Logger
	public   *http.Server
	admin    *http.Server
	ready    atomic.Bool
	mux      *chi.Mux
	lns      []net.Listener
	checks   *checks
	Registry *Registry
}

// New wraps handler (nil: add routes with Handle) with probes and an access
// log. Register metrics on s.Registry before Run.
func New(cfg Config, handler http.Handler, log *slog.Logger) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, log: log, Registry: NewRegistry()}
	s.Registry.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}), errorAnswers)
	s.checks = newChecks(cfg, s.Registry)
	s.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imgorigin_ready",
		Help: "1 while /readyz answers ready: serving, not draining, every readiness check passing."}, func() float64 {
		if s.ready.Load() && s.checks.notReady() == "" {
			return 1
		}
		return 0
	}))
	s.mux = newRouter()
	s.mux.Get("/healthz", s.healthz)
	s.mux.Get("/readyz", s.readyz)
	if handler != nil {
		s.mux.Handle("/*", handler)
	}
	if cfg.Addr != "" {
		s.public = &http.Server{Addr: cfg.Addr, Handler: tracing.Handler(requestIDs(accessLog(log, newCORS(cfg.CORSOrigins, s.mux, s.mux)))), IdleTimeout: cfg.IdleTimeout,
			ReadHeaderTimeout: cfg.ReadHeaderTimeout, ReadTimeout: cfg.ReadTimeout}
	}
	if cfg.AdminAddr != "" {
		amux := newRouter()
		amux.Get("/healthz", s.healthz)
		amux.Get("/readyz", s.readyz)
		amux.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
		s.admin = &http.Server{Addr: cfg.AdminAddr, Handler: amux, ReadHeaderTimeout: adminReadTimeout,
			ReadTimeout: adminReadTimeout, WriteTimeout: adminWriteTimeout, IdleTimeout: cfg.IdleTimeout}
	}
	return s
}

// Handle adds a route to the public listener, before Run. pattern is
// "METHOD /path" or "/path" (every method); a path ending in "/" takes
// everything below it; GET routes answer HEAD too.
func (s *Server) Handle(pattern string, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	if strings.HasSuffix(path, "/") {
		path += "*"
	}
	switch method {
	case "":
		s.mux.Handle(path, h)
	case http.MethodGet:
		s.mux.Method(http.MethodHead, path, h)
		fallthrough
	default:
		s.mux.Method(method, path, h)
	}
}

// AddCheck makes readiness depend on c, before Run.
func (s *Server) AddCheck(c Check) { s.checks.add(c) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.ready.Load() {
		writeError(w, httperr.Unavailable("draining", nil))
		return
	}
	if why := s.checks.notReady(); why != "" {
		writeError(w, httperr.Unavailable("not ready: "+Truncate(why, 300), nil))
		return
	}
	fmt.Fprintln(w, "ready")
}

// Listen binds the listeners, each with its connection cap; Addr and
// AdminAddr then report where.
func (s *Server) Listen() error {
	for _, srv := range s.servers() {
		ln, err := net.Listen("tcp", srv.Addr)
		if err != nil {
			for _, l := range s.lns {
				l.Close()
			}
			s.lns = nil
			return err
		}
		limit := s.cfg.MaxConns
		if srv == s.admin {
			limit = adminMaxConns
		}
		s.lns = append(s.lns, netutil.LimitListener(ln, limit))
	}
	return nil
}

// Addr is the public listener's address once listening, or "".
func (s *Server) Addr() string {
	if s.public == nil || len(s.lns) == 0 {
		return ""
	}
	return s.lns[0].Addr().String()
}

// AdminAddr is the admin listener's address once listening, or "".
func (s *Server) AdminAddr() string {
	if s.admin == nil || len(s.lns) == 0 {
		return ""
	}
	return s.lns[len(s.lns)-1].Addr().String()
}

// servers are the listeners' servers, public first.
func (s *Server) servers() []*http.Server {
	var out []*http.Server
	for _, srv := range []*http.Server{s.public, s.admin} {
		if srv != nil {
			out = append(out, srv)
		}
	}
	return out
}

// Run listens (unless Listen was called) and serves until ctx is done
// (SIGTERM), then drains: readiness turns false, after DrainDelay the listeners
// stop accepting, in-flight requests finish, and Run returns.
func (s *Server) Run(ctx context.Context) error {
	if s.lns == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	cctx, stopChecks := context.WithCancel(ctx)
	defer stopChecks()
	go s.checks.run(cctx)
	servers := s.servers()
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(s.lns[i]) }()
	}
	s.ready.Store(true)
	s.log.Info("listening", "addr", s.Addr(), "admin_addr", s.AdminAddr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	s.log.Info("draining", "delay", s.cfg.DrainDelay, "timeout", s.cfg.DrainTimeout)
	time.Sleep(s.cfg.DrainDelay)
	dctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(dctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.log.Info("drained")
	return errors.Join(errs...)
}

// maxLoggedURI keeps a hostile 1 MB URI from adding 1 MB to the log.
const maxLoggedURI = 1024

// accessLog writes one structured line per request.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		serveRecovering(log, next, rec, r)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("uri", Truncate(r.RequestURI, maxLoggedURI)),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// Truncate cuts s to at most n bytes (at a rune boundary), marking the cut:
// for anything a client sent that goes into a log line.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// serveRecovering serves r with next, and turns a panic into a logged 500
// through the one error writer: one bad request costs its own answer, not
// its connection and a bare stack on stderr. http.ErrAbortHandler goes on
// up: it is how a handler cuts a connection on purpose.
func serveRecovering(log *slog.Logger, next http.Handler, w *statusRecorder, r *http.Request) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		log.LogAttrs(r.Context(), slog.LevelError, "panic serving a request",
			slog.String("method", r.Method),
			slog.String("uri", Truncate(r.RequestURI, maxLoggedURI)),
			slog.String("panic", Truncate(fmt.Sprint(p), maxLoggedURI)),
			slog.String("stack", string(debug.Stack())),
		)
		if w.wrote {
			panic(http.ErrAbortHandler) // half an answer is sent: cut it
		}
		writeError(w, httperr.New(http.StatusInternalServerError, "internal error"))
	}()
	next.ServeHTTP(w, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool // the status line is sent
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	if code >= 200 {
		r.wrote = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
