package storeurl

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/storage/disk"
	s3store "github.com/imgorigin/imgorigin/storage/s3"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, u := range []string{filepath.Join(dir, "rel"), "file://" + filepath.Join(dir, "abs")} {
		st, err := Open(ctx, u, S3Defaults{})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if _, ok := st.(*disk.Store); !ok {
			t.Fatalf("%s: %T, want a disk store", u, st)
		}
	}
	st, err := Open(ctx, "s3://bucket/some/prefix/?region=eu-west-1&path_style=true&endpoint=http://127.0.0.1:1", S3Defaults{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*s3store.Store); !ok {
		t.Fatalf("%T, want an S3 store", st)
	}
	for u, want := range map[string]string{
		"":                             "empty",
		"ftp://host/x":                 "scheme must be",
		"file://host/x":                "absolute path",
		"s3://bucket?path_style=maybe": "path_style",
		"s3:///no-bucket":              "bucket is required",
	} {
		if _, err := Open(ctx, u, S3Defaults{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", u, err, want)
		}
	}
}
