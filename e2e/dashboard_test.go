package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
)

// Every panel of the Grafana dashboard (deploy/grafana/imgorigin.json)
// returns data from a real Prometheus (Debian's, which make test installs)
// scraping `imgorigin serve` under the benchmark's load, uploads and
// refusals, and a migration worker at work: each query answers at least
// one series with a number.
func TestDashboardPanelsReturnData(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed: run the tests with `make test`, which installs Debian's prometheus package")
	}
	s := serve(t)
	migrateAdmin := startMigration(t)

	dir := t.TempDir()
	prom := "127.0.0.1:" + strconv.Itoa(freePorts(t, 1)[0])
	config := fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: imgorigin\n    static_configs: [{targets: [%q, %q]}]\n", s.Admin, migrateAdmin)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promBin, "--config.file", filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path", filepath.Join(dir, "tsdb"),
		"--web.listen-address", prom, "--log.level", "warn")
	var promLog strings.Builder
	cmd.Stderr = &promLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	testwait.Within(t, 30*time.Second, "prometheus ready", func() bool {
		resp, err := http.Get("http://" + prom + "/-/ready")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	// Prometheus applies new targets a few seconds after it starts: wait
	// for both to have been scraped before any series grows.
	testwait.Within(t, 30*time.Second, "both targets scraped", func() bool { return numbers(t, prom, `up == 1`) == 2 })

	// The load: uploads, the benchmark's cold, browser and hot renders,
	// and answers that are refusals.
	var keys []string
	for i := range 3 {
		key, _ := s.upload(t, testimage.JPEG(t, testimage.Photo(t, 1600+100*i, 1200)))
		keys = append(keys, key)
		if i == 0 {
			time.Sleep(2 * time.Second) // its series scraped before the others grow them
		}
	}
	run(t, binary(t), "bench", "--url", s.URL, "--admin-url", "http://"+s.Admin, "--keys", strings.Join(keys, ","),
		"--scenario", "cold", "--scenario", "cold-browser", "--scenario", "hot", "--duration", "3s", "--warmup", "500ms", "--log-level", "warn")
	for _, path := range []string{"/no-such-key?w=320", "/" + keys[0] + "?w=banana", "/" + keys[0] + "?w=320&fm=json", "/" + keys[0] + "?w=320&fm=png"} {
		if _, err := httpGet(s.URL + path); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(3 * time.Second) // scraped at least twice since

	b, err := os.ReadFile("../deploy/grafana/imgorigin.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			n++
			expr := strings.ReplaceAll(target.Expr, "$__rate_interval", "1m")
			if got := numbers(t, prom, expr); got == 0 {
				t.Errorf("panel %q: %s returned no number", p.Title, expr)
			}
		}
	}
	if n < 20 {
		t.Errorf("%d queries in the dashboard", n)
	}
	if t.Failed() {
		t.Logf("prometheus' log:\n%s", promLog.String())
	}
}

// numbers runs an instant query and counts the series it returns whose
// value is a number (not NaN).
func numbers(t *testing.T, prom, expr string) int {
	t.Helper()
	resp, err := http.Get("http://" + prom + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Status != "success" {
		t.Fatalf("%s: %v %s %s", expr, err, out.Status, out.Error)
	}
	n := 0
	for _, r := range out.Data.Result {
		if v, err := strconv.ParseFloat(fmt.Sprint(r.Value[1]), 64); err == nil && !math.IsNaN(v) {
			n++
		}
	}
	return n
}

// startMigration plans a small legacy folder and starts `imgorigin migrate
// work` on it, publishing its progress every second; it returns the
// worker's admin address.
func startMigration(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	legacy := filepath.Join(dir, "legacy")
	jpg := testimage.JPEG(t, testimage.Photo(t, 320, 240))
	for g := range 3 {
		for p := range 2 {
			key := filepath.Join(legacy, "legacy", fmt.Sprintf("user-%d", g), fmt.Sprintf("p%d", p))
			if err := os.MkdirAll(filepath.Dir(key), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(key+".jpg", append(append([]byte{}, jpg...), key...), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(key+"_s.jpg", []byte("thumbnail"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	common := []string{"--data", filepath.Join(dir, "data"), "--source", "file://" + legacy, "--log-level", "warn"}
	run(t, binary(t), append([]string{"migrate", "plan"}, common...)...)
	admin := "127.0.0.1:" + strconv.Itoa(freePorts(t, 1)[0])
	cmd := exec.Command(binary(t), append([]string{"migrate", "work", "--admin-addr", admin, "--progress-interval", "1s"}, common...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	return admin
}
