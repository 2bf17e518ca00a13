package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
	"github.com/imgorigin/imgorigin/storage/s3/s3test"
	"github.com/imgorigin/imgorigin/storage/storagetest"
)

// `imgorigin health` is the image's health command: it follows /readyz,
// which follows whether the store answers: down -> not ready within a few
// checks, back -> ready.
func TestHealthFollowsTheStore(t *testing.T) {
	proxy := storagetest.NewProxy(t, storagetest.S3Endpoint(t))
	bucket := s3test.NewBucket(t)
	s := serve(t, "--store", "s3://"+bucket+"?path_style=true&endpoint="+proxy.URL, "--ready-interval", "200ms", "--ready-failures", "3")
	health := func() (string, error) {
		out, err := exec.Command(binary(t), "health", "--admin-addr", s.Admin).CombinedOutput()
		return string(out), err
	}
	waitFor := func(what string, ok bool) {
		t.Helper()
		var out string
		testwait.For(t, what, func() bool {
			var err error
			out, err = health()
			return (err == nil) == ok
		})
		t.Logf("%s: %s", what, strings.TrimSpace(out))
	}
	waitFor("store up", true)
	proxy.Down()
	start := time.Now()
	waitFor("store down", false)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v to notice the store was down", d)
	}
	if out, _ := health(); !strings.Contains(out, "not ready: store") {
		t.Errorf("health output %q does not name the store", out)
	}
	proxy.Forward()
	waitFor("store back", true)
	if out, err := exec.Command(binary(t), "health", "--admin-addr", s.Admin, "--live").CombinedOutput(); err != nil {
		t.Errorf("health --live: %v %s", err, out)
	}
	// build_info on /metrics, and `imgorigin version`, name what runs.
	resp, err := http.Get("http://" + s.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `imgorigin_build_info{goversion="go`) {
		t.Error("no imgorigin_build_info on /metrics")
	}
	if out, err := exec.Command(binary(t), "version").CombinedOutput(); err != nil || !strings.Contains(string(out), "libvips 8.") {
		t.Errorf("version: %q %v", out, err)
	}
}

// A store that is down or stalled costs a fast 503 with Retry-After, to
// renders and uploads alike, and service comes back with the store: the
// real S3 server behind a proxy that can refuse or stall, no caches.
func TestAnS3OutageIsAFast503(t *testing.T) {
	proxy := storagetest.NewProxy(t, storagetest.S3Endpoint(t))
	s := serve(t, "--store", "s3://"+s3test.NewBucket(t)+"?path_style=true&endpoint="+proxy.URL,
		"--store-timeout", "1s", "--upload-store-timeout", "1s", "--original-cache-bytes", "0", "--variant-cache-bytes", "0")
	key, _ := s.upload(t, testimage.JPEG(t, testimage.Photo(t, 400, 300)))
	upload := func(tok string, photo []byte) *http.Response {
		req, _ := http.NewRequest("POST", s.URL+"/v1/uploads", bytes.NewReader(photo))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "image/jpeg")
		return send(t, req)
	}
	// Within the 1 s store timeouts, with room for a loaded machine.
	const fast = 3 * time.Second
	for i, out := range []struct {
		name    string
		breakIt func()
	}{{"down", proxy.Down}, {"stalled", proxy.Stall}} {
		photo := testimage.JPEG(t, testimage.Photo(t, 401+i, 300))
		tok := s.uploadToken(t) // minted first: the upload alone is timed
		out.breakIt()
		start := time.Now()
		a, err := httpGet(s.URL + "/" + key + "?w=160")
		if took := time.Since(start); err != nil || a.status != 503 || a.header.Get("Retry-After") == "" || !strings.Contains(string(a.body), "store is unavailable") || took > fast {
			t.Errorf("render, store %s: %d %s Retry-After %q after %v (%v), want a 503 store unavailable with Retry-After within %v",
				out.name, a.status, a.body, a.header.Get("Retry-After"), took, err, fast)
		}
		start = time.Now()
		resp := upload(tok, photo)
		if took := time.Since(start); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || took > fast {
			t.Errorf("upload, store %s: %d Retry-After %q after %v, want a 503 with Retry-After within %v",
				out.name, resp.StatusCode, resp.Header.Get("Retry-After"), took, fast)
		}
		proxy.Forward()
		if a, err := httpGet(s.URL + "/" + key + "?w=200"); err != nil || a.status != 200 {
			t.Errorf("render, store back after %s: %d %s %v", out.name, a.status, a.body, err)
		}
		if resp := upload(s.uploadToken(t), photo); resp.StatusCode != 201 {
			t.Errorf("upload, store back after %s: %d", out.name, resp.StatusCode)
		}
	}
}

// Every answer carries an X-Request-Id (the caller's, when sane) and every
// log line of the request names it: the access line and the error line.
func TestRequestIDs(t *testing.T) {
	proxy := storagetest.NewProxy(t, storagetest.S3Endpoint(t))
	s := serve(t, "--store", "s3://"+s3test.NewBucket(t)+"?path_style=true&endpoint="+proxy.URL, "--store-timeout", "500ms")
	key, _ := s.upload(t, testimage.JPEG(t, testimage.Photo(t, 640, 480)))
	get := func(path, id string) *http.Response {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		return send(t, req)
	}
	if got := get("/"+key+"?w=320", "app-req-0001").Header.Get("X-Request-Id"); got != "app-req-0001" {
		t.Errorf("echoed %q, want the caller's id", got)
	}
	made := get("/"+key+"?w=320", "").Header.Get("X-Request-Id")
	hostile := get("/"+key+"?w=320", strings.Repeat("A", 500)).Header.Get("X-Request-Id")
	if made == "" || hostile == "" || len(hostile) > 128 {
		t.Errorf("ids made: %q and %q for a 500-byte one", made, hostile)
	}
	proxy.Down() // the original of a new key is not cached: the store error is logged
	if resp := get("/"+strings.Repeat("f", 32)+"?w=320", "app-req-0002"); resp.StatusCode != 503 {
		t.Errorf("store down: %d, want 503", resp.StatusCode)
	}
	// The access line is written once the answer is sent: the last may
	// reach the log a moment after the client has it.
	wants := []string{"request app-req-0001", "request " + made, "request app-req-0002", "resizer app-req-0002"}
	var lines map[string]int
	testwait.For(t, "the last access line", func() bool {
		lines = map[string]int{}
		for _, line := range strings.Split(s.logs(), "\n") {
			var rec struct {
				Msg       string `json:"msg"`
				RequestID string `json:"request_id"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.RequestID != "" {
				lines[rec.Msg+" "+rec.RequestID]++
			}
		}
		return lines[wants[len(wants)-1]] > 0 && lines["request app-req-0002"] > 0
	})
	for _, want := range wants {
		if lines[want] != 1 {
			t.Errorf("log lines %q: %d, want 1 (all: %v)", want, lines[want], lines)
		}
	}
}

// A process leaves nothing in the temporary directory: libvips' Go binding
// writes the ICC profiles it converts with there (a CMYK photo needs one).
func TestNothingLeftInTheTemporaryDirectory(t *testing.T) {
	tmp, data := t.TempDir(), t.TempDir()
	photo := testimage.Photo(t, 300, 200)
	if err := photo.ToColorSpace(vips.InterpretationCMYK); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(data, "cmyk.jpg")
	if err := os.WriteFile(file, testimage.JPEG(t, photo), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "import", "--data", filepath.Join(data, "data"), file)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), `"key"`) {
		t.Fatalf("import: %v\n%s", err, out)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in TMPDIR: %s", e.Name())
	}
}
