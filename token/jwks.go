package token

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// JWKSVerifier verifies result tokens for a Go backend against the uploader's
// published keys: it fetches the JWKS, keeps it as long as its Cache-Control
// says (5 minutes without one), and fetches again when a token names a key
// it does not know (a rotation), at most once per RefetchInterval.
type JWKSVerifier struct {
	URL    string // e.g. https://upload.example.com/.well-known/jwks.json
	Issuer string // the uploader's --token-issuer; required
	Client *http.Client
	// RefetchInterval bounds fetches caused by unknown kids. Default 30 s.
	RefetchInterval time.Duration

	mu      sync.Mutex
	keys    *KeySet
	expires time.Time
	fetched time.Time
}

// VerifyResult checks tok as a result token: signature, type, issuer,
// audience "result", times and lifetime.
func (v *JWKSVerifier) VerifyResult(ctx context.Context, tok string) (ResultClaims, error) {
	if v.Issuer == "" {
		return ResultClaims{}, errors.New("token: JWKSVerifier needs the Issuer to check")
	}
	ks, err := v.keySet(ctx, false)
	if err != nil {
		return ResultClaims{}, err
	}
	c, err := ks.VerifyResult(tok, time.Now())
	if errors.Is(err, ErrUnknownKey) {
		if ks, ferr := v.keySet(ctx, true); ferr == nil {
			c, err = ks.VerifyResult(tok, time.Now())
		}
	}
	return c, err
}

func (v *JWKSVerifier) keySet(ctx context.Context, unknownKid bool) (*KeySet, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := time.Now()
	interval := v.RefetchInterval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	fresh := v.keys != nil && now.Before(v.expires)
	if fresh && (!unknownKid || now.Sub(v.fetched) < interval) {
		return v.keys, nil
	}
	keys, maxAge, err := v.fetch(ctx)
	if err != nil {
		if v.keys != nil && !unknownKid {
			// Keep verifying with the keys we have, and ask again only
			// after an interval, not on every token.
			v.expires = now.Add(interval)
			return v.keys, nil
		}
		return nil, err
	}
	ks := Verifier(keys)
	ks.Issuer = v.Issuer
	v.keys, v.fetched, v.expires = ks, now, now.Add(maxAge)
	return ks, nil
}

func (v *JWKSVerifier) fetch(ctx context.Context) ([]Key, time.Duration, error) {
	client := v.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.URL, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("token: fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("token: fetch JWKS: %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("token: fetch JWKS: %w", err)
	}
	keys, err := ParseJWKS(b)
	return keys, maxAge(resp.Header.Get("Cache-Control")), err
}

// maxAge reads Cache-Control's max-age; 5 minutes when absent or unusable.
func maxAge(cc string) time.Duration {
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return 5 * time.Minute
}
