package e2e

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/storage/storagetest"
)

// `imgorigin health` is the image's health command: it follows /readyz,
// which follows whether the store answers: down -> not ready within a few
// checks, back -> ready.
func TestHealthFollowsTheStore(t *testing.T) {
	proxy := storagetest.NewProxy(t, storagetest.S3Endpoint(t))
	bucket := storagetest.NewBucket(t)
	s := serve(t, "--store", "s3://"+bucket+"?path_style=true&endpoint="+proxy.URL, "--ready-interval", "200ms", "--ready-failures", "3")
	health := func() (string, error) {
		out, err := exec.Command(binary(t), "health", "--admin-addr", s.Admin).CombinedOutput()
		return string(out), err
	}
	waitFor := func(what string, ok bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, err := health()
			if (err == nil) == ok {
				t.Logf("%s: %s", what, strings.TrimSpace(out))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: health still says %q (%v)", what, out, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
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
