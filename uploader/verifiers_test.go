package uploader

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testnode"
	"github.com/imgorigin/imgorigin/token"
)

// Backends verify result tokens with their stock JWT library: each one here,
// run for real against the JWKS of a running uploader, must accept the token
// of a real upload with issuer and audience checks on, and refuse a flipped
// signature byte, the upload token, an expired token and a stranger's token.
func TestStockJWTLibrariesVerifyResultTokens(t *testing.T) {
	f := newFixture(t, diskStore(t), nil)
	uploadTok := f.uploadToken("couple-1", "")
	code, res := f.upload(uploadTok, testimage.JPEG(t, testimage.Photo(t, 640, 480)))
	if code != 201 {
		t.Fatalf("upload: %d %v", code, res)
	}
	valid := res["result_token"].(string)
	key := res["key"].(string)
	expired, _ := f.keys.MintResult("couple-1", token.Result{Key: key}, time.Hour, time.Now().Add(-48*time.Hour))
	strangerKey, _ := token.GenerateKey(token.ES256)
	stranger, _ := token.NewKeySet(strangerKey)
	stranger.Issuer = testIssuer
	foreign, _ := stranger.MintResult("couple-1", token.Result{Key: key}, time.Hour, time.Now())
	tokens := map[string]string{"valid": valid, "flipped signature byte": flipSignature(t, valid), "upload token": uploadTok,
		"expired": expired, "unknown key": foreign}
	jwksURL := f.srv.URL + "/.well-known/jwks.json"

	verifiers := map[string]func(tok string) error{
		"node jsonwebtoken + jwks-rsa": nodeScript(t, "jsonwebtoken.js", jwksURL),
		"node jose":                    nodeScript(t, "jose.mjs", jwksURL),
		"python PyJWT":                 command(t, "/usr/bin/python3", "testdata/verifiers/pyjwt.py", jwksURL),
		"go golang-jwt":                golangJWT(t, jwksURL),
		"go token.JWKSVerifier": func(tok string) error {
			v := &token.JWKSVerifier{URL: jwksURL, Issuer: testIssuer}
			c, err := v.VerifyResult(context.Background(), tok)
			if err == nil && c.Key != key {
				return errors.New("wrong key claim " + c.Key)
			}
			return err
		},
	}
	// The placeholder is signed: the libraries read it from the claims.
	ph := res["placeholder"].(map[string]any)
	want := fmt.Sprintf("accepted %s %s %s", key, ph["color"], ph["thumbhash"])
	for name, prog := range map[string][]string{
		"node jose":    {"node", testnode.Script(t, filepath.Join("testdata", "verifiers", "jose.mjs"))},
		"python PyJWT": {"/usr/bin/python3", "testdata/verifiers/pyjwt.py"},
	} {
		if out, err := verdict(prog[0], prog[1], jwksURL, valid); err != nil || strings.TrimSpace(string(out)) != want || ph["color"] == "" {
			t.Errorf("%s read %q (%v), want %q", name, out, err, want)
		}
	}
	for name, verify := range verifiers {
		for what, tok := range tokens {
			err := verify(tok)
			if what == "valid" && err != nil {
				t.Errorf("%s refuses a valid result token: %v", name, err)
			}
			if what != "valid" && err == nil {
				t.Errorf("%s accepts the %s", name, what)
			}
		}
	}
}

func flipSignature(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 0x01
	return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// nodeScript runs a verifier script with the pinned packages `make test` installs.
func nodeScript(t *testing.T, script, jwksURL string) func(string) error {
	return command(t, "node", testnode.Script(t, filepath.Join("testdata", "verifiers", script)), jwksURL)
}

// command runs prog script JWKS ISSUER TOKEN; exit 0 means accepted.
func command(t *testing.T, prog, script, jwksURL string) func(string) error {
	if _, err := exec.LookPath(prog); err != nil {
		t.Fatalf("%s is not installed: run the tests with `make test`", prog)
	}
	return func(tok string) error {
		out, err := verdict(prog, script, jwksURL, tok)
		if err == nil && !strings.HasPrefix(string(out), "accepted") {
			return errors.New("no verdict: " + string(out))
		}
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 1 && strings.HasPrefix(string(out), "rejected") {
			return errors.New(strings.TrimSpace(string(out)))
		}
		if err != nil {
			t.Fatalf("%s %s did not run: %v\n%s", prog, script, err, out)
		}
		return nil
	}
}

// verdict runs prog script JWKS ISSUER TOKEN and returns what it printed.
func verdict(prog, script, jwksURL, tok string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, prog, script, jwksURL, testIssuer, tok).CombinedOutput()
}

// golangJWT verifies with golang-jwt, its keys read from the JWKS by go-jose.
func golangJWT(t *testing.T, jwksURL string) func(string) error {
	resp, err := http.Get(jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	return func(tok string) error {
		_, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
			keys := set.Key(tk.Header["kid"].(string))
			if len(keys) == 0 {
				return nil, errors.New("unknown kid")
			}
			return keys[0].Key, nil
		}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(testIssuer), jwt.WithAudience("result"), jwt.WithExpirationRequired())
		return err
	}
}
