// Package token mints and verifies imgorigin's signed tokens: upload tokens
// (backend -> client -> uploader) and result tokens (uploader -> client ->
// backend). They are standard JWTs, signed with ES256 (ECDSA P-256, which
// every mainstream JWT library verifies) or EdDSA, each with a kid, an issuer,
// an audience and an explicit type (RFC 8725), so that a token of one kind
// never passes as the other, even where a verifier forgets the audience.
// Backends in any language verify result tokens with their JWT library and the
// JWKS the uploader publishes; Go backends can use JWKSVerifier. No cgo.
package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Algorithms a key may sign with.
const (
	ES256 = "ES256" // the default: verified by every mainstream JWT library
	EdDSA = "EdDSA" // Ed25519: smaller and faster, but missing from many stacks
)

// Audiences and types keep one kind of token from being used as the other.
const (
	AudienceUpload = "upload"
	AudienceResult = "result"
	TypeUpload     = "imgorigin-upload+jwt"
	TypeResult     = "imgorigin-result+jwt"
)

var (
	ErrMalformed   = errors.New("token: malformed")
	ErrSignature   = errors.New("token: bad signature")
	ErrUnknownKey  = errors.New("token: unknown key id")
	ErrExpired     = errors.New("token: expired")
	ErrNotYetValid = errors.New("token: not valid yet")
	ErrAudience    = errors.New("token: wrong kind of token")
	ErrIssuer      = errors.New("token: wrong issuer")
	ErrLifetime    = errors.New("token: lifetime over the limit")
)

// Leeway absorbs clock skew between the machines that mint and verify.
const Leeway = 30 * time.Second

// Longest lifetimes a verifier accepts: a token that claims more was not
// minted by a sane uploader.
const (
	MaxUploadLifetime = 24 * time.Hour
	MaxResultLifetime = 31 * 24 * time.Hour
)

// UploadLimits bound what one upload token allows.
type UploadLimits struct {
	MaxBytes int64 `json:"max_bytes,omitempty"` // per upload; 0: the uploader's limit
	// MaxUploads is how many distinct objects the token may store (retries
	// of the same bytes count once); 0 means 1.
	MaxUploads int `json:"max_uploads,omitempty"`
}

// UploadClaims let one subject upload, within limits, until they expire.
type UploadClaims struct {
	jwt.RegisteredClaims
	UploadLimits
}

