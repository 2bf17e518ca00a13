package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
)

// A plain directory tried as an attacker or a careless operator would: the
// server is `imgorigin serve --store DIR` with its defaults, DIR a real
// directory holding what such directories hold.

// FIFOs once left an OS thread blocked in open for every request until the
// process died of thread exhaustion; now they are 404 at once, threads stay
// flat and health checks answer throughout.
func TestAFIFOInTheDirectoryCostsNothing(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := serve(t, "--store", dir)
	before := procStatus(t, s.Pid, "Threads")

	stopHealth := make(chan struct{})
	var healthFailures atomic.Int64
	var worstHealth atomic.Int64
	var healthWG sync.WaitGroup
	healthWG.Add(1)
	go func() {
		defer healthWG.Done()
		client := &http.Client{Timeout: time.Second}
		for {
			select {
			case <-stopHealth:
				return
			case <-time.After(20 * time.Millisecond):
			}
			start := time.Now()
			resp, err := client.Get("http://" + s.Admin + "/healthz")
			if err != nil || resp.StatusCode != 200 {
				healthFailures.Add(1)
			}
			if resp != nil {
				resp.Body.Close()
			}
			if d := int64(time.Since(start)); d > worstHealth.Load() {
				worstHealth.Store(d)
			}
		}
	}()

	const requests, concurrent = 200, 20
	client := &http.Client{Timeout: 5 * time.Second}
	statuses := make([]int, requests)
	sem := make(chan struct{}, concurrent)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range requests {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			req, _ := http.NewRequest("GET", s.URL+"/fifo?w=320", nil)
			if i%2 == 0 {
				req.Header.Set("If-None-Match", `"x"`)
			}
			resp, err := client.Do(req)
			if err != nil {
				return // status 0: counted below
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopHealth)
	healthWG.Wait()
	after := procStatus(t, s.Pid, "Threads")
	t.Logf("%d requests for a FIFO in %v; server threads %d -> %d; health checks: %d failed, slowest %v",
		requests, elapsed.Round(time.Millisecond), before, after, healthFailures.Load(), time.Duration(worstHealth.Load()).Round(time.Millisecond))
	for i, st := range statuses {
		if st != 404 {
			t.Fatalf("request %d for a FIFO: %d, want 404", i, st)
		}
	}
	if after-before > 10 {
		t.Fatalf("server threads grew from %d to %d", before, after)
	}
	if healthFailures.Load() > 0 {
		t.Fatalf("%d health checks failed while FIFOs were asked for", healthFailures.Load())
	}
}

// A JPEG someone put in the directory, GPS and all, is only ever served
// re-encoded and stripped, whatever the URL asks; links out of the
// directory and hidden names are 404 like missing files.
func TestNothingUnstrippedOrOutsideIsServed(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	photo := testimage.Photo(t, 800, 600)
	// At q=50, re-encoding at any q an unsigned URL may ask (up to 90) is
	// larger: what once made the resizer answer with the file itself.
	gps := testimage.WithPrivateMetadataAt(t, photo, 50)
	photo.Close()
	write(t, filepath.Join(dir, "gps.jpg"), gps)
	write(t, filepath.Join(outside, "secret.jpg"), gps)
	write(t, filepath.Join(dir, ".git", "x.jpg"), gps)
	write(t, filepath.Join(dir, ".env"), []byte("SECRET=1\n"))
	for link, target := range map[string]string{"link-out.jpg": filepath.Join(outside, "secret.jpg"), "dir-out": outside, "alias.jpg": "gps.jpg"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	s := serve(t, "--store", dir)
	for _, q := range []string{"", "?q=90", "?fm=jpg", "?fm=jpg&q=90", "?w=320", "?w=800&fm=jpg", "?auto=format"} {
		a, err := httpGet(s.URL + "/gps.jpg" + q)
		if err != nil || a.status != 200 {
			t.Fatalf("/gps.jpg%s: %d %v %s", q, a.status, err, a.body)
		}
		for _, private := range []string{"SecretCam", "Jane Secret", "Exif", "GPS"} {
			if bytes.Contains(a.body, []byte(private)) {
				t.Fatalf("/gps.jpg%s (%s, %d bytes) carries %q", q, a.header.Get("Content-Type"), len(a.body), private)
			}
		}
		if bytes.Equal(a.body, gps) {
			t.Fatalf("/gps.jpg%s served the file as it is", q)
		}
	}
	for _, path := range []string{"/link-out.jpg", "/dir-out/secret.jpg", "/alias.jpg", "/.git/x.jpg", "/.env", "/.git/config", "/nothing.jpg"} {
		a, err := httpGet(s.URL + path + "?w=320")
		if err != nil || a.status != 404 {
			t.Errorf("%s: %d %v %s, want 404", path, a.status, err, a.body)
		}
	}
}

// A directory moved away (or a mount gone empty of it) is the store failing,
// not every photo deleted: 503 with Retry-After and no-store, and the
// instance turns unready until the directory is back.
func TestAMovedAwayDirectoryIsAnOutage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "photos")
	photo := testimage.Photo(t, 400, 300)
	jpeg := testimage.JPEG(t, photo)
	photo.Close()
	write(t, filepath.Join(dir, "a.jpg"), jpeg)
	write(t, filepath.Join(dir, "b.jpg"), jpeg)
	s := serve(t, "--store", dir, "--ready-interval", "100ms", "--ready-failures", "2")
	if a, _ := httpGet(s.URL + "/a.jpg?w=320"); a.status != 200 {
		t.Fatalf("before: %d %s", a.status, a.body)
	}
	waitReady(t, s, 200)
	if err := os.Rename(dir, dir+".moved"); err != nil {
		t.Fatal(err)
	}
	a, _ := httpGet(s.URL + "/b.jpg?w=320")
	if a.status != 503 || a.header.Get("Retry-After") == "" || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("with the directory gone: %d, Retry-After %q, Cache-Control %q; want 503, a Retry-After, no-store",
			a.status, a.header.Get("Retry-After"), a.header.Get("Cache-Control"))
	}
	waitReady(t, s, 503)
	if err := os.Rename(dir+".moved", dir); err != nil {
		t.Fatal(err)
	}
	waitReady(t, s, 200)
	if a, _ := httpGet(s.URL + "/b.jpg?w=320"); a.status != 200 {
		t.Fatalf("with the directory back: %d %s", a.status, a.body)
	}
}

