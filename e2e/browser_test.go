package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testimage"
)

type browserReport struct {
	Error  string
	Images []struct {
		Sizes        string
		CurrentSrc   string
		NaturalWidth int
		PixelWidth   int
	}
	DevicePixelRatio float64
	UploadStatus     int
	UploadKey        string
	UploadError      string
}

// A real browser on another origin: headless Chromium opens an app's page
// that shows <img srcset> built by @imgix/js-core from the resizer, reads the
// images back through a canvas (CORS), and uploads a photo with fetch (a CORS
// preflight) using an upload token from the app's backend.
func TestBrowserSrcsetAndUpload(t *testing.T) {
	chromium := os.Getenv("IMGORIGIN_TEST_CHROMIUM")
	if chromium == "" {
		t.Fatal("IMGORIGIN_TEST_CHROMIUM is not set: run the tests with `make test`, which installs Debian's chromium")
	}
	jsCore, err := os.ReadFile(filepath.Join(os.Getenv("IMGORIGIN_TEST_NODE_MODULES"), "@imgix", "js-core", "dist", "imgix-js-core.umd.js"))
	if err != nil {
		t.Fatalf("@imgix/js-core (installed by `make test`): %v", err)
	}
	page, err := os.ReadFile("testdata/page.html")
	if err != nil {
		t.Fatal(err)
	}
	photo := testimage.Photo(t, 1200, 900)
	upload := testimage.JPEG(t, photo)
	photo.Close()

	// The app: its page, its backend's token endpoint, and where the page reports.
	reports := make(chan browserReport, 1)
	var img *server
	var key string
	app := http.NewServeMux()
	app.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		strings.NewReplacer("__ORIGIN__", img.URL, "__KEY__", key).WriteString(w, string(page))
	})
	app.HandleFunc("GET /js-core.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(jsCore)
	})
	app.HandleFunc("GET /photo.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(upload)
	})
	app.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"token": img.uploadToken(t)})
	})
	app.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var rep browserReport
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &rep); err != nil {
			rep.Error = "bad report: " + string(b)
		}
		select {
		case reports <- rep:
		default:
		}
	})
	appSrv := httptest.NewServer(app)
	defer appSrv.Close()

	img = serve(t, "--cors-origins", appSrv.URL)
	key, sw, sh := storedPhoto(t, img)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--window-size=1280,800", "--force-device-scale-factor=2", appSrv.URL+"/")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	var rep browserReport
	select {
	case rep = <-reports:
	case <-ctx.Done():
		t.Fatalf("the page did not report within 90 s; chromium said:\n%s", out.String())
	}
	if rep.Error != "" {
		t.Fatalf("the page failed: %s", rep.Error)
	}
	if len(rep.Images) != 5 || rep.DevicePixelRatio != 2 {
		t.Fatalf("report: %+v", rep)
	}
	for _, im := range rep.Images {
		want, tolerance := expectedWidth(t, im.CurrentSrc, false, sw, sh)
		if im.NaturalWidth == 0 || abs(im.PixelWidth-want) > tolerance {
			t.Errorf("sizes %q: Chromium chose %s, %d px wide (naturalWidth %d); want %d", im.Sizes, im.CurrentSrc, im.PixelWidth, im.NaturalWidth, want)
		}
		t.Logf("sizes %q at DPR 2: %s -> %d px", im.Sizes, strings.TrimPrefix(im.CurrentSrc, img.URL+"/"+key), im.PixelWidth)
	}
	if rep.UploadStatus != 201 || len(rep.UploadKey) != 32 {
		t.Fatalf("browser upload: %d %q %s", rep.UploadStatus, rep.UploadKey, rep.UploadError)
	}
	if status, width, _, err := fetchWidth(img.URL + "/" + rep.UploadKey + "?w=320"); status != 200 || width != 320 {
		t.Fatalf("the browser's upload is not served: %d %d %v", status, width, err)
	}
}
