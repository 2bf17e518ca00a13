package token

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const issuer = "https://upload.example.test"

func keySet(t testing.TB, alg string) *KeySet {
	t.Helper()
	k, err := GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := NewKeySet(k)
	if err != nil {
		t.Fatal(err)
	}
	ks.Issuer = issuer
	return ks
}

func TestTokensRoundTripWithEveryClaim(t *testing.T) {
	for _, alg := range []string{ES256, EdDSA} {
		ks := keySet(t, alg)
		now := time.Unix(1_800_000_000, 0)
		tok, minted, err := ks.MintUpload("couple-123", UploadLimits{MaxBytes: 5 << 20, MaxUploads: 3}, 15*time.Minute, now)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ks.VerifyUpload(tok, now.Add(14*time.Minute))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if got.Subject != "couple-123" || got.MaxBytes != 5<<20 || got.MaxUploads != 3 || got.Issuer != issuer || len(got.ID) != 32 ||
			got.NotBefore == nil || got.ExpiresAt.Sub(got.IssuedAt.Time) != 15*time.Minute || got.ID != minted.ID {
			t.Fatalf("%s: claims %+v", alg, got)
		}
		res, err := ks.MintResult("couple-123", Result{Key: "k", Width: 10}, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := ks.VerifyResult(res, now)
		if err != nil || rc.Key != "k" || rc.Width != 10 || rc.ID == "" || rc.Issuer != issuer {
			t.Fatalf("%s: result %+v, %v", alg, rc, err)
		}
		header, _ := base64.RawURLEncoding.DecodeString(strings.Split(res, ".")[0])
		var h map[string]string
		json.Unmarshal(header, &h)
		if h["alg"] != alg || h["typ"] != TypeResult || h["kid"] == "" {
			t.Fatalf("%s: header %v", alg, h)
		}
	}
}

func TestVerificationRefuses(t *testing.T) {
	ks := keySet(t, ES256)
	now := time.Unix(1_800_000_000, 0)
	upload, _, _ := ks.MintUpload("u", UploadLimits{}, 15*time.Minute, now)
	result, _ := ks.MintResult("u", Result{Key: "k"}, time.Hour, now)
	stranger := keySet(t, ES256)
	foreign, _ := stranger.MintResult("u", Result{Key: "k"}, time.Hour, now)
	// A token with the right audience but the other kind's type: what a
	// verifier that only checks aud would accept.
	sneaky, _ := ks.sign(TypeUpload, ResultClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: issuer, Subject: "u", Audience: jwt.ClaimStrings{AudienceResult},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}})
	long, _ := ks.MintResult("u", Result{}, MaxResultLifetime+time.Hour, now)
	other := keySet(t, ES256)
	other.signing, other.byID = ks.signing, ks.byID
	other.Issuer = "https://evil.example.test"
	wrongIssuer, _ := other.MintResult("u", Result{}, time.Hour, now)
	parts := strings.Split(result, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[2])
	raw[len(raw)/2] ^= 1 // a byte of the signature, not of its base64 text
	sig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(raw)
	for _, c := range []struct {
		name string
		err  error
		got  error
	}{
		{"upload token as result", ErrAudience, verr(ks.VerifyResult(upload, now))},
		{"result token as upload", ErrAudience, verr2(ks.VerifyUpload(result, now))},
		{"typed for the other kind", ErrAudience, verr(ks.VerifyResult(sneaky, now))},
		{"expired", ErrExpired, verr(ks.VerifyResult(result, now.Add(2*time.Hour)))},
		{"issued in the future", ErrNotYetValid, verr(ks.VerifyResult(result, now.Add(-time.Minute)))},
		{"unknown key", ErrUnknownKey, verr(ks.VerifyResult(foreign, now))},
		{"flipped signature", ErrSignature, verr(ks.VerifyResult(sig, now))},
		{"lifetime over the cap", ErrLifetime, verr(ks.VerifyResult(long, now))},
		{"wrong issuer", ErrIssuer, verr(ks.VerifyResult(wrongIssuer, now))},
		{"garbage", ErrMalformed, verr(ks.VerifyResult("a.b.c", now))},
	} {
		if !errors.Is(c.got, c.err) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.err)
		}
	}
	if _, err := ks.VerifyResult(result, now.Add(-Leeway/2)); err != nil {
		t.Errorf("within the leeway: %v", err)
	}
}

func verr(_ ResultClaims, err error) error  { return err }
func verr2(_ UploadClaims, err error) error { return err }

