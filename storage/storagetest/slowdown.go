package storagetest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// SlowDown is an HTTP proxy in front of the test S3 server that answers
// 503 SlowDown, as S3 does to a hammered bucket, to the first Tries
// attempts of each request (method and URL): a client that retries as S3
// asks gets through; one that does not fails.
type SlowDown struct {
	URL   string
	Tries int
	Hits  atomic.Int32 // SlowDown answers given
	mu    sync.Mutex
	seen  map[string]int
}

// NewSlowDown starts the proxy on 127.0.0.1 in front of endpoint; it stops
// when the test ends.
func NewSlowDown(t testing.TB, endpoint string, tries int) *SlowDown {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	s := &SlowDown{Tries: tries, seen: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.throttle(r.Method + " " + r.URL.String()) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *SlowDown) throttle(request string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[request] >= s.Tries {
		return false
	}
	s.seen[request]++
	s.Hits.Add(1)
	return true
}
