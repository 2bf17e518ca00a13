// Package disk keeps objects as files under one directory: the embedded default
// for a single machine. Each object is written to a temporary file, fsynced and
// renamed into place, so a reader sees the old object or the whole new one; its
// content type and ETag live in a small sidecar file beside it.
package disk

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/imgorigin/imgorigin/storage"
)

// Store is a storage.Store on a local directory. Objects live under root/o/KEY and
// their metadata under root/m/KEY, so no key can collide with a sidecar.
type Store struct {
	root string
}

// New opens (creating if needed) a store rooted at dir.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{"o", "m", "tmp"} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return nil, fmt.Errorf("disk store: %w", err)
		}
	}
	return &Store{root: abs}, nil
}

type meta struct {
	ETag        string `json:"etag"`
	ContentType string `json:"content_type"`
}

func (s *Store) objectPath(key string) string {
	return filepath.Join(s.root, "o", filepath.FromSlash(key))
}
func (s *Store) metaPath(key string) string {
	return filepath.Join(s.root, "m", filepath.FromSlash(key))
}

func (s *Store) Get(ctx context.Context, key string) (*storage.Object, error) {
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(s.objectPath(key))
	if err != nil {
		return nil, notFound(err, key)
	}
	info, err := s.info(key, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &storage.Object{Info: info, Body: f}, nil
}

func (s *Store) Head(ctx context.Context, key string) (storage.Info, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.Info{}, err
	}
	f, err := os.Open(s.objectPath(key))
	if err != nil {
		return storage.Info{}, notFound(err, key)
	}
	defer f.Close()
	return s.info(key, f)
}

func (s *Store) info(key string, f *os.File) (storage.Info, error) {
	st, err := f.Stat()
	if err != nil {
		return storage.Info{}, err
	}
	if st.IsDir() {
		return storage.Info{}, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	var m meta
	if b, err := os.ReadFile(s.metaPath(key)); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	if m.ContentType == "" {
		m.ContentType = "application/octet-stream"
	}
	return storage.Info{Key: key, Size: st.Size(), ETag: m.ETag, ContentType: m.ContentType, LastModified: st.ModTime().UTC()}, nil
}

// Put writes the metadata first and the object last: the object's rename is the
// moment it becomes visible, and a crash before it leaves only an unused sidecar
// that the next Put of the key overwrites.
func (s *Store) Put(ctx context.Context, key string, data []byte, contentType string) (storage.Info, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return storage.Info{}, err
	}
	sum := md5.Sum(data)
	m := meta{ETag: hex.EncodeToString(sum[:]), ContentType: contentType}
	mb, _ := json.Marshal(m)
	if err := s.writeAtomic(s.metaPath(key), mb); err != nil {
		return storage.Info{}, err
	}
	if err := s.writeAtomic(s.objectPath(key), data); err != nil {
		return storage.Info{}, err
	}
	return s.Head(ctx, key)
}

func (s *Store) writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("disk store: %w (is a prefix of the key already an object?)", err)
	}
	tmp, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "put-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("disk store: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename durable: without it a crash can forget the new entry.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	if err := os.Remove(s.objectPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(s.metaPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (s *Store) DeleteMany(ctx context.Context, keys []string) error {
	var errs []error
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.Delete(ctx, k); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// List walks only the directory that holds prefix, then sorts: directory walk
// order is not bytewise key order ("a/b" vs "a-c"), and the cursor needs the latter.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) (storage.Page, error) {
	if limit <= 0 {
		limit = 1000
	}
	base := filepath.Join(s.root, "o")
	start := base
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(base, filepath.FromSlash(prefix[:i]))
	}
	var keys []string
	err := filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return ctx.Err()
		}
		rel, _ := filepath.Rel(base, path)
		key := filepath.ToSlash(rel)
		if strings.HasPrefix(key, prefix) && key > after {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return storage.Page{}, err
	}
	sort.Strings(keys)
	var page storage.Page
	if len(keys) > limit {
		keys = keys[:limit]
		page.Next = keys[limit-1]
	}
	for _, k := range keys {
		info, err := s.Head(ctx, k)
		if errors.Is(err, storage.ErrNotFound) {
			continue // deleted while we listed
		}
		if err != nil {
			return storage.Page{}, err
		}
		page.Items = append(page.Items, info)
	}
	return page, nil
}

func notFound(err error, key string) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	if errors.Is(err, syscall.ENAMETOOLONG) {
		return fmt.Errorf("%w: %s: name too long for this filesystem", storage.ErrInvalidKey, key)
	}
	return err
}

// Ping checks that the store's directory is still there.
func (s *Store) Ping(ctx context.Context) error {
	_, err := os.Stat(s.root)
	return err
}
