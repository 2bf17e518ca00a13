package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/role"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/regions"
	s3store "github.com/imgorigin/imgorigin/storage/s3"
)

// regionsScenarios are the rows of the regions scenario: a resizer in region
// "near" whose originals live in its own bucket, in a replica of the far
// region's bucket kept in near, or only in the far bucket behind
// Config.RemoteRTT of network.
var regionsScenarios = []struct {
	name, description string
	keys              func(*regionKeys) []string
	sizeMix           bool // each photo at 4 sizes, else 320 px
	originalCache     bool
}{
	{"regions-local", "cold 320 px of keys homed in the resizer's region (its own bucket)", func(k *regionKeys) []string { return k.local }, false, false},
	{"regions-replica", "cold 320 px of keys homed far away, read from the replica in the resizer's region", func(k *regionKeys) []string { return k.replicated }, false, false},
	{"regions-remote", "cold 320 px of keys homed far away and not yet replicated: a replica miss, then the far bucket", func(k *regionKeys) []string { return k.remote }, false, false},
	{"regions-remote-sizes", "as regions-remote, each photo asked at 4 sizes (list, detail, full screen, tiny) a few requests apart; no originals cache", func(k *regionKeys) []string { return k.remote }, true, false},
	{"regions-remote-sizes-cached", "as regions-remote-sizes with the originals cache on: what it hides", func(k *regionKeys) []string { return k.remote }, true, true},
}

type regionKeys struct{ local, replicated, remote []string }

// cachedWidths: the sizes the regions-remote-sizes rows ask each photo at.
var cachedWidths = []int{320, 640, 1080, 128}

// runRegions stores the originals in two buckets on cfg.S3Endpoint, puts a
// delaying proxy in front of the far one and measures cold reads of each kind.
func runRegions(ctx context.Context, cfg Config, originals [][]byte, in *ingest.Ingester, log *slog.Logger) ([]Result, error) {
	if cfg.S3Endpoint == "" {
		return nil, errors.New("regions: needs --regions-s3-endpoint (an S3-compatible server; credentials from the AWS environment)")
	}
	proxy, err := startLatencyProxy(cfg.S3Endpoint, cfg.RemoteRTT)
	if err != nil {
		return nil, err
	}
	defer proxy.Close()
	near, err := newBucket(ctx, cfg.S3Endpoint)
	if err != nil {
		return nil, err
	}
	defer removeBucket(near)
	far, err := newBucket(ctx, cfg.S3Endpoint)
	if err != nil {
		return nil, err
	}
	defer removeBucket(far)
	// Every class has its own keys, each over the same photos; remote has
	// enough that the cached row never comes round to a photo again.
	var keys regionKeys
	put := func(home string, n int, stores ...storage.Store) ([]string, error) {
		var out []string
		for i := range n {
			var rnd [16]byte
			_, _ = rand.Read(rnd[:])
			key := regions.KeyPrefix(home) + hex.EncodeToString(rnd[:])
			for _, st := range stores {
				if _, err := st.Put(ctx, key, originals[i%len(originals)], "image/webp", nil); err != nil {
					return nil, err
				}
			}
			out = append(out, key)
		}
		return out, nil
	}
	if keys.local, err = put("near", 40, near.store); err != nil {
		return nil, err
	}
	if keys.replicated, err = put("far", 40, far.store, near.store); err != nil {
		return nil, err
	}
	if keys.remote, err = put("far", cfg.RegionsRemoteKeys, far.store); err != nil {
		return nil, err
	}
	// The resizer reads the two buckets as a fleet configured by users does.
	fleet := role.Stores{Fleet: fmt.Sprintf("near=s3://%s?endpoint=%s&path_style=true,far=s3://%s?endpoint=%s&path_style=true",
		near.bucket, url.QueryEscape(cfg.S3Endpoint), far.bucket, url.QueryEscape(proxy.URL())), Home: "near", Replica: "near", Legacy: "near"}
	var results []Result
	for _, row := range regionsScenarios {
		rowKeys := row.keys(&keys)
		// It measures reads of originals, stored here without small copies:
		// the resizer looks for none.
		sc := scenario{name: row.name, description: fmt.Sprintf("%s; %v round trip to the far bucket", row.description, cfg.RemoteRTT), originalCache: row.originalCache, noSmallCopies: true,
			next: func(_ *mrand.Rand, t *target, _, i int) request {
				return get(fmt.Sprintf("/%s?w=320&fm=webp", rowKeys[i%len(rowKeys)]), "")
			}}
		if row.sizeMix {
			sc.next = func(_ *mrand.Rand, t *target, _, i int) request {
				// Photos come in windows of 4: each is asked at its
				// next size once the other 3 have been (more than are
				// in flight, so no two requests share a fetch).
				const window = 4
				block, pos := i/(window*len(cachedWidths)), i%(window*len(cachedWidths))
				key := rowKeys[(block*window+pos%window)%len(rowKeys)]
				return get(fmt.Sprintf("/%s?w=%d&fm=webp", key, cachedWidths[pos/window]), "")
			}
		}
		res, err := runScenario(ctx, cfg, sc, fleet, &target{keys: rowKeys}, log)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", row.name, err)
		}
		results = append(results, res)
	}
	return results, nil
}

type s3Bucket struct {
	bucket string
	store  *s3store.Store
}

func newBucket(ctx context.Context, endpoint string) (*s3Bucket, error) {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	name := "imgorigin-bench-" + hex.EncodeToString(rnd[:])
	st, err := s3store.New(ctx, s3store.Config{Bucket: name, Endpoint: endpoint, PathStyle: true})
	if err != nil {
		return nil, err
	}
	if _, err := st.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return nil, fmt.Errorf("regions: create bucket on %s: %w", endpoint, err)
	}
	return &s3Bucket{bucket: name, store: st}, nil
}

// removeBucket empties and removes b, best effort.
func removeBucket(b *s3Bucket) {
	ctx := context.Background()
	for after := ""; ; {
		page, err := b.store.List(ctx, "", after, 1000)
		if err != nil {
			return
		}
		keys := make([]string, len(page.Items))
		for i, it := range page.Items {
			keys[i] = it.Key
		}
		_ = b.store.DeleteMany(ctx, keys)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	_, _ = b.store.Client().DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b.bucket)})
}
