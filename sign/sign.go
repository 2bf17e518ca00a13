// Package sign computes and checks the s parameter of resizer URLs. It has no
// cgo and no dependencies outside the standard library, so backends can sign
// URLs without libvips.
//
// Two schemes exist. HMAC (the default):
//
//	s = base64url-nopad(HMAC-SHA256(key, path + "?" + canonical query))
//
// where key is the raw key bytes (the server's --sign-keys are hex), path is
// the URL path percent-decoded ("/abc123"), and the canonical query is every
// parameter but s, sorted by name, values in their order, each name and value
// escaped as Go's url.QueryEscape does (space as "+", everything but
// A-Z a-z 0-9 - _ . ~ as %XX, uppercase hex), joined as name=value with "&".
// Parameter order and escaping in the URL therefore do not matter.
//
// Imgix (the scheme of imgix's libraries' secureURLToken):
//
//	s = hex(MD5(token + path + "?" + query))   ("?" + query only when there is one)
//
// over the path and query exactly as they appear in the URL, with s as the
// last parameter, so URLs must reach the server byte for byte as signed.
package sign

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
)

// Scheme names a signing scheme.
type Scheme string

const (
	HMAC  Scheme = "hmac"
	Imgix Scheme = "imgix"
)

// Sign returns the HMAC scheme's s for path (percent-decoded) and q; any s in
// q is ignored.
func Sign(key []byte, path string, q url.Values) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(Payload(path, q)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Payload is what the HMAC scheme signs: path + "?" + the canonical query.
func Payload(path string, q url.Values) string {
	c := make(url.Values, len(q))
	for k, v := range q {
		if k != "s" {
			c[k] = v
		}
	}
	return path + "?" + c.Encode() // Encode sorts by name
}

// URL signs a URL (absolute, or a path with a query) with the HMAC scheme and
// returns it with s appended, its other parameters untouched.
func URL(key []byte, rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", err
	}
	s := "s=" + Sign(key, u.Path, q)
	if u.RawQuery == "" {
		u.RawQuery = s
	} else {
		u.RawQuery += "&" + s
	}
	return u.String(), nil
}

// ImgixSign returns the imgix scheme's s for the path and query as they will
// appear in the URL (rawQuery without "?" and without s).
func ImgixSign(token, escapedPath, rawQuery string) string {
	base := token + escapedPath
	if rawQuery != "" {
		base += "?" + rawQuery
	}
	sum := md5.Sum([]byte(base))
	return hex.EncodeToString(sum[:])
}

// ImgixSplit separates a raw query into what precedes a final s parameter and
// that s; ok is false when s is missing or not last (imgix's libraries always
// append it last).
func ImgixSplit(rawQuery string) (rest, s string, ok bool) {
	i := strings.LastIndex(rawQuery, "&s=")
	switch {
	case i >= 0:
		rest, s = rawQuery[:i], rawQuery[i+3:]
	case strings.HasPrefix(rawQuery, "s="):
		rest, s = "", rawQuery[2:]
	default:
		return "", "", false
	}
	return rest, s, s != "" && !strings.ContainsAny(s, "&;")
}

// Verify reports whether the request's s is valid for one of keys under
// scheme; escapedPath and rawQuery are the URL's as received.
func Verify(scheme Scheme, keys [][]byte, escapedPath, rawQuery string, q url.Values) bool {
	switch scheme {
	case Imgix:
		rest, s, ok := ImgixSplit(rawQuery)
		if !ok {
			return false
		}
		for _, k := range keys {
			if hmac.Equal([]byte(ImgixSign(string(k), escapedPath, rest)), []byte(strings.ToLower(s))) {
				return true
			}
		}
	default:
		path, err := url.PathUnescape(escapedPath)
		if err != nil {
			return false
		}
		for _, k := range keys {
			if hmac.Equal([]byte(Sign(k, path, q)), []byte(q.Get("s"))) {
				return true
			}
		}
	}
	return false
}
