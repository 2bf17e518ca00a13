// Package storeurl opens a storage.Store from the URL operators write in flags:
// a plain or relative path or file:///abs/path for disk, s3://bucket/prefix for S3.
package storeurl

import (
	"context"
	"fmt"
	"net/url"
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
