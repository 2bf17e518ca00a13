package storagetest

import (
	"os"
	"testing"
)

// S3Endpoint returns the real S3-compatible server that `make test` starts and
// names in IMGORIGIN_TEST_S3_ENDPOINT (with AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY). Without it the test fails: it never skips.
// Buckets on it come from storage/s3/s3test.
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
