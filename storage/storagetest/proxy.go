package storagetest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy stands between a client and a real server (the S3 test server) so a
// test can take the server away the ways networks do: Down refuses
// connections, Stall accepts them and never answers, Forward restores service.
type Proxy struct {
	URL    string // http://127.0.0.1:PORT, to use as the endpoint
	t      testing.TB
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	stall  bool
	conns  map[net.Conn]struct{}
}

// NewProxy forwards to targetURL's host until told otherwise; it stops with the test.
func NewProxy(t testing.TB, targetURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(targetURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: u.Host, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.listen()
	p.addr = p.ln.Addr().String()
	p.URL = "http://" + p.addr
	t.Cleanup(p.Down)
	return p
}

func (p *Proxy) listen() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: %v", err)
	}
	p.ln = ln
	go p.accept(ln)
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		stall := p.stall
		p.mu.Unlock()
		if !stall {
			go p.forward(c)
		}
	}
}

func (p *Proxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	go func() { io.Copy(up, c); p.drop(up) }()
	io.Copy(c, up)
	p.drop(c)
}

func (p *Proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// closeConns cuts every open connection (pooled ones included), so clients
// meet the new state on their next request.
func (p *Proxy) closeConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Down closes the listener and every connection: connections are refused.
func (p *Proxy) Down() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.mu.Unlock()
	p.closeConns()
}

// Stall accepts connections and never answers.
func (p *Proxy) Stall() { p.set(true) }

// Forward restores service.
func (p *Proxy) Forward() { p.set(false) }

func (p *Proxy) set(stall bool) {
	p.closeConns()
	p.mu.Lock()
	p.stall = stall
	down := p.ln == nil
	p.mu.Unlock()
	if down {
		p.listen()
	}
}