// Large files that are no image cost a sniff of their first bytes, not
// their size in memory: 40 concurrent GETs of distinct 60 MB files once took
// 1.7 GB. Files that look like JPEG but are not are read within the read
// budget (256 MiB), refused, and not read again.
func TestLargeFilesStayWithinTheReadBudget(t *testing.T) {
	dir := t.TempDir()
	const files, size = 40, 60 << 20
	for i := range files {
		sparse(t, filepath.Join(dir, fmt.Sprintf("blob-%d.bin", i)), nil, size)
		sparse(t, filepath.Join(dir, fmt.Sprintf("fake-%d.jpg", i)), []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), size)
	}
	s := serve(t, "--store", dir)
	rss := func() int { return procStatus(t, s.Pid, "VmRSS") } // kB
	before := rss()
	burst := func(name string) (peak int, statuses map[int]int) {
		statuses = map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		done := make(chan struct{})
		peakCh := make(chan int)
		go func() { // sample RSS while the burst runs
			p := 0
			for {
				p = max(p, rss())
				select {
				case <-done:
					peakCh <- p
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		for i := range files {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, _ := httpGet(s.URL + "/" + fmt.Sprintf(name, i) + "?w=320")
				mu.Lock()
				statuses[a.status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		close(done)
		return <-peakCh, statuses
	}
	peakBlobs, blobs := burst("blob-%d.bin")
	peakFakes, fakes := burst("fake-%d.jpg")
	// The last read of a burst gives the memory back, in the background.
	after := rss()
	testwait.Within(t, 5*time.Second, fmt.Sprintf("RSS to fall back from %d MB to within 64 MB of %d MB", after>>10, before>>10), func() bool {
		after = rss()
		return after-before <= 64<<10
	})
	t.Logf("RSS %d MB before; peak %d MB for %d non-images %v; peak %d MB for %d fake JPEGs %v; %d MB after",
		before>>10, peakBlobs>>10, files, blobs, peakFakes>>10, files, fakes, after>>10)
	if blobs[415] != files {
		t.Errorf("non-images: %v, want %d x 415", blobs, files)
	}
	if fakes[422]+fakes[503] != files || fakes[422] == 0 {
		t.Errorf("fake JPEGs: %v, want 422 (corrupt) within the budget, 503 past it", fakes)
	}
	const budgetKB, slackKB = 256 << 10, 64 << 10
	if peak := max(peakBlobs, peakFakes); peak-before > budgetKB+slackKB {
		t.Fatalf("RSS rose from %d MB to %d MB: more than the 256 MiB read budget plus 64 MB", before>>10, peak>>10)
	}
	// A refusal is remembered: asking again reads nothing.
	gets := metric(t, s, "imgorigin_resizer_store_gets_total")
	for range 20 {
		if a, _ := httpGet(s.URL + "/blob-0.bin?w=320"); a.status != 415 {
			t.Fatalf("blob-0.bin again: %d", a.status)
		}
	}
	if again := metric(t, s, "imgorigin_resizer_store_gets_total"); again != gets {
		t.Fatalf("20 more requests for a refused file read the store %v times", again-gets)
	}
}

// Phones' 200 MP modes make 16000 x 12000 JPEGs. Their header declares
// 192 MP, but a 2560 px original decodes them shrunk on load at 1/2 a side
// (48 MP): they upload.
func TestA192MegapixelJPEGUploads(t *testing.T) {
	img := testimage.Photo(t, 16000, 12000)
	b, _, err := img.ExportJpeg(&vips.JpegExportParams{Quality: 85})
	img.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t)
	start := time.Now()
	res := s.uploadResult(t, b)
	t.Logf("16000x12000 JPEG of %.1f MB uploaded in %v; server peak RSS %d MB", float64(len(b))/1e6, time.Since(start).Round(time.Millisecond), procStatus(t, s.Pid, "VmHWM")>>10)
	if res.Width != 2560 {
		t.Fatalf("stored original is %d px wide, want 2560", res.Width)
	}
}

// A store that holds the data directory would serve its keys; one that
// overlaps the pending store would serve raw uploads, GPS and all.
func TestAStoreOverlappingPrivateFilesRefusesToStart(t *testing.T) {
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", data}, "holds the data directory"},
		{[]string{"--store", filepath.Join(data, "keys")}, "overlaps"},
		{[]string{"--store", filepath.Join(data, "up"), "--defer-when-busy", "--pending-store", filepath.Join(data, "up", "pending")}, "--pending-store"},
	} {
		cmd := exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data}, c.args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("serve %v: %v, %q; want a refusal naming %q", c.args, err, stderr.String(), c.want)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("serve %v started", c.args)
		}
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sparse writes head and extends the file to size without using the disk.
func sparse(t *testing.T, path string, head []byte, size int64) {
	t.Helper()
	write(t, path, head)
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

// procStatus reads a number from /proc/PID/status (Threads; VmRSS and VmHWM in kB).
func procStatus(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("%s: %q", field, v)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// waitReady polls /readyz until it answers want.
func waitReady(t *testing.T, s *server, want int) {
	t.Helper()
	testwait.For(t, fmt.Sprintf("/readyz to answer %d", want), func() bool {
		a, _ := httpGet("http://" + s.Admin + "/readyz")
		return a.status == want
	})
}
