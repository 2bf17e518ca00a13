package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// What the router itself answers in the real server goes through the same
// kind of error as everything else: a reason, and never cached (a CDN must
// not keep a 405 for a URL that GET serves).
func TestTheRoutersAnswersAreErrorsLikeAnyOther(t *testing.T) {
	s := serve(t)
	for _, c := range []struct {
		method, path, allow string
	}{
		{"POST", "/some-image?w=320", "GET, HEAD"},
		{"DELETE", "/v1/uploads", "POST"},
		{"PUT", "/v1/upload-tokens", "POST"},
	} {
		req, _ := http.NewRequest(c.method, s.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != c.allow || resp.Header.Get("Cache-Control") != "no-store" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s %s: %d, Allow %q, Cache-Control %q, Content-Type %q; want 405, %q, no-store, text", c.method, c.path, resp.StatusCode,
				resp.Header.Get("Allow"), resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"), c.allow)
		}
	}
}
