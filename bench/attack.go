package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Attacks are the names --attack accepts: what a hostile client does to a
// running server, measured from outside (RSS from the server's own metrics).
var Attacks = []string{"uploads", "renders", "connections", "strangers"}

// AttackConfig says whom to attack and how hard.
type AttackConfig struct {
	URL, AdminURL string
	ServiceKey    string        // mints upload tokens
	Conns         int           // uploads, connections: how many to hold
	Hold          time.Duration // how long to hold them
	Duration      time.Duration // renders: each measured phase
	HeavyURL      string        // renders: the expensive unsigned request (path?query)
	HeavyRate     float64       // renders: heavy requests per second
	Subjects      bool          // uploads: one subject (token) per connection, not one for all
	// StoreDir, when set, is the server's disk store directory: strangers
	// then also places files there as another program would (a large photo,
	// a PNG full of text chunks), for the cases of plain-directory stores.
	StoreDir string
}

// AttackReport is what one attack measured.
type AttackReport struct {
	Attack  string
	Figures map[string]any
	order   []string
}

func (r *AttackReport) set(k string, v any) {
	if r.Figures == nil {
		r.Figures = map[string]any{}
	}
	if _, ok := r.Figures[k]; !ok {
		r.order = append(r.order, k)
	}
	r.Figures[k] = v
}

// String lists the figures in the order they were measured.
func (r *AttackReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "attack %s\n", r.Attack)
	for _, k := range r.order {
		fmt.Fprintf(&b, "  %-28s %v\n", k, r.Figures[k])
	}
	return b.String()
}

// Attack runs one attack against cfg.URL.
func Attack(ctx context.Context, name string, cfg AttackConfig) (*AttackReport, error) {
	a := &attacker{cfg: cfg, client: &http.Client{Timeout: 30 * time.Second}, rep: &AttackReport{Attack: name}}
	var err error
	switch name {
	case "uploads":
		err = a.uploads(ctx)
	case "renders":
		err = a.renders(ctx)
	case "connections":
		err = a.connections(ctx)
	case "strangers":
		err = a.strangers(ctx)
	default:
		return nil, fmt.Errorf("unknown attack %q (known: %s)", name, strings.Join(Attacks, ", "))
	}
	return a.rep, err
}

type attacker struct {
	cfg    AttackConfig
	client *http.Client
	rep    *AttackReport
}

// rssMB reads the server's resident memory from its Prometheus metrics.
func (a *attacker) rssMB() float64 {
	if v, ok := sample(scrapeMetrics(a.client, a.cfg.AdminURL+"/metrics"), "process_resident_memory_bytes"); ok {
		return v / (1 << 20)
	}
	return -1
}

func (a *attacker) token(subject string) (string, error) {
	req, _ := http.NewRequest("POST", a.cfg.URL+"/v1/upload-tokens", strings.NewReader(`{"subject":"`+subject+`"}`))
	req.Header.Set("Authorization", "Bearer "+a.cfg.ServiceKey)
	resp, err := a.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("upload token: status %d", resp.StatusCode)
	}
	return out.Token, nil
}

// upload sends body with a fresh token for subject; it returns the status and key.
func (a *attacker) upload(subject string, body []byte) (int, string, error) {
	tok, err := a.token(subject)
	if err != nil {
		return 0, "", err
	}
	req, _ := http.NewRequest("POST", a.cfg.URL+"/v1/uploads", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "image/jpeg")
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var out struct{ Key string }
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Key, nil
}

// uploadPhotos uploads n photo-like images stored at the 2560 px long-edge
// cap (the largest originals), one subject each, and returns their keys.
func (a *attacker) uploadPhotos(subject string, n, seed int) ([]string, error) {
	srcs, err := photoJPEGs(n, 3200, 2400, seed)
	if err != nil {
		return nil, err
	}
	keys := make([]string, n)
	for i, src := range srcs {
		st, key, err := a.upload(fmt.Sprintf("%s-%d", subject, i), src)
		if err != nil || st != http.StatusCreated {
			return nil, fmt.Errorf("upload for %s: %d %v", subject, st, err)
		}
		keys[i] = key
	}
	return keys, nil
}

// uploads holds Conns uploads that declare 50 MiB and send one byte, and
// checks that an honest upload works during and after.
func (a *attacker) uploads(ctx context.Context) error {
	honest, err := photoJPEGs(1, 2000, 1500, 3)
	if err != nil {
		return err
	}
	before := a.rssMB()
	a.rep.set("rss_before_mb", before)
	tok, err := a.token("attacker")
	if err != nil {
		return err
	}
	addr := strings.TrimPrefix(a.cfg.URL, "http://")
	var conns []net.Conn
	refused := 0
	for i := range a.cfg.Conns {
		if a.cfg.Subjects {
			if tok, err = a.token(fmt.Sprintf("attacker-%d", i)); err != nil {
				return err
			}
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			refused++
			continue
		}
		fmt.Fprintf(c, "POST /v1/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: image/jpeg\r\nContent-Length: 52428800\r\n\r\n\xff", tok)
		conns = append(conns, c)
	}
	peak := 0.0
	deadline := time.Now().Add(a.cfg.Hold)
	honestDuring := 0
	for time.Now().Before(deadline) && ctx.Err() == nil {
		peak = max(peak, a.rssMB())
		if honestDuring == 0 && time.Until(deadline) < a.cfg.Hold/2 {
			honestDuring, _, _ = a.upload("honest", honest[0])
		}
		time.Sleep(200 * time.Millisecond)
	}
	// How many of the held uploads the server answered (refused) itself.
	answered := 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if n, _ := c.Read(make([]byte, 12)); n > 0 {
			answered++
		}
		c.Close()
	}
	a.rep.set("connections", len(conns))
	a.rep.set("refused", refused)
	a.rep.set("answered_early", answered)
	a.rep.set("rss_peak_mb", peak)
	a.rep.set("rss_peak_rise_mb", peak-before)
	a.rep.set("honest_upload_during", honestDuring)
	time.Sleep(2 * time.Second)
	after, _, _ := a.upload("honest-after", honest[0])
	a.rep.set("honest_upload_after", after)
	a.rep.set("rss_after_mb", a.rssMB())
	return nil
}

