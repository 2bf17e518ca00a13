package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	s3store "github.com/imgorigin/imgorigin/storage/s3"
)

// S3Endpoint returns the real S3-compatible server that `make test` starts and
// names in IMGORIGIN_TEST_S3_ENDPOINT (with AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY). Without it the test fails: it never skips.
func S3Endpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv("IMGORIGIN_TEST_S3_ENDPOINT")
	if ep == "" {
		t.Fatal("IMGORIGIN_TEST_S3_ENDPOINT is not set: run the tests with `make test`, which starts the S3-compatible server")
	}
	return ep
}

// SQSEndpoint returns the real SQS-compatible server (fauxqs) that `make
// test` starts and names in IMGORIGIN_TEST_SQS_ENDPOINT, for the job
// queue's tests. Without it the test fails: it never skips.
func SQSEndpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv("IMGORIGIN_TEST_SQS_ENDPOINT")
	if ep == "" {
		t.Fatal("IMGORIGIN_TEST_SQS_ENDPOINT is not set: run the tests with `make test`, which starts fauxqs")
	}
	return ep
}

// NewS3 creates a fresh bucket on the test server and returns a store on it
// under prefix. The bucket is removed with its objects when the test ends.
func NewS3(t testing.TB, prefix string) *s3store.Store {
	t.Helper()
	st, err := s3store.New(context.Background(), s3store.Config{Bucket: NewBucket(t), Prefix: prefix, Endpoint: S3Endpoint(t), PathStyle: true})
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
	st := createBucket(t, S3Endpoint(t), bucket, 0)
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
