// Package storeurl opens a storage.Store from the URL operators write in flags:
// a plain or relative path or file:///abs/path for disk, s3://bucket/prefix for S3.
package storeurl

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
	s3store "github.com/imgorigin/imgorigin/storage/s3"
)

// S3Defaults fill what an s3:// URL does not say itself; the URL's query
// (endpoint, region, path_style) wins over them.
type S3Defaults struct {
	Endpoint  string
	Region    string
	PathStyle bool
}

// Open returns the store that raw names.
func Open(ctx context.Context, raw string, d S3Defaults) (storage.Store, error) {
	if raw == "" {
		return nil, fmt.Errorf("store URL is empty")
	}
	if !strings.Contains(raw, "://") {
		return disk.New(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("store URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("store URL %q: file URLs take an absolute path (file:///path)", raw)
		}
		return disk.New(u.Path)
	case "s3":
		cfg := s3store.Config{Bucket: u.Host, Endpoint: d.Endpoint, Region: d.Region, PathStyle: d.PathStyle}
		if p := strings.Trim(u.Path, "/"); p != "" {
			cfg.Prefix = p + "/"
		}
		q := u.Query()
		if v := q.Get("endpoint"); v != "" {
			cfg.Endpoint = v
		}
		if v := q.Get("region"); v != "" {
			cfg.Region = v
		}
		if v := q.Get("path_style"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("store URL %q: path_style: %w", raw, err)
			}
			cfg.PathStyle = b
		}
		return s3store.New(ctx, cfg)
	}
	return nil, fmt.Errorf("store URL %q: scheme must be file:// or s3://", raw)
}

// Overlaps reports whether the stores at a and b share any object: the same
// directory or bucket prefix, or one inside the other. Directories compare
// by where their links lead.
func Overlaps(a, b string) (bool, error) {
	in, err := Within(a, b)
	if in || err != nil {
		return in, err
	}
	return Within(b, a)
}

// Within reports whether everything at inner is also in the store at outer:
// the same place, or a directory or prefix inside it.
func Within(inner, outer string) (bool, error) {
	li, err := location(inner)
	if err != nil {
		return false, err
	}
	lo, err := location(outer)
	if err != nil {
		return false, err
	}
	return strings.HasPrefix(li, lo), nil
}

// location is where raw keeps its objects, as a string that starts with
// the location of every store holding it: "file:///abs/dir/" or
// "s3://bucket/prefix/".
func location(raw string) (string, error) {
	path := raw
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("store URL %q: %w", raw, err)
		}
		if u.Scheme == "s3" {
			loc := "s3://" + u.Host + "/"
			if p := strings.Trim(u.Path, "/"); p != "" {
				loc += p + "/"
			}
			return loc, nil
		}
		path = u.Path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	// Resolve links of the longest part that exists: a directory created
	// later under it resolves the same way.
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			abs = filepath.Join(real, rest)
			break
		}
		if dir == filepath.Dir(dir) {
			break
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
	return "file://" + strings.TrimSuffix(abs, "/") + "/", nil
}
