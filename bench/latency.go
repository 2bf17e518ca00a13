package bench

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// latencyProxy stands between a client and an S3-compatible server as a far
// region's network would: each request waits a round trip before its answer
// starts, and a new connection one more (the handshake). It is an HTTP proxy,
// not a TCP one, so clients keep their connections alive as they do with S3
// even when the server behind (versitygw) closes each one; bandwidth is not
// limited.
type latencyProxy struct {
	ln  net.Listener
	srv *http.Server
}

type newConnKey struct{}

func startLatencyProxy(target string, rtt time.Duration) (*latencyProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// The outgoing Host stays the proxy's: it is what the client signed.
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			wait := rtt
			if first := r.Context().Value(newConnKey{}).(*atomic.Bool); first.CompareAndSwap(true, false) {
				wait += rtt
			}
			time.Sleep(wait)
			rp.ServeHTTP(w, r)
		}),
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			first := &atomic.Bool{}
			first.Store(true)
			return context.WithValue(ctx, newConnKey{}, first)
		},
	}
	go srv.Serve(ln)
	return &latencyProxy{ln: ln, srv: srv}, nil
}

func (p *latencyProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *latencyProxy) Close() { p.srv.Close() }