// renders measures cold render throughput alone, then with HeavyRate heavy
// unsigned requests a second. The server should run with its caches off
// (--original-cache-bytes 0 --variant-cache-bytes 0) so every render is cold.
func (a *attacker) renders(ctx context.Context) error {
	keys, err := a.uploadPhotos("render", 4, 11)
	if err != nil {
		return err
	}
	heavy := strings.ReplaceAll(a.cfg.HeavyURL, "KEY", keys[0])
	a.rep.set("heavy_url", heavy)
	// One heavy request alone: what it costs and answers.
	start := time.Now()
	st, n := a.get(ctx, heavy)
	a.rep.set("heavy_alone", fmt.Sprintf("%d, %d bytes, %.0f ms", st, n, float64(time.Since(start).Microseconds())/1000))
	time.Sleep(2 * time.Second) // let it finish if it was cut
	normal := func(ctx context.Context) float64 {
		var done atomic.Int64
		var wg sync.WaitGroup
		ctx, cancel := context.WithTimeout(ctx, a.cfg.Duration)
		defer cancel()
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; ctx.Err() == nil; i += 2 {
					if st, _ := a.get(ctx, fmt.Sprintf("/%s?w=320&fm=webp", keys[i%len(keys)])); st == http.StatusOK {
						done.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return float64(done.Load()) / a.cfg.Duration.Seconds()
	}
	alone := normal(ctx)
	a.rep.set("cold_rps_alone", alone)
	hctx, stop := context.WithCancel(ctx)
	statuses := map[int]int{}
	var mu sync.Mutex
	var hw sync.WaitGroup
	hw.Add(1)
	go func() {
		defer hw.Done()
		t := time.NewTicker(time.Duration(float64(time.Second) / a.cfg.HeavyRate))
		defer t.Stop()
		var inner sync.WaitGroup
		for i := 0; ; i++ {
			select {
			case <-hctx.Done():
				inner.Wait()
				return
			case <-t.C:
			}
			inner.Add(1)
			go func() { // a new URL each time: the CDN cannot absorb it
				defer inner.Done()
				st, _ := a.get(hctx, heavy+fmt.Sprintf("&bg=%06x", i))
				mu.Lock()
				statuses[st]++
				mu.Unlock()
			}()
		}
	}()
	with := normal(ctx)
	stop()
	hw.Wait()
	a.rep.set("cold_rps_with_heavy", with)
	a.rep.set("heavy_statuses", fmt.Sprint(statuses))
	a.rep.set("cold_throughput_lost_pct", 100*(alone-with)/alone)
	return nil
}

func (a *attacker) get(ctx context.Context, path string, header ...string) (int, int64) {
	return a.request(ctx, "GET", path, header...)
}

// request sends method path with header's name, value pairs and drains the
// answer: its status and length.
func (a *attacker) request(ctx context.Context, method, path string, header ...string) (int, int64) {
	req, _ := http.NewRequestWithContext(ctx, method, a.cfg.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, n
}

// connections holds Conns requests whose declared body never arrives, then
// times the admin /healthz and a real render while they are held.
func (a *attacker) connections(ctx context.Context) error {
	srcs, err := photoJPEGs(1, 1600, 1200, 5)
	if err != nil {
		return err
	}
	st, key, err := a.upload("conns", srcs[0])
	if err != nil || st != http.StatusCreated {
		return fmt.Errorf("upload: %d %v", st, err)
	}
	addr := strings.TrimPrefix(a.cfg.URL, "http://")
	var conns []net.Conn
	failed := 0
	for range a.cfg.Conns {
		d := net.Dialer{Timeout: 2 * time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			failed++
			continue
		}
		fmt.Fprintf(c, "GET /%s?w=320 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", key)
		conns = append(conns, c)
	}
	a.rep.set("held", len(conns))
	a.rep.set("dial_failed", failed)
	time.Sleep(time.Second)
	c := &http.Client{Timeout: 20 * time.Second}
	a.rep.set("admin_healthz", timedGet(c, a.cfg.AdminURL+"/healthz"))
	a.rep.set("render", timedGet(c, fmt.Sprintf("%s/%s?w=640", a.cfg.URL, key)))
	// How many held connections the server has closed by now.
	time.Sleep(a.cfg.Hold)
	closed := 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		buf := make([]byte, 4096)
		for {
			_, err := c.Read(buf)
			if err == io.EOF {
				closed++
				break
			}
			if err != nil {
				break
			}
		}
		c.Close()
	}
	a.rep.set(fmt.Sprintf("closed_by_server_after_%s", a.cfg.Hold), closed)
	return nil
}

// timedGet says how a GET went: its status and time, or its error.
func timedGet(c *http.Client, url string) string {
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return "error: " + err.Error()
	}
	resp.Body.Close()
	return fmt.Sprintf("%d in %.1f ms", resp.StatusCode, float64(time.Since(start).Microseconds())/1000)
}
