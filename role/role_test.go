package role

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/resizer"
	"github.com/imgorigin/imgorigin/server"
)

func TestMain(m *testing.M) { testimage.Main(m) }

// The embedded default, assembled: both roles on one listener with the
// routes users get, development keys made, and a store that would serve
// the data directory refused.
func TestServeAssemblesBothRoles(t *testing.T) {
	dir := t.TempDir()
	rcfg := resizer.DefaultConfig()
	uploads := DefaultUploads()
	cfg := Config{
		Server:  server.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"},
		Stores:  Stores{Data: filepath.Join(dir, "data"), Store: filepath.Join(dir, "originals")},
		Resizer: &rcfg, Uploads: &uploads, Dev: true,
	}
	log := slog.New(slog.DiscardHandler)
	r, err := New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Server.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	base := "http://" + r.Server.Addr()
	for _, c := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/nothing-here?w=320", 404, "no such image"},
		{"POST", "/nothing-here", 405, "allowed: GET, HEAD"},
		{"GET", "/.well-known/jwks.json", 200, `"keys"`},
		{"POST", "/v1/upload-tokens", 401, "service key"},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.body) {
			t.Errorf("%s %s: %d %s, want %d with %q", c.method, c.path, resp.StatusCode, b, c.status, c.body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"signing-key.pem", "service-key", "object-key-secret"} {
		if _, err := os.Stat(filepath.Join(dir, "data", "keys", k)); err != nil {
			t.Errorf("development key %s: %v", k, err)
		}
	}

	cfg.Stores = Stores{Data: filepath.Join(dir, "originals", "data"), Store: filepath.Join(dir, "originals")}
	if _, err := New(context.Background(), cfg, log); err == nil || !strings.Contains(err.Error(), "holds the data directory") {
		t.Errorf("a store holding the data directory: %v, want a refusal", err)
	}
}
