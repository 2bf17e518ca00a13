package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testwait"
)

func TestProbesMetricsAndDrain(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/photo" {
			http.NotFound(w, r)
			return
		}
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	s := New(Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", DrainDelay: 300 * time.Millisecond}, slow, slog.New(slog.DiscardHandler))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	for _, addr := range []string{s.Addr(), s.AdminAddr()} {
		waitStatus(t, "http://"+addr+"/healthz", 200)
		waitStatus(t, "http://"+addr+"/readyz", 200)
	}
	if body := get(t, "http://"+s.AdminAddr()+"/metrics"); !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics lack Go collector: %.200s", body)
	}
	if code, _ := status("http://" + s.Addr() + "/metrics"); code == 200 {
		t.Fatal("metrics are reachable on the public listener")
	}

	inflight := make(chan string, 1)
	go func() { inflight <- get(t, "http://"+s.Addr()+"/photo") }()
	<-started
	cancel() // SIGTERM
	waitStatus(t, "http://"+s.AdminAddr()+"/readyz", 503)
	if code, _ := status("http://" + s.AdminAddr() + "/healthz"); code != 200 {
		t.Fatalf("healthz while draining = %d, want 200 (alive, just not ready)", code)
	}
	close(release)
	if body := <-inflight; body != "finished" {
		t.Fatalf("in-flight request got %q, want it to finish", body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after drain")
	}
	if _, err := status("http://" + s.Addr() + "/healthz"); err == nil {
		t.Fatal("listener still accepts after drain")
	}
}

func status(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func waitStatus(t *testing.T, url string, want int) {
	t.Helper()
	testwait.For(t, fmt.Sprintf("GET %s to answer %d", url, want), func() bool {
		code, err := status(url)
		return err == nil && code == want
	})
}

func get(t *testing.T, url string) string {
	resp, err := http.Get(url)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Clients that send headers declaring a body and never send it must not hold
// connections for ever, nor starve the admin listener or honest requests.
func TestHeldConnectionsAreCutAndCapped(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	s := New(Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", MaxConns: 20, ReadTimeout: 700 * time.Millisecond}, ok, slog.New(slog.DiscardHandler))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	waitStatus(t, "http://"+s.AdminAddr()+"/healthz", 200)

	var held []net.Conn
	for range 200 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n")
		held = append(held, c)
	}
	client := &http.Client{Timeout: time.Second}
	if resp, err := client.Get("http://" + s.AdminAddr() + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin /healthz with 200 held public connections: %v", err)
	}
	// Held connections are cut at ReadTimeout, so an honest request gets in.
	client.Timeout = 10 * time.Second
	if resp, err := client.Get("http://" + s.Addr() + "/x"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("honest request while connections are held: %v", err)
	}
	// The first held connections were answered, then closed when their
	// declared body did not come.
	held[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(held[0])
	if !strings.HasPrefix(string(b), "HTTP/1.1 200") || err != nil {
		t.Fatalf("held connection: read %q, %v; want an answer, then EOF", b, err)
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{{"short", 10, "short"}, {"abcdef", 3, "abc…"}, {"aé", 2, "a…"}} {
		if got := Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

// A worker without public routes (migrate work) gets the same admin
// listener alone: probes and metrics, the connection cap and timeouts.
func TestAdminListenerAlone(t *testing.T) {
	s := New(Config{AdminAddr: "127.0.0.1:0"}, nil, slog.New(slog.DiscardHandler))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != "" || s.AdminAddr() == "" {
		t.Fatalf("addresses %q and %q, want no public listener and an admin one", s.Addr(), s.AdminAddr())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitStatus(t, "http://"+s.AdminAddr()+"/readyz", 200)
	if body := get(t, "http://"+s.AdminAddr()+"/metrics"); !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics lack Go collector: %.200s", body)
	}
	if code, _ := status("http://" + s.AdminAddr() + "/nothing"); code != 404 {
		t.Errorf("unknown admin path: %d, want 404", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A handler's panic is one logged 500, through the error writer; the
// server goes on serving. A panic after the answer has started cuts that
// connection alone.
func TestPanicsAreRecovered(t *testing.T) {
	var logged strings.Builder
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/boom":
			var m map[string]int
			m["x"]++ // a nil map: a real bug's panic
		case "/late":
			io.WriteString(w, "half")
			panic("after the answer started")
		}
		io.WriteString(w, "fine")
	})
	log := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	}), nil))
	s := New(Config{Addr: "127.0.0.1:0"}, h, log)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + s.Addr()
	resp, err := http.Get(base + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(string(body), "internal error") || strings.Contains(string(body), "nil map") {
		t.Errorf("a panic: %d %q %q; want a 500 that is never cached and tells nothing of the bug", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	if _, err := http.Get(base + "/late"); err == nil {
		t.Error("a panic after the answer started: the connection was not cut")
	}
	if got := get(t, base+"/ok"); got != "fine" {
		t.Errorf("after the panics: %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), `"msg":"panic serving a request"`) || !strings.Contains(logged.String(), "nil map") || !strings.Contains(logged.String(), `"status":500`) {
		t.Errorf("the panic is not logged with its cause and the access line with its 500:\n%s", logged.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
