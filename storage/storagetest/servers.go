package storagetest

import (
	"os"
	"testing"
)

// S3Endpoint returns the real S3-compatible server that `make test` starts and
// names in IMGORIGIN_TEST_S3_ENDPOINT (with AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY). Buckets on it come from storage/s3/s3test.
func S3Endpoint(t testing.TB) string {
	t.Helper()
	return started(t, "IMGORIGIN_TEST_S3_ENDPOINT", "the S3-compatible server")
}

// SQSEndpoint returns the real SQS-compatible server (fauxqs) that `make
// test` starts and names in IMGORIGIN_TEST_SQS_ENDPOINT, for the job
// queue's tests.
func SQSEndpoint(t testing.TB) string {
	t.Helper()
	return started(t, "IMGORIGIN_TEST_SQS_ENDPOINT", "fauxqs")
}

// started is the address `make test` put in the environment variable env.
// Without it the test fails: it never skips.
func started(t testing.TB, env, server string) string {
	t.Helper()
	addr := os.Getenv(env)
	if addr == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts %s", env, server)
	}
	return addr
}
