package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/regions"
	s3store "github.com/imgorigin/imgorigin/storage/s3"
	"github.com/imgorigin/imgorigin/storage/s3/s3test"
)

// A fleet over three regions, each with its own S3-compatible server and
// bucket, and its own `imgorigin serve` (uploader and resizer) writing home
// and reading its own bucket first as the replica of the others.
func TestRegionalFleet(t *testing.T) {
	ctx := context.Background()
	names := []string{"tokyo", "frankfurt", "virginia"}
	s3 := map[string]*s3test.Server{}
	bucket := map[string]*s3store.Store{}
	var spec []string
	for _, n := range names {
		s3[n] = s3test.StartServer(t)
		bucket[n] = s3[n].Bucket("photos")
		spec = append(spec, fmt.Sprintf("%s=s3://photos?endpoint=%s&path_style=true", n, s3[n].Endpoint))
	}
	fleet := map[string]*server{}
	for _, n := range names {
		fleet[n] = serve(t, "--stores", strings.Join(spec, ","), "--home", n, "--replica", n, "--store-timeout", "2s", "--ready-interval", "200ms", "--ready-failures", "2")
	}
	photo := func(i int) []byte { return testimage.JPEG(t, testimage.Photo(t, 640+i, 480)) }

	// Uploads land in their region's bucket, under keys naming it, and the
	// result token names it too.
	keys := map[string]string{}
	for i, n := range names {
		res := fleet[n].uploadResult(t, photo(i))
		if home, _ := regions.HomeOf(res.Key); home != n || res.Home != n {
			t.Fatalf("upload to %s: key %s, home %q", n, res.Key, res.Home)
		}
		if claims := jwtClaims(t, res.ResultToken); claims["home"] != n || claims["key"] != res.Key {
			t.Fatalf("result token of %s names home %v, key %v", n, claims["home"], claims["key"])
		}
		for _, other := range names {
			_, err := bucket[other].Head(ctx, res.Key)
			if stored := err == nil; stored != (other == n) {
				t.Fatalf("key uploaded to %s: in %s's bucket = %v (%v)", n, other, stored, err)
			}
		}
		keys[n] = res.Key
	}

	// Every region serves every key.
	for _, at := range names {
		for _, home := range names {
			if status, w, _, err := fetchWidth(fleet[at].URL + "/" + keys[home] + "?w=320"); status != 200 || w != 320 {
				t.Fatalf("%s serving %s's key: %d, width %d, %v", at, home, status, w, err)
			}
		}
		if fb := metric(t, fleet[at], `imgorigin_replica_reads_total{result="fallback"}`); fb != 2 {
			t.Errorf("%s read %v keys from far homes after missing its replica, want 2", at, fb)
		}
	}

	// A key edited to name another region, or none, reads nothing.
	hex := strings.TrimPrefix(keys["tokyo"], "tokyo-")
	for _, edited := range []string{"frankfurt-" + hex, "paris-" + hex} {
		if a, _ := httpGet(fleet["frankfurt"].URL + "/" + edited + "?w=320"); a.status != 404 {
			t.Errorf("edited key %s: %d, want 404", edited, a.status)
		}
	}

	// Keys from before --stores live in the first store and keep working.
	legacy := strings.Repeat("5a", 16)
	original, err := bucket["tokyo"].Get(ctx, keys["tokyo"])
	if err != nil {
		t.Fatal(err)
	}
	webp, _ := storage.ReadAll(original, 1<<30)
	bucket["tokyo"].Put(ctx, legacy, webp, "image/webp", nil)
	if status, w, _, err := fetchWidth(fleet["virginia"].URL + "/" + legacy + "?w=128"); status != 200 || w != 128 {
		t.Fatalf("legacy key at virginia: %d, width %d, %v", status, w, err)
	}

	// Tokyo's region is lost. Frankfurt serves a tokyo key S3 replication has
	// copied to its bucket from there, answers 503 for one not yet copied
	// (soon at once), and serves every other region's keys as before.
	replicated := fleet["tokyo"].uploadResult(t, photo(10)).Key
	notYet := fleet["tokyo"].uploadResult(t, photo(11)).Key
	obj, err := bucket["tokyo"].Get(ctx, replicated)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := storage.ReadAll(obj, 1<<30)
	bucket["frankfurt"].Put(ctx, replicated, b, "image/webp", nil)
	s3["tokyo"].Kill()

	fra := fleet["frankfurt"]
	if status, w, _, err := fetchWidth(fra.URL + "/" + replicated + "?w=320"); status != 200 || w != 320 {
		t.Fatalf("replicated tokyo key with tokyo down: %d, width %d, %v", status, w, err)
	}
	var last time.Duration
	for i := range 4 {
		start := time.Now()
		a, _ := httpGet(fra.URL + "/" + notYet + "?w=" + strconv.Itoa(320+i))
		last = time.Since(start)
		t.Logf("tokyo down: request %d for a tokyo key answered %d in %v", i+1, a.status, last.Round(time.Millisecond))
		if a.status != 503 || a.header.Get("Retry-After") == "" || a.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("not-yet-replicated tokyo key with tokyo down: %d %v %s", a.status, a.header, a.body)
		}
		if last > time.Second {
			t.Fatalf("a tokyo key took %v to fail: a refused store must fail at once", last)
		}
	}
	if last > 250*time.Millisecond { // typically 1-2 ms; a store timeout is seconds
		t.Errorf("after errors in a row a tokyo key still takes %v to fail; want at once", last)
	}
	for _, home := range []string{"frankfurt", "virginia"} {
		if status, w, _, err := fetchWidth(fra.URL + "/" + keys[home] + "?w=640"); status != 200 || w != 640 {
			t.Fatalf("%s's key at frankfurt with tokyo down: %d, width %d, %v", home, status, w, err)
		}
	}

	// Readiness follows the region's own store: tokyo's instance leaves
	// rotation, frankfurt's stays in and only shows tokyo's store down.
	waitReady(t, fleet["tokyo"], 503)
	if a, _ := httpGet("http://" + fra.Admin + "/readyz"); a.status != 200 {
		t.Errorf("frankfurt's instance with tokyo's store down: /readyz %d %s, want 200", a.status, a.body)
	}
	testwait.For(t, "frankfurt's imgorigin_dependency_up for tokyo to be 0", func() bool {
		return metric(t, fra, `imgorigin_dependency_up{check="store:tokyo"}`) == 0
	})

	// Tokyo comes back: its keys are served again within seconds.
	s3["tokyo"].Start()
	back := time.Now()
	testwait.For(t, "tokyo's key to be served once tokyo is back", func() bool {
		status, _, _, _ := fetchWidth(fra.URL + "/" + notYet + "?w=320")
		return status == 200
	})
	t.Logf("tokyo back: its key served again after %v", time.Since(back).Round(time.Millisecond))
}

// jwtClaims decodes a JWT's payload (the signature is checked elsewhere).
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// metric reads one sample from the server's /metrics (0 when absent).
func metric(t *testing.T, s *server, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if n, v, ok := strings.Cut(sc.Text(), " "); ok && n == name {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
