package s3_test

import (
	"context"
	"time"

	"testing"

	s3store "github.com/imgorigin/imgorigin/storage/s3"

	"github.com/imgorigin/imgorigin/storage/s3/s3test"
	"github.com/imgorigin/imgorigin/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, s3test.NewStore(t, ""))
}

// A prefix must be invisible to callers: keys come back without it.
func TestConformanceWithPrefix(t *testing.T) {
	storagetest.Run(t, s3test.NewStore(t, "tenant/originals/"))
}

// Ping says whether S3 answers: a missing key is an answer; a server that
// is down, or stalls past the deadline, is not.
func TestPing(t *testing.T) {
	bucket := s3test.NewBucket(t)
	proxy := storagetest.NewProxy(t, storagetest.S3Endpoint(t))
	st, err := s3store.New(context.Background(), s3store.Config{Bucket: bucket, Endpoint: proxy.URL, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		return st.Ping(ctx)
	}
	if err := ping(); err != nil {
		t.Fatalf("ping of a healthy store: %v", err)
	}
	proxy.Stall()
	start := time.Now()
	if err := ping(); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("ping of a stalled store: %v after %v", err, time.Since(start))
	}
	proxy.Down()
	if err := ping(); err == nil {
		t.Fatal("ping of a store that is down succeeded")
	}
	// A bucket that does not exist is still an answer from S3 (404).
	other, _ := s3store.New(context.Background(), s3store.Config{Bucket: "no-such-bucket-here", Endpoint: storagetest.S3Endpoint(t), PathStyle: true})
	if err := other.Ping(context.Background()); err != nil {
		t.Fatalf("ping answered 404 but reported %v", err)
	}
}