func TestRotationAndJWKS(t *testing.T) {
	old, _ := NewKey(bytes.Repeat([]byte{1}, 32)) // an earlier version's Ed25519 seed
	ks1, _ := NewKeySet(old)
	ks1.Issuer = issuer
	now := time.Now()
	inFlight, _ := ks1.MintResult("u", Result{Key: "k"}, time.Hour, now)
	cur, _ := GenerateKey(ES256)
	ks2, _ := NewKeySet(cur, old)
	ks2.Issuer = issuer
	b, err := json.Marshal(ks2.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Keys []map[string]string }
	json.Unmarshal(b, &doc)
	if len(doc.Keys) != 2 || doc.Keys[0]["kid"] != cur.ID || doc.Keys[0]["alg"] != ES256 || doc.Keys[0]["crv"] != "P-256" ||
		doc.Keys[1]["alg"] != EdDSA || doc.Keys[1]["use"] != "sig" || doc.Keys[0]["d"] != "" {
		t.Fatalf("JWKS %s", b)
	}
	keys, err := ParseJWKS(b)
	if err != nil || len(keys) != 2 {
		t.Fatalf("ParseJWKS: %v %v", keys, err)
	}
	v := Verifier(keys)
	v.Issuer = issuer
	if _, err := v.VerifyResult(inFlight, now); err != nil {
		t.Fatalf("a token of the rotated-out key: %v", err)
	}
	if _, err := v.MintResult("u", Result{}, time.Hour, now); err == nil {
		t.Fatal("a verify-only key set signed")
	}
	pemBytes, _ := cur.PrivateKeyPEM()
	back, err := ParsePrivateKeyPEM(pemBytes)
	if err != nil || back.ID != cur.ID || back.Alg != ES256 {
		t.Fatalf("PEM round trip: %+v %v", back, err)
	}
}

// The Go backend's verifier: keys cached by Cache-Control, fetched again on
// an unknown kid (a rotation), at most once per interval.
func TestJWKSVerifier(t *testing.T) {
	ks := keySet(t, ES256)
	var fetches atomic.Int32
	var current atomic.Pointer[KeySet]
	current.Store(ks)
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		json.NewEncoder(w).Encode(current.Load().JWKS())
	}))
	defer srv.Close()
	v := &JWKSVerifier{URL: srv.URL, Issuer: issuer, RefetchInterval: time.Millisecond}
	ctx := context.Background()
	tok, _ := ks.MintResult("u", Result{Key: "k"}, time.Hour, time.Now())
	for range 3 {
		if c, err := v.VerifyResult(ctx, tok); err != nil || c.Key != "k" {
			t.Fatalf("%+v %v", c, err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for 3 verifications within max-age", n)
	}
	next, _ := GenerateKey(ES256)
	rotated, _ := NewKeySet(next, ks.signing)
	rotated.Issuer = issuer
	current.Store(rotated)
	v.fetched = v.fetched.Add(-v.RefetchInterval) // the refetch interval has passed
	tok2, _ := rotated.MintResult("u", Result{Key: "k2"}, time.Hour, time.Now())
	if c, err := v.VerifyResult(ctx, tok2); err != nil || c.Key != "k2" {
		t.Fatalf("after rotation: %+v %v", c, err)
	}
	// With the JWKS endpoint failing after its max-age, the verifier keeps
	// the keys it has and asks again once per interval, not per token.
	v.expires = time.Now()
	v.RefetchInterval = time.Hour
	failing := fetches.Load()
	down.Store(true)
	for range 3 {
		if _, err := v.VerifyResult(ctx, tok2); err != nil {
			t.Fatalf("with the JWKS endpoint down: %v", err)
		}
	}
	if n := fetches.Load() - failing; n != 1 {
		t.Fatalf("%d fetches of a failing JWKS for 3 verifications, want 1", n)
	}
	upload, _, _ := rotated.MintUpload("u", UploadLimits{}, time.Hour, time.Now())
	if _, err := v.VerifyResult(ctx, upload); !errors.Is(err, ErrAudience) {
		t.Fatalf("an upload token: %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	ks := keySet(f, ES256)
	tok, _, _ := ks.MintUpload("s", UploadLimits{}, time.Hour, time.Now())
	f.Add(tok)
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ks.VerifyUpload(s, time.Now())
		if err == nil && s != tok && c.Subject != "s" {
			t.Fatalf("verified a token that was never minted: %q", s)
		}
	})
}
