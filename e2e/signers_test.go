package e2e

import (
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/sign"
)

// The signers a backend can use without cgo or libvips (Go's sign package,
// clients/js, clients/python) each sign URLs the server accepts, at sizes no
// unsigned request may have, with values that need escaping; a changed
// parameter is refused.
func TestSigners(t *testing.T) {
	const hexKey = "8f3a61c2d94b07e5a1c3f0b2d4e6a8c0"
	s := serve(t, "--sign-keys", hexKey)
	key, _, _ := storedPhoto(t, s)
	keyBytes, _ := hex.DecodeString(hexKey)

	signers := map[string]func(url string) string{
		"go sign.URL": func(url string) string {
			out, err := sign.URL(keyBytes, url)
			if err != nil {
				t.Fatal(err)
			}
			return out
		},
		"node clients/js/imgorigin-sign.mjs": func(url string) string {
			return strings.TrimSpace(string(run(t, "node", "../clients/js/imgorigin-sign.mjs", hexKey, url)))
		},
		"python3 clients/python/imgorigin_sign.py": func(url string) string {
			return strings.TrimSpace(string(run(t, "/usr/bin/python3", "../clients/python/imgorigin_sign.py", hexKey, url)))
		},
	}
	paths := []struct {
		path  string
		width int
	}{
		{"/" + key + "?w=333", 333},
		{"/" + key + "?w=333&h=200&fit=crop&ar=16:9&q=77", 333},
		{"/" + key + "?fm=webp&w=1234&utm_campaign=" + "a%20b%21%2A%27%28%29~%C3%A9", 1234},
		{"/" + key + "?w=3000", 3000}, // signed clip enlarges, as imgix's does
	}
	for name, signer := range signers {
		for _, p := range paths {
			signed := signer(p.path)
			status, width, _, err := fetchWidth(s.URL + signed)
			if status != 200 || width != p.width {
				t.Errorf("%s: %s: %d, %d px (%v); want 200, %d px", name, signed, status, width, err, p.width)
			}
			tampered := strings.Replace(signed, "w=", "w=1", 1)
			if status, _, _, _ := fetchWidth(s.URL + tampered); status != 403 {
				t.Errorf("%s: tampered %s: %d, want 403", name, tampered, status)
			}
		}
	}
}

// Backends sign without cgo: the sign package builds with CGO_ENABLED=0.
func TestSignBuildsWithoutCgo(t *testing.T) {
	cmd := exec.Command("go", "build", "-o", os.DevNull, "../sign")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./sign: %v\n%s", err, out)
	}
}
