// Package disk keeps objects as plain files: the object for key K is the file
// DIR/K, so a directory of photos as users have them (an NFS export, the
// folder a PHP app wrote) is a store as it is, and a store is a directory
// any tool can read.
//
// What a file cannot say itself lives under DIR/.imgorigin, a name no key may
// take: temporary files (so a Put is a rename within one filesystem: readers
// see the old object or the whole new one) and, for objects written through
// the store, a sidecar with the content type and an MD5 ETag. Files written
// by anything else have both derived on read. Nothing is written into DIR
// until the first Put, so a migration source stays untouched.
package disk

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/imgorigin/imgorigin/storage"
)

// Reserved is the top-level name the store keeps its own files under; no key
// may start with it.
const Reserved = ".imgorigin"

// Store is a storage.Store on a local directory.
type Store struct {
	objects string // DIR: the file for key K is objects/K
	meta    string // sidecars: meta/K
	tmp     string // temporary files, renamed into place
	// reserved is the first key segment that names the store's own files
	// rather than objects ("" for the layout before plain directories).
	reserved string
	dirs     *dirCache
}

// New opens a store rooted at dir, creating dir if it does not exist and
// nothing inside it. A directory in the layout of imgorigin before 0.9
// (objects under o/, sidecars under m/, temporary files under tmp/) is read
// in that layout, so an existing data directory keeps working.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("disk store: %w", err)
	}
	if isLegacyLayout(abs) {
		return &Store{objects: filepath.Join(abs, "o"), meta: filepath.Join(abs, "m"), tmp: filepath.Join(abs, "tmp"), dirs: newDirCache()}, nil
	}
	priv := filepath.Join(abs, Reserved)
	return &Store{objects: abs, meta: filepath.Join(priv, "meta"), tmp: filepath.Join(priv, "tmp"), reserved: Reserved, dirs: newDirCache()}, nil
}

// isLegacyLayout is true for a directory holding exactly o/, m/ and tmp/.
func isLegacyLayout(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 3 {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() || (e.Name() != "o" && e.Name() != "m" && e.Name() != "tmp") {
			return false
		}
	}
	return true
}

// sidecar is what Put knows of an object that the file does not say. Size
// and MTime tie it to the file it was written with: a file replaced by
// another program no longer matches and has its metadata derived instead.
type sidecar struct {
	ETag        string `json:"etag"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size,omitempty"`
	MTime       int64  `json:"mtime_ns,omitempty"`
}

func (s *Store) validate(key string) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	if s.reserved != "" && (key == s.reserved || strings.HasPrefix(key, s.reserved+"/")) {
		return fmt.Errorf("%w %q: %s/ holds the disk store's own files", storage.ErrInvalidKey, key, s.reserved)
	}
	return nil
}

func (s *Store) objectPath(key string) string {
	return filepath.Join(s.objects, filepath.FromSlash(key))
}
func (s *Store) metaPath(key string) string { return filepath.Join(s.meta, filepath.FromSlash(key)) }

func (s *Store) Get(ctx context.Context, key string) (*storage.Object, error) {
	if err := s.validate(key); err != nil {
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
	if err := s.validate(key); err != nil {
		return storage.Info{}, err
	}
	f, err := os.Open(s.objectPath(key))
	if err != nil {
		return storage.Info{}, notFound(err, key)
	}
	defer f.Close()
	return s.info(key, f)
}

// info describes the open file f; a file without a matching sidecar has its
// content type sniffed from its first bytes (f is left at offset 0).
func (s *Store) info(key string, f *os.File) (storage.Info, error) {
	st, err := f.Stat()
	if err != nil {
		return storage.Info{}, err
	}
	if !st.Mode().IsRegular() {
		return storage.Info{}, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	info := s.describe(key, st)
	if info.ContentType == "" {
		info.ContentType, err = sniff(f)
		if err != nil {
			return storage.Info{}, err
		}
	}
	return info, nil
}

// describe fills what the sidecar (if it still matches) or the file's name
// and stat say; ContentType is empty when only the bytes can tell.
func (s *Store) describe(key string, st fs.FileInfo) storage.Info {
	info := storage.Info{Key: key, Size: st.Size(), LastModified: st.ModTime().UTC()}
	var m sidecar
	if b, err := os.ReadFile(s.metaPath(key)); err == nil && json.Unmarshal(b, &m) == nil {
		legacy := s.reserved == "" && m.Size == 0 // the old layout's sidecars name no file
		if legacy || m.Size == st.Size() && m.MTime == st.ModTime().UnixNano() {
			info.ETag, info.ContentType = m.ETag, m.ContentType
			return info
		}
	}
	// Like nginx's ETag for static files: it changes when the file is
	// rewritten or replaced; the inode tells apart two writes in one
	// timestamp tick.
	var ino uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	info.ETag = fmt.Sprintf("%x-%x-%x", st.ModTime().UnixNano(), st.Size(), ino)
	info.ContentType = mime.TypeByExtension(filepath.Ext(key))
	return info
}

func sniff(f *os.File) (string, error) {
	var buf [512]byte
	n, err := io.ReadFull(f, buf[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return http.DetectContentType(buf[:n]), nil
}

// Put writes the object to a temporary file, then its sidecar (naming the
// temporary file's size and mtime, which the rename keeps), then renames the
// object into place: the rename is the moment it becomes visible, and a crash
// before it leaves a sidecar that matches no file.
func (s *Store) Put(ctx context.Context, key string, data []byte, contentType string) (storage.Info, error) {
	if err := s.validate(key); err != nil {
		return storage.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return storage.Info{}, err
	}
	tmp, err := s.writeTemp(data)
	if err != nil {
		return storage.Info{}, err
	}
	defer os.Remove(tmp) // no-op once renamed
	st, err := os.Stat(tmp)
	if err != nil {
		return storage.Info{}, err
	}
	sum := md5.Sum(data)
	mb, _ := json.Marshal(sidecar{ETag: hex.EncodeToString(sum[:]), ContentType: contentType, Size: st.Size(), MTime: st.ModTime().UnixNano()})
	metaTmp, err := s.writeTemp(mb)
	if err != nil {
		return storage.Info{}, err
	}
	defer os.Remove(metaTmp)
	if err := renameInto(metaTmp, s.metaPath(key)); err != nil {
		return storage.Info{}, err
	}
	if err := renameInto(tmp, s.objectPath(key)); err != nil {
		return storage.Info{}, err
	}
	if contentType == "" {
		return s.Head(ctx, key) // sniffed from the bytes, as a foreign file's
	}
	// The rename keeps the file's size and mtime: what it holds is what the
	// sidecar says, no need to read either back.
	return storage.Info{Key: key, Size: st.Size(), LastModified: st.ModTime().UTC(), ETag: hex.EncodeToString(sum[:]), ContentType: contentType}, nil
}

// writeTemp writes data to a new fsynced file in the store's temporary
// directory and returns its path.
func (s *Store) writeTemp(data []byte) (string, error) {
	if err := os.MkdirAll(s.tmp, 0o755); err != nil {
		return "", fmt.Errorf("disk store: %w", err)
	}
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// renameInto moves a temporary file to path and makes the new entry durable.
func renameInto(tmp, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("disk store: %w (is a prefix of the key already an object?)", err)
	}
	if err := os.Rename(tmp, path); err != nil {
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
	if err := s.validate(key); err != nil {
		return err
	}
	if err := os.Remove(s.objectPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return err
	}
	if err := os.Remove(s.metaPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
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
	_, err := os.Stat(s.objects)
	return err
}
