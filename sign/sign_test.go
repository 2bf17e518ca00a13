package sign

import (
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

// The vector README.md gives; the JavaScript and Python signers in clients/
// are checked against the server by the e2e tests.
func TestHMACVector(t *testing.T) {
	key, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	const want = "h01wsKqfuxlIaJMaKSFSwypJhT61EiFJExl5KOVG7ck"
	for _, u := range []string{
		"/0123456789abcdef0123456789abcdef?w=333&h=200&fit=crop&ar=16:9&q=75",
		"/0123456789abcdef0123456789abcdef?q=75&ar=16%3A9&fit=crop&h=200&w=333", // order and escaping do not matter
	} {
		signed, err := URL(key, u)
		if err != nil || !strings.HasSuffix(signed, "&s="+want) {
			t.Errorf("URL(%q) = %q, %v; want s=%s", u, signed, err, want)
		}
		p, _ := url.Parse(signed)
		if !Verify(HMAC, [][]byte{key}, p.EscapedPath(), p.RawQuery, p.Query()) {
			t.Errorf("%q does not verify", signed)
		}
		if Verify(HMAC, [][]byte{[]byte("another-key-of-16")}, p.EscapedPath(), p.RawQuery, p.Query()) {
			t.Errorf("%q verifies under another key", signed)
		}
	}
	if got := Payload("/k", url.Values{"b": {"x y"}, "a": {"1", "2"}, "s": {"zzz"}}); got != "/k?a=1&a=2&b=x+y" {
		t.Errorf("payload %q", got)
	}
}

// URLs as @imgix/js-core 3.8.0 signs them with secureURLToken
// "imgorigin-test-token-16" (printed by the library itself).
func TestImgixVector(t *testing.T) {
	keys := [][]byte{[]byte("an-older-token-0"), []byte("imgorigin-test-token-16")}
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"/0123456789abcdef0123456789abcdef?ixlib=js-3.8.0&w=333&auto=format%2Ccompress&ar=16%3A9&fit=crop&s=eacfaf24e18bbb3c7a528de9d61ebae6", true},
		{"/0123456789abcdef0123456789abcdef?ixlib=js-3.8.0&s=7f7c076eff824ee5379ef0593e14a885", true},
		{"/0123456789abcdef0123456789abcdef?ixlib=js-3.8.0&s=7F7C076EFF824EE5379EF0593E14A885", true},
		{"/0123456789abcdef0123456789abcdef?ixlib=js-3.8.0&w=334&auto=format%2Ccompress&ar=16%3A9&fit=crop&s=eacfaf24e18bbb3c7a528de9d61ebae6", false},
		{"/0123456789abcdef0123456789abcdef?ixlib=js-3.8.0&w=333&auto=format,compress&ar=16%3A9&fit=crop&s=eacfaf24e18bbb3c7a528de9d61ebae6", false}, // re-encoded: imgix signs the bytes
		{"/0123456789abcdef0123456789abcdef?s=7f7c076eff824ee5379ef0593e14a885&ixlib=js-3.8.0", false},                                               // s not last
		{"/0123456789abcdef0123456789abcdef?ixlib=js-3.8.0", false},
	} {
		p, _ := url.Parse(c.url)
		if got := Verify(Imgix, keys, p.EscapedPath(), p.RawQuery, p.Query()); got != c.ok {
			t.Errorf("%s: verified %v, want %v", c.url, got, c.ok)
		}
	}
}
