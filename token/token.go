// Package token mints and verifies imgorigin's signed tokens: upload tokens
// (backend -> client -> uploader) and result tokens (uploader -> client ->
// backend). They are standard JWTs signed with Ed25519 (alg EdDSA, with a kid),
// so backends in any language verify them with a JWT library and the JWKS the
// uploader publishes; Go backends can import this package, which has no cgo.
package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Audiences keep one kind of token from being used as the other.
const (
	AudienceUpload = "upload"
	AudienceResult = "result"
)

var (
	ErrMalformed  = errors.New("token: malformed")
	ErrSignature  = errors.New("token: bad signature")
	ErrUnknownKey = errors.New("token: unknown key id")
	ErrExpired    = errors.New("token: expired")
	ErrAudience   = errors.New("token: wrong audience")
)

// Leeway absorbs clock skew between the machines that mint and verify.
const Leeway = 30 * time.Second

// UploadClaims let one subject upload, within limits, until ExpiresAt.
type UploadClaims struct {
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	ID        string `json:"jti"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	MaxBytes  int64  `json:"max_bytes,omitempty"`
}

// ResultClaims say what the uploader stored for a subject.
type ResultClaims struct {
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	Key       string `json:"key"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
	// Pending marks an upload stored for later conversion: the key is final,
	// the dimensions, size and hash are not known yet (zero).
	Pending bool `json:"pending,omitempty"`
}

// Key is an Ed25519 key with its id.
type Key struct {
	ID     string
	Public ed25519.PublicKey
	// Private is nil for keys that only verify (older, rotated-out keys).
	Private ed25519.PrivateKey
}

// NewKey makes a key from a 32-byte seed; its id derives from the public key.
func NewKey(seed []byte) (Key, error) {
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("token: an Ed25519 seed is %d bytes, not %d", ed25519.SeedSize, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return Key{ID: KeyID(pub), Public: pub, Private: priv}, nil
}

// KeyID is the kid of a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// KeySet signs with one key and verifies with it and any older ones, so keys
// rotate without breaking tokens in flight.
type KeySet struct {
	signing Key
	byID    map[string]ed25519.PublicKey
	order   []string
}

// NewKeySet signs with signing (which must have a private key) and also
// verifies with older.
func NewKeySet(signing Key, older ...Key) (*KeySet, error) {
	if signing.Private == nil {
		return nil, errors.New("token: the signing key has no private half")
	}
	ks := &KeySet{signing: signing, byID: map[string]ed25519.PublicKey{}}
	for _, k := range append([]Key{signing}, older...) {
		if _, dup := ks.byID[k.ID]; !dup {
			ks.byID[k.ID] = k.Public
			ks.order = append(ks.order, k.ID)
		}
	}
	return ks, nil
}

type header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Kid string `json:"kid"`
}

var b64 = base64.RawURLEncoding

// Sign returns a compact JWS of claims.
func (ks *KeySet) Sign(claims any) (string, error) {
	if ks.signing.Private == nil {
		return "", errors.New("token: this key set only verifies")
	}
	h, _ := json.Marshal(header{Alg: "EdDSA", Typ: "JWT", Kid: ks.signing.ID})
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signingInput := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	sig := ed25519.Sign(ks.signing.Private, []byte(signingInput))
	return signingInput + "." + b64.EncodeToString(sig), nil
}

// MintUpload signs an upload token for subject valid for ttl.
func (ks *KeySet) MintUpload(subject string, maxBytes int64, ttl time.Duration, now time.Time) (string, UploadClaims, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", UploadClaims{}, err
	}
	c := UploadClaims{Subject: subject, Audience: AudienceUpload, ID: hex.EncodeToString(jti[:]), IssuedAt: now.Unix(), ExpiresAt: now.Add(ttl).Unix(), MaxBytes: maxBytes}
	tok, err := ks.Sign(c)
	return tok, c, err
}

// VerifyUpload checks an upload token's signature, audience and expiry.
func (ks *KeySet) VerifyUpload(tok string, now time.Time) (UploadClaims, error) {
	var c UploadClaims
	if err := ks.verify(tok, &c); err != nil {
		return UploadClaims{}, err
	}
	return c, checkClaims(c.Audience, AudienceUpload, c.ExpiresAt, c.Subject, now)
}

// VerifyResult checks a result token's signature, audience and expiry.
func (ks *KeySet) VerifyResult(tok string, now time.Time) (ResultClaims, error) {
	var c ResultClaims
	if err := ks.verify(tok, &c); err != nil {
		return ResultClaims{}, err
	}
	return c, checkClaims(c.Audience, AudienceResult, c.ExpiresAt, c.Subject, now)
}

func checkClaims(aud, want string, exp int64, sub string, now time.Time) error {
	switch {
	case aud != want:
		return fmt.Errorf("%w: %q, want %q", ErrAudience, aud, want)
	case now.Add(-Leeway).Unix() >= exp:
		return fmt.Errorf("%w at %s", ErrExpired, time.Unix(exp, 0).UTC().Format(time.RFC3339))
	case sub == "":
		return fmt.Errorf("%w: no subject", ErrMalformed)
	}
	return nil
}

func (ks *KeySet) verify(tok string, claims any) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%w: want three dot-separated parts", ErrMalformed)
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if h.Alg != "EdDSA" {
		return fmt.Errorf("%w: alg %q, want EdDSA", ErrSignature, h.Alg)
	}
	pub, ok := ks.byID[h.Kid]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownKey, h.Kid)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		return ErrSignature
	}
	cb, err := b64.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	if err := json.Unmarshal(cb, claims); err != nil {
		return fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	return nil
}

// JWK is a public key as RFC 8037 writes Ed25519 keys.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS is the document served at /.well-known/jwks.json: every key that
// verifies, signing key first.
func (ks *KeySet) JWKS() map[string][]JWK {
	keys := make([]JWK, 0, len(ks.order))
	for _, id := range ks.order {
		keys = append(keys, JWK{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(ks.byID[id]), Kid: id, Alg: "EdDSA", Use: "sig"})
	}
	return map[string][]JWK{"keys": keys}
}

// ParseJWKS reads a JWKS document into verify-only keys, for backends that
// fetch the uploader's keys.
func ParseJWKS(b []byte) ([]Key, error) {
	var doc struct {
		Keys []JWK `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("token: JWKS: %w", err)
	}
	var out []Key
	for _, k := range doc.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		x, err := b64.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("token: JWKS key %q: bad x", k.Kid)
		}
		out = append(out, Key{ID: k.Kid, Public: x})
	}
	return out, nil
}

// Verifier verifies tokens with public keys only (a backend's view).
func Verifier(keys []Key) *KeySet {
	ks := &KeySet{byID: map[string]ed25519.PublicKey{}}
	for _, k := range keys {
		ks.byID[k.ID] = k.Public
		ks.order = append(ks.order, k.ID)
	}
	return ks
}