// Result is what the uploader stored.
type Result struct {
	Key    string `json:"key"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Color (#rrggbb) and ThumbHash (base64) are the photo's placeholder,
	// signed so that the backend need not trust the client's copy.
	Color     string `json:"color,omitempty"`
	ThumbHash string `json:"thumbhash,omitempty"`
	// Home names the store the original lives in, in a fleet of regional
	// stores (--stores); empty for a single store.
	Home string `json:"home,omitempty"`
	// Pending marks an upload stored for later conversion: the key is final,
	// the dimensions, size and hash are not known yet (zero).
	Pending bool `json:"pending,omitempty"`
}

// ResultClaims say what the uploader stored for a subject.
type ResultClaims struct {
	jwt.RegisteredClaims
	Result
}

// Key is a signing or verifying key with its id and algorithm.
type Key struct {
	ID     string
	Alg    string           // ES256 or EdDSA
	Public crypto.PublicKey // *ecdsa.PublicKey or ed25519.PublicKey
	// Private is nil for keys that only verify (older, rotated-out keys).
	Private crypto.Signer
}

// GenerateKey makes a new key for alg.
func GenerateKey(alg string) (Key, error) {
	switch alg {
	case ES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return Key{}, err
		}
		return signingKey(priv)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return Key{}, err
		}
		return signingKey(priv)
	}
	return Key{}, fmt.Errorf("token: algorithm %q: use %s or %s", alg, ES256, EdDSA)
}

// NewKey makes an Ed25519 key from a 32-byte seed (the key files of earlier
// versions were hex seeds).
func NewKey(seed []byte) (Key, error) {
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("token: an Ed25519 seed is %d bytes, not %d", ed25519.SeedSize, len(seed))
	}
	return signingKey(ed25519.NewKeyFromSeed(seed))
}

// ParsePrivateKeyPEM reads a PKCS #8 "PRIVATE KEY" PEM block holding a P-256
// or Ed25519 key, as `imgorigin keys generate` and `openssl genpkey` write.
func ParsePrivateKeyPEM(b []byte) (Key, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return Key{}, errors.New("token: not a PEM \"PRIVATE KEY\" (PKCS #8) block")
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return Key{}, fmt.Errorf("token: %w", err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return Key{}, fmt.Errorf("token: a %T cannot sign", priv)
	}
	return signingKey(signer)
}

// PrivateKeyPEM writes the key as a PKCS #8 PEM block.
func (k Key) PrivateKeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func signingKey(priv crypto.Signer) (Key, error) {
	k, err := publicKey(priv.Public())
	k.Private = priv
	return k, err
}

func publicKey(pub crypto.PublicKey) (Key, error) {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return Key{}, errors.New("token: ECDSA keys must be on P-256 (ES256)")
		}
		der, err := x509.MarshalPKIXPublicKey(p)
		if err != nil {
			return Key{}, err
		}
		return Key{ID: keyID(der), Alg: ES256, Public: p}, nil
	case ed25519.PublicKey:
		// The raw key, as earlier versions did: kids of existing keys stay.
		return Key{ID: keyID(p), Alg: EdDSA, Public: p}, nil
	}
	return Key{}, fmt.Errorf("token: %T keys are not supported: use P-256 or Ed25519", pub)
}

func keyID(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// KeySet signs with one key and verifies with it and any older ones, so keys
// rotate without breaking tokens in flight.
type KeySet struct {
	// Issuer is the iss of minted tokens and, when set, the only one accepted.
	Issuer  string
	signing Key
	byID    map[string]Key
	order   []string
}

// NewKeySet signs with signing (which must have a private key) and also
// verifies with older.
func NewKeySet(signing Key, older ...Key) (*KeySet, error) {
	if signing.Private == nil {
		return nil, errors.New("token: the signing key has no private half")
	}
	ks := Verifier(append([]Key{signing}, older...))
	ks.signing = signing
	return ks, nil
}

// Verifier verifies tokens with public keys only (a backend's view).
func Verifier(keys []Key) *KeySet {
	ks := &KeySet{byID: map[string]Key{}}
	for _, k := range keys {
		if _, dup := ks.byID[k.ID]; !dup {
			ks.byID[k.ID] = k
			ks.order = append(ks.order, k.ID)
		}
	}
	return ks
}

func (ks *KeySet) registered(subject, audience string, ttl time.Duration, now time.Time) (jwt.RegisteredClaims, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return jwt.RegisteredClaims{}, err
	}
	return jwt.RegisteredClaims{
		Issuer: ks.Issuer, Subject: subject, Audience: jwt.ClaimStrings{audience}, ID: hex.EncodeToString(jti[:]),
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}, nil
}

func (ks *KeySet) sign(typ string, claims jwt.Claims) (string, error) {
	if ks.signing.Private == nil {
		return "", errors.New("token: this key set only verifies")
	}
	t := jwt.NewWithClaims(jwt.GetSigningMethod(ks.signing.Alg), claims)
	t.Header["typ"] = typ
	t.Header["kid"] = ks.signing.ID
	return t.SignedString(ks.signing.Private)
}

// MintUpload signs an upload token for subject, valid for ttl from now.
func (ks *KeySet) MintUpload(subject string, lim UploadLimits, ttl time.Duration, now time.Time) (string, UploadClaims, error) {
	rc, err := ks.registered(subject, AudienceUpload, ttl, now)
	if err != nil {
		return "", UploadClaims{}, err
	}
	c := UploadClaims{RegisteredClaims: rc, UploadLimits: lim}
	tok, err := ks.sign(TypeUpload, c)
	return tok, c, err
}

// MintResult signs a result token saying r was stored for subject.
func (ks *KeySet) MintResult(subject string, r Result, ttl time.Duration, now time.Time) (string, error) {
	rc, err := ks.registered(subject, AudienceResult, ttl, now)
	if err != nil {
		return "", err
	}
	return ks.sign(TypeResult, ResultClaims{RegisteredClaims: rc, Result: r})
}

// VerifyUpload checks an upload token: signature, type, issuer, audience,
// times and lifetime.
func (ks *KeySet) VerifyUpload(tok string, now time.Time) (UploadClaims, error) {
	var c UploadClaims
	err := ks.verify(tok, TypeUpload, AudienceUpload, MaxUploadLifetime, now, &c, &c.RegisteredClaims)
	return c, err
}

// VerifyResult checks a result token: signature, type, issuer, audience,
// times and lifetime.
func (ks *KeySet) VerifyResult(tok string, now time.Time) (ResultClaims, error) {
	var c ResultClaims
	err := ks.verify(tok, TypeResult, AudienceResult, MaxResultLifetime, now, &c, &c.RegisteredClaims)
	return c, err
}

func (ks *KeySet) verify(tok, typ, audience string, maxLife time.Duration, now time.Time, claims jwt.Claims, rc *jwt.RegisteredClaims) error {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{ES256, EdDSA}), jwt.WithLeeway(Leeway), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithAudience(audience),
	}
	if ks.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(ks.Issuer))
	}
	_, err := jwt.NewParser(opts...).ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		if t.Header["typ"] != typ {
			return nil, fmt.Errorf("%w: type %v, want %s", ErrAudience, t.Header["typ"], typ)
		}
		kid, _ := t.Header["kid"].(string)
		k, ok := ks.byID[kid]
		if !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownKey, kid)
		}
		if t.Method.Alg() != k.Alg { // a key signs with one algorithm only
			return nil, fmt.Errorf("%w: alg %s for a %s key", ErrSignature, t.Method.Alg(), k.Alg)
		}
		return k.Public, nil
	})
	if err != nil {
		return classify(err)
	}
	switch {
	case rc.IssuedAt == nil || rc.Subject == "":
		return fmt.Errorf("%w: no iat or sub", ErrMalformed)
	case rc.ExpiresAt.Sub(rc.IssuedAt.Time) > maxLife:
		return fmt.Errorf("%w: %v", ErrLifetime, rc.ExpiresAt.Sub(rc.IssuedAt.Time))
	}
	return nil
}

// classify maps the JWT library's errors to ours, which callers decide by.
func classify(err error) error {
	for _, ours := range []error{ErrAudience, ErrUnknownKey, ErrSignature} {
		if errors.Is(err, ours) {
			return err
		}
	}
	for theirs, ours := range map[error]error{
		jwt.ErrTokenExpired: ErrExpired, jwt.ErrTokenNotValidYet: ErrNotYetValid, jwt.ErrTokenUsedBeforeIssued: ErrNotYetValid,
		jwt.ErrTokenInvalidAudience: ErrAudience, jwt.ErrTokenInvalidIssuer: ErrIssuer,
		jwt.ErrTokenSignatureInvalid: ErrSignature, jwt.ErrTokenUnverifiable: ErrSignature,
	} {
		if errors.Is(err, theirs) {
			return fmt.Errorf("%w: %v", ours, err)
		}
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// JWKS is the document served at /.well-known/jwks.json: every key that may
// still verify, signing key first, each with kid, alg and use.
func (ks *KeySet) JWKS() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, id := range ks.order {
		k := ks.byID[id]
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public, KeyID: id, Algorithm: k.Alg, Use: "sig"})
	}
	return set
}

// ParseJWKS reads a JWKS document into verify-only keys, for backends that
// fetch the uploader's keys. Keys of other kinds are skipped.
func ParseJWKS(b []byte) ([]Key, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("token: JWKS: %w", err)
	}
	var out []Key
	for _, jk := range set.Keys {
		k, err := publicKey(jk.Key)
		if err != nil || jk.Use != "" && jk.Use != "sig" || jk.Algorithm != "" && jk.Algorithm != k.Alg {
			continue
		}
		k.ID = jk.KeyID
		out = append(out, k)
	}
	return out, nil
}
