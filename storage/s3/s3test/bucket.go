// Package s3test connects tests to the real S3-compatible server that the
// test command starts: fresh buckets on it, removed when the test ends, and
// servers of a test's own that it can kill. It is apart from storagetest so
// that tests which need no S3 do not build the AWS SDK.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	s3store "github.com/imgorigin/imgorigin/storage/s3"
	"github.com/imgorigin/imgorigin/storage/storagetest"
)

// NewStore creates a fresh bucket on the test server and returns a store on
// it under prefix. The bucket is removed with its objects when the test ends.
func NewStore(t testing.TB, prefix string) *s3store.Store {
	t.Helper()
	st, err := s3store.New(context.Background(), s3store.Config{Bucket: NewBucket(t), Prefix: prefix, Endpoint: storagetest.S3Endpoint(t), PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// NewBucket creates a fresh bucket on the test server, removed with its objects
// when the test ends, and returns its name.
func NewBucket(t testing.TB) string {
	t.Helper()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	bucket := "test-" + hex.EncodeToString(rnd[:])
	st := createBucket(t, storagetest.S3Endpoint(t), bucket, 0)
	t.Cleanup(func() { emptyAndRemove(st, bucket) })
	return bucket
}

// createBucket creates bucket on the server at endpoint and returns a store
// on it (maxAttempts 0: the store's default retries).
func createBucket(t testing.TB, endpoint, bucket string, maxAttempts int) *s3store.Store {
	t.Helper()
	st, err := s3store.New(context.Background(), s3store.Config{Bucket: bucket, Endpoint: endpoint, PathStyle: true, MaxAttempts: maxAttempts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s on %s: %v", bucket, endpoint, err)
	}
	return st
}

func emptyAndRemove(st *s3store.Store, bucket string) {
	ctx := context.Background()
	c := st.Client()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, o := range page.Contents {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		}
	}
	_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
}
