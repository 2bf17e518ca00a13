package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/resizer"
)

type loader struct {
	client *http.Client
	base   string
	sc     scenario
	target *target
	cfg    Config
	seq    atomic.Int64
}

// run sends requests for d and returns the time it took. Closed loop: a fixed
// number in flight. Open loop: arrivals on a fixed schedule, each timed from
// when it was due, so a slow server cannot hide latency by slowing the
// generator down (coordinated omission).
func (l *loader) run(ctx context.Context, d time.Duration, rec *recorder) time.Duration {
	if d <= 0 {
		return 0
	}
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	if l.cfg.Rate > 0 {
		interval := time.Duration(float64(time.Second) / l.cfg.Rate)
		sem := make(chan struct{}, 4096) // bounds goroutines if the server stalls
		for due := start; due.Before(end) && ctx.Err() == nil; due = due.Add(interval) {
			time.Sleep(time.Until(due))
			select {
			case sem <- struct{}{}:
			default:
				if rec != nil {
					rec.add(time.Since(due), 0, 0) // dropped: counted as an error
				}
				continue
			}
			wg.Add(1)
			go func(due time.Time) {
				defer func() { <-sem; wg.Done() }()
				l.one(rand.New(rand.NewPCG(uint64(due.UnixNano()), 1)), 0, due, rec)
			}(due)
		}
	} else {
		for w := range l.cfg.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
				for time.Now().Before(end) && ctx.Err() == nil {
					l.one(rng, w, time.Now(), rec)
				}
			}()
		}
	}
	wg.Wait()
	return time.Since(start)
}

func (l *loader) one(rng *rand.Rand, worker int, due time.Time, rec *recorder) {
	r := l.sc.next(rng, l.target, worker, int(l.seq.Add(1)))
	req, _ := http.NewRequest(r.method, l.base+r.path, bytes.NewReader(r.body))
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", "Bearer "+r.auth)
		req.Header.Set("Content-Type", "image/jpeg")
	}
	status, n := 0, int64(0)
	resp, err := l.client.Do(req)
	if err == nil {
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	if rec != nil {
		rec.add(time.Since(due), status, n)
	}
}

// floor is the libvips-alone throughput on the same originals and width:
// thumbnail from the in-memory original and encode in format with the
// quality and effort the resizer uses; no HTTP, no store, no caches, no
// metadata handling, and never a small copy.
func floor(ctx context.Context, originals [][]byte, width int, format imaging.Format, workers int, d time.Duration) float64 {
	enc := renderEncoding(format, width)
	var done atomic.Int64
	end := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; time.Now().Before(end) && ctx.Err() == nil; i++ {
				img, err := vips.NewThumbnailWithSizeFromBuffer(originals[i%len(originals)], width, 10_000_000, vips.InterestingNone, vips.SizeDown)
				if err != nil {
					continue
				}
				_, err = imaging.Encode(img, enc)
				img.Close()
				if err == nil {
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}

// renderEncoding is how the resizer encodes a default-quality answer width
// px wide in format.
func renderEncoding(format imaging.Format, width int) imaging.Encoding {
	return imaging.Encoding{Format: format, Quality: imaging.EncoderQuality(format, resizer.DefaultConfig().Quality, width), Effort: imaging.Effort(format, width, 0)}
}

// scrape reads the resizer's counters from its metrics endpoint; nil if none.
func scrape(client *http.Client, admin string) map[string]float64 {
	if admin == "" {
		return nil
	}
	families := scrapeMetrics(client, admin+"/metrics")
	if families == nil {
		return nil
	}
	out := map[string]float64{}
	if v, ok := sample(families, "imgorigin_resizer_store_gets_total"); ok {
		out["store_gets"] = v
	}
	for _, cache := range []string{"variant", "original"} {
		for _, result := range []string{"hit", "miss"} {
			if v, ok := sample(families, "imgorigin_resizer_cache_requests_total", "cache", cache, "result", result); ok {
				out[cache+"_"+result] = v
			}
		}
	}
	return out
}

type usage struct {
	rss int64
	cpu time.Duration
}

// readUsage is this process's resident memory and CPU time so far.
func readUsage() usage {
	var u usage
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				u.rss = kb << 10
			}
		}
	}
	return u
}

// sampleRSS samples this process's resident memory every interval until the
// returned function is called, which returns the samples in order.
func sampleRSS(every time.Duration) func() []int64 {
	var samples []int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			samples = append(samples, readUsage().rss)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() []int64 { close(stop); <-done; return samples }
}

// abortedUploads measures resident memory before and after n uploads that
// send half their body and hang up: what a server left holding buffers for
// abandoned uploads would never give back.
func abortedUploads(base, tok string, body []byte, n int) *Aborted {
	a := &Aborted{Count: n, BaselineMB: mb(settledRSS())}
	addr := strings.TrimPrefix(base, "http://")
	for range n {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			continue
		}
		fmt.Fprintf(conn, "POST /v1/uploads HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", tok, len(body))
		conn.Write(body[:len(body)/2])
		conn.Close()
	}
	a.AfterMB = mb(settledRSS())
	return a
}

// settledRSS waits for in-flight work to end and the Go runtime to return
// freed memory, as a server at rest would within minutes, then reads RSS.
func settledRSS() int64 {
	time.Sleep(500 * time.Millisecond)
	debug.FreeOSMemory()
	return readUsage().rss
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
