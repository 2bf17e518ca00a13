package token

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func key(t testing.TB, b byte) Key {
	k, err := NewKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestUploadTokenRoundTrip(t *testing.T) {
	ks, _ := NewKeySet(key(t, 1))
	now := time.Unix(1_800_000_000, 0)
	tok, minted, err := ks.MintUpload("couple-123", 5<<20, 15*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ks.VerifyUpload(tok, now.Add(14*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got != minted || got.Subject != "couple-123" || got.MaxBytes != 5<<20 || got.Audience != "upload" || len(got.ID) != 32 || got.ExpiresAt-got.IssuedAt != 900 {
		t.Fatalf("claims %+v", got)
	}
	if _, err := ks.VerifyUpload(tok, now.Add(16*time.Minute)); !errors.Is(err, ErrExpired) {
		t.Fatalf("after expiry: %v, want ErrExpired", err)
	}
	other, _, _ := ks.MintUpload("x", 0, time.Minute, now)
	if other == tok {
		t.Fatal("two tokens are identical: jti is not random")
	}
}

func TestVerifyErrorsAreDistinct(t *testing.T) {
	ks, _ := NewKeySet(key(t, 1))
	stranger, _ := NewKeySet(key(t, 2))
	now := time.Now()
	upload, _, _ := ks.MintUpload("s", 0, time.Minute, now)
	result, _ := ks.Sign(ResultClaims{Subject: "s", Audience: AudienceResult, IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix(), Key: "k"})
	fromStranger, _, _ := stranger.MintUpload("s", 0, time.Minute, now)
	parts := strings.Split(upload, ".")
	forged := parts[0] + "." + b64.EncodeToString([]byte(`{"sub":"someone-else","aud":"upload","exp":9999999999}`)) + "." + parts[2]
	noneAlg := b64.EncodeToString([]byte(`{"alg":"none","kid":"`+key(t, 1).ID+`"}`)) + "." + parts[1] + "."
	cases := []struct {
		name string
		err  error
		f    func() error
	}{
		{"result token used to upload", ErrAudience, func() error { _, err := ks.VerifyUpload(result, now); return err }},
		{"upload token presented as result", ErrAudience, func() error { _, err := ks.VerifyResult(upload, now); return err }},
		{"claims changed after signing", ErrSignature, func() error { _, err := ks.VerifyUpload(forged, now); return err }},
		{"alg none", ErrSignature, func() error { _, err := ks.VerifyUpload(noneAlg, now); return err }},
		{"signed by an unknown key", ErrUnknownKey, func() error { _, err := ks.VerifyUpload(fromStranger, now); return err }},
		{"not a JWT", ErrMalformed, func() error { _, err := ks.VerifyUpload("hello", now); return err }},
		{"bad base64", ErrMalformed, func() error { _, err := ks.VerifyUpload("!!.!!.!!", now); return err }},
	}
	for _, c := range cases {
		if err := c.f(); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
	if _, err := ks.VerifyResult(result, now); err != nil {
		t.Errorf("valid result token: %v", err)
	}
}

func TestRotationAndJWKS(t *testing.T) {
	old, cur := key(t, 1), key(t, 2)
	oldSet, _ := NewKeySet(old)
	tokOld, _, _ := oldSet.MintUpload("s", 0, time.Hour, time.Now())
	rotated, _ := NewKeySet(cur, Key{ID: old.ID, Public: old.Public})
	if _, err := rotated.VerifyUpload(tokOld, time.Now()); err != nil {
		t.Fatalf("a token signed by the previous key must verify until that key is removed: %v", err)
	}
	tokNew, _, _ := rotated.MintUpload("s", 0, time.Hour, time.Now())
	if _, err := oldSet.VerifyUpload(tokNew, time.Now()); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old set verifying new token: %v", err)
	}
	doc := rotated.JWKS()
	if len(doc["keys"]) != 2 || doc["keys"][0].Kid != cur.ID || doc["keys"][0].Kty != "OKP" || doc["keys"][0].Crv != "Ed25519" {
		t.Fatalf("JWKS %+v", doc)
	}
	b := []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"` + cur.ID + `","x":"` + b64.EncodeToString(cur.Public) + `"},{"kty":"RSA","kid":"r"}]}`)
	keys, err := ParseJWKS(b)
	if err != nil || len(keys) != 1 {
		t.Fatalf("ParseJWKS: %v, %v", keys, err)
	}
	if _, err := Verifier(keys).VerifyUpload(tokNew, time.Now()); err != nil {
		t.Fatalf("backend verifier from JWKS: %v", err)
	}
	if _, err := Verifier(keys).Sign(UploadClaims{}); err == nil {
		t.Fatal("a verify-only key set signed")
	}
}

func FuzzVerify(f *testing.F) {
	ks, _ := NewKeySet(key(f, 1))
	tok, _, _ := ks.MintUpload("s", 0, time.Hour, time.Now())
	f.Add(tok)
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ks.VerifyUpload(s, time.Now())
		if err == nil && s != tok && c.Subject != "s" {
			t.Fatalf("verified a token that was never minted: %q", s)
		}
	})
}
