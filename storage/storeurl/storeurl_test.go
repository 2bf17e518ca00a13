package storeurl

import (
	"context"
	"os"
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

func TestOverlaps(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "data", "keys"), 0o755))
	must(os.Symlink(filepath.Join(dir, "data"), filepath.Join(dir, "link")))
	cases := []struct {
		a, b string
		want bool
	}{
		{filepath.Join(dir, "data"), filepath.Join(dir, "data", "keys"), true},
		{"file://" + filepath.Join(dir, "data", "keys"), filepath.Join(dir, "data"), true},
		{filepath.Join(dir, "link"), filepath.Join(dir, "data", "pending"), true}, // through a link, to a directory not made yet
		{filepath.Join(dir, "data", "originals"), filepath.Join(dir, "data", "keys"), false},
		{filepath.Join(dir, "data", "k"), filepath.Join(dir, "data", "keys"), false}, // a name's prefix is not a parent
		{"s3://photos/originals", "s3://photos/originals/pending", true},
		{"s3://photos/originals", "s3://photos/pending", false},
		{"s3://photos", "s3://photos/pending", true},
		{"s3://photos", filepath.Join(dir, "data"), false},
	}
	for _, c := range cases {
		got, err := Overlaps(c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("Overlaps(%s, %s) = %v, %v; want %v", c.a, c.b, got, err, c.want)
		}
	}
}
