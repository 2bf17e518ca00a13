package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testcdn"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
	"github.com/imgorigin/imgorigin/storage"
	s3store "github.com/imgorigin/imgorigin/storage/s3"
	"github.com/imgorigin/imgorigin/storage/s3/s3test"
)

// A photo's end in a two-region fleet on S3 (versitygw): tokyo's instance
// (uploader and resizer) reads its home, frankfurt's reads its own bucket
// first as the replica S3 replication keeps. Both serve the photo, then the
// backend deletes it through tokyo's uploader: both buckets lose it,
// tokyo's resizer answers 404 at once and frankfurt's within --revalidate,
// for every variant it had cached; a neighbour is untouched. nginx in front
// of frankfurt shows what a CDN still holds, which only an invalidation
// removes (docs/cloudfront.md).
func TestDeleteAcrossTheFleet(t *testing.T) {
	ctx := context.Background()
	tokyo, frankfurt, spec := twoRegions(t)
	const revalidate = 2 * time.Second
	home := serve(t, "--stores", spec, "--home", "tokyo", "--revalidate", revalidate.String())
	far := serve(t, "--stores", spec, "--home", "frankfurt", "--replica", "frankfurt", "--revalidate", revalidate.String())
	cdn := testcdn.StartNginx(t, strings.TrimPrefix(far.URL, "http://"))

	key, _ := home.upload(t, testimage.JPEG(t, testimage.Photo(t, 800, 600)))
	neighbour, _ := home.upload(t, testimage.JPEG(t, testimage.Photo(t, 801, 600)))
	for _, k := range []string{key, neighbour} { // what S3 replication does
		obj, err := tokyo.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := storage.ReadAll(obj, 1<<30)
		if _, err := frankfurt.Put(ctx, k, b, "image/webp", obj.Meta); err != nil {
			t.Fatal(err)
		}
	}
	variants := []string{"?w=320", "?w=640&fm=jpg", "?fm=json", ""}
	for _, base := range []string{home.URL, far.URL, cdn} {
		for _, v := range variants {
			if a, err := httpGet(base + "/" + key + v); err != nil || a.status != 200 {
				t.Fatalf("%s/%s%s before the delete: %v %v", base, key, v, a.status, err)
			}
		}
	}
	if hits := metric(t, far, `imgorigin_replica_reads_total{result="hit"}`); hits == 0 {
		t.Fatal("frankfurt did not read its replica")
	}

	req, _ := http.NewRequest("DELETE", home.URL+"/v1/originals/"+key, nil)
	req.Header.Set("Authorization", "Bearer "+serviceKey)
	var out map[string]any
	if code := doJSON(t, req, &out); code != 200 || out["deleted"] != true {
		t.Fatalf("delete: %d %v", code, out)
	}
	deleted := time.Now()
	for name, b := range map[string]*s3store.Store{"tokyo (home)": tokyo, "frankfurt (replica)": frankfurt} {
		if _, err := b.Head(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s's bucket after the delete: %v, want not found", name, err)
		}
	}
	for _, v := range variants {
		if a, _ := httpGet(home.URL + "/" + key + v); a.status != 404 {
			t.Errorf("tokyo right after the delete, %s: %d, want 404 (its own resizer forgets at once)", v, a.status)
		}
	}
	testwait.Within(t, revalidate+3*time.Second, "frankfurt to answer 404 for every variant it had cached", func() bool {
		for _, v := range variants {
			if a, _ := httpGet(far.URL + "/" + key + v); a.status != 404 {
				return false
			}
		}
		return true
	})
	t.Logf("frankfurt: 404 for every cached variant %v after the delete (--revalidate %v)", time.Since(deleted).Round(10*time.Millisecond), revalidate)
	for _, base := range []string{home.URL, far.URL} {
		if a, _ := httpGet(base + "/" + neighbour + "?w=320"); a.status != 200 {
			t.Errorf("the neighbour at %s: %d", base, a.status)
		}
	}
	// The CDN still holds what it cached: a year, unless invalidated.
	if a, _ := httpGet(cdn + "/" + key + "?w=320"); a.status != 200 || a.header.Get("X-Cache-Status") != "HIT" {
		t.Errorf("nginx after the delete: %d %s; a CDN keeps what it cached until it is invalidated", a.status, a.header.Get("X-Cache-Status"))
	}
	if a, _ := httpGet(cdn + "/" + key + "?w=480"); a.status != 404 {
		t.Errorf("a variant nginx never cached, after the delete: %d, want 404", a.status)
	}
}

// An account deletion: 1,000 keys in one request, against versitygw,
// from both buckets of the fleet.
func TestBatchDeleteOfAThousandKeys(t *testing.T) {
	ctx := context.Background()
	tokyo, frankfurt, spec := twoRegions(t)
	home := serve(t, "--stores", spec, "--home", "tokyo")
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("tokyo-%032x", i+1)
		if _, err := tokyo.Put(ctx, keys[i], []byte("x"), "image/webp", nil); err != nil {
			t.Fatal(err)
		}
	}
	frankfurt.Put(ctx, keys[7], []byte("x"), "image/webp", nil) // a replicated copy
	body, _ := json.Marshal(map[string]any{"keys": keys})
	req, _ := http.NewRequest("POST", home.URL+"/v1/originals/delete", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+serviceKey)
	start := time.Now()
	var out map[string]any
	if code := doJSON(t, req, &out); code != 200 || out["deleted"] != float64(1000) {
		t.Fatalf("batch delete: %d %v", code, out["deleted"])
	}
	t.Logf("1,000 keys deleted from two buckets in %v", time.Since(start).Round(time.Millisecond))
	for _, st := range []*s3store.Store{tokyo, frankfurt} {
		for _, i := range []int{0, 7, 999} {
			if _, err := st.Head(ctx, keys[i]); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("key %d after the batch: %v", i, err)
			}
		}
	}
}

// twoRegions is an S3-compatible server of its own with a bucket for each of
// two regions, and the --stores spec that names them.
func twoRegions(t *testing.T) (tokyo, frankfurt *s3store.Store, spec string) {
	srv := s3test.StartServer(t)
	spec = fmt.Sprintf("tokyo=s3://tokyo?endpoint=%s&path_style=true,frankfurt=s3://frankfurt?endpoint=%[1]s&path_style=true", srv.Endpoint)
	return srv.Bucket("tokyo"), srv.Bucket("frankfurt"), spec
}
