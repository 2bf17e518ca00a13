package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testwait"
)

// Readiness follows the store: not ready until it has answered once, still
// ready after one failed check, not ready after three in a row, ready again
// on the next success.
func TestReadinessFollowsChecks(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	s := New(Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ReadyInterval: 20 * time.Millisecond, ReadyFailures: 3}, nil, slog.New(slog.DiscardHandler))
	var calls atomic.Int64
	s.AddCheck(Check{Name: "store", Probe: func(ctx context.Context) error {
		calls.Add(1)
		if failing.Load() {
			return errors.New("dial tcp: connection refused")
		}
		return nil
	}})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	ready := "http://" + s.AdminAddr() + "/readyz"
	waitStatus(t, ready, 503)
	testwait.For(t, "readyz to name the store's error", func() bool {
		return strings.Contains(getAny(t, ready), "not ready: store: dial tcp: connection refused")
	})
	failing.Store(false)
	waitStatus(t, ready, 200)
	// One failure is a blip: still ready; three in a row are not.
	failing.Store(true)
	start := calls.Load()
	testwait.For(t, "one more check", func() bool { return calls.Load() >= start+1 })
	if code, _ := status(ready); code != 200 {
		t.Fatalf("one failed check made readyz %d", code)
	}
	waitStatus(t, ready, 503)
	if calls.Load() < start+3 {
		t.Fatalf("not ready after %d failed checks, want 3", calls.Load()-start)
	}
	if body := get(t, "http://"+s.AdminAddr()+"/metrics"); !strings.Contains(body, `imgorigin_dependency_up{check="store"} 0`) {
		t.Fatal("dependency gauge does not show the store down")
	}
	failing.Store(false)
	waitStatus(t, ready, 200)
}

// getAny returns the body whatever the status.
func getAny(t *testing.T, url string) string {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
