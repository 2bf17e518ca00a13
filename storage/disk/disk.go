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
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/imgorigin/imgorigin/storage"
)

// Reserved is the top-level name the store keeps its own files under; no key
// may start with it.
const Reserved = ".imgorigin"

// Store is a storage.Store on a local directory.
type Store struct {
	top     string // DIR, which holds all of the below
	objects string // DIR (or DIR/o): the file for key K is objects/K
	meta    string // sidecars: meta/K
	tmp     string // temporary files, renamed into place
	// reserved is the first key segment that names the store's own files
	// rather than objects ("" for the layout before plain directories).
	reserved string
	dirs     *dirCache
	gate     *gate
	// puts serialises the two renames of Puts to one key (striped by its
	// hash): two at once could leave one's sidecar beside the other's file,
	// which then reads as another program's, its metadata lost.
	puts [64]sync.Mutex
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
	s := &Store{top: abs, objects: abs, meta: filepath.Join(abs, Reserved, "meta"), tmp: filepath.Join(abs, Reserved, "tmp"), reserved: Reserved,
		dirs: newDirCache(), gate: newGate(maxCalls)}
	if isLegacyLayout(abs) {
		s.objects, s.meta, s.tmp, s.reserved = filepath.Join(abs, "o"), filepath.Join(abs, "m"), filepath.Join(abs, "tmp"), ""
	}
	return s, nil
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
	ETag        string       `json:"etag"`
	ContentType string       `json:"content_type"`
	Size        int64        `json:"size,omitempty"`
	MTime       int64        `json:"mtime_ns,omitempty"`
	Meta        storage.Meta `json:"meta,omitempty"`
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

// Get opens the object for reading; its body's reads obey ctx too.
func (s *Store) Get(ctx context.Context, key string) (*storage.Object, error) {
	if err := s.validate(key); err != nil {
		return nil, err
	}
	obj, err := call(ctx, s.gate, func() (*storage.Object, error) {
		f, info, err := s.open(key)
		if err != nil {
			return nil, err
		}
		return &storage.Object{Info: info, Body: &body{ctx: ctx, gate: s.gate, f: f}}, nil
	}, func(o *storage.Object) { o.Body.Close() })
	return obj, s.wrap(err)
}

func (s *Store) Head(ctx context.Context, key string) (storage.Info, error) {
	if err := s.validate(key); err != nil {
		return storage.Info{}, err
	}
	info, err := call(ctx, s.gate, func() (storage.Info, error) {
		f, info, err := s.open(key)
		if err != nil {
			return storage.Info{}, err
		}
		f.Close()
		return info, nil
	}, nil)
	return info, s.wrap(err)
}

// open opens the object for key as a regular file under the directory:
// through os.Root, so that no symbolic link leads out of it; the key itself
// must be a regular file (not a link, a FIFO, a device or a socket), checked
// before opening and again on what was opened. Hidden names (.git, .env)
// are not objects. Anything wrong with the key is ErrNotFound; only a
// directory that is gone or a filesystem that fails is the store's error.
func (s *Store) open(key string) (*os.File, storage.Info, error) {
	if storage.Hidden(key) {
		return nil, storage.Info{}, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	root, err := os.OpenRoot(s.objects)
	if err != nil {
		return nil, storage.Info{}, fmt.Errorf("disk store: the directory %s: %w", s.objects, err)
	}
	defer root.Close()
	name := filepath.FromSlash(key)
	// A writer renaming a new version into place between the Lstat and the
	// open makes them disagree: look again. A name that keeps changing is
	// not served.
	for range 3 {
		lst, err := root.Lstat(name)
		if err != nil {
			return nil, storage.Info{}, keyError(err, key)
		}
		if !lst.Mode().IsRegular() {
			return nil, storage.Info{}, fmt.Errorf("%w: %s is not a regular file", storage.ErrNotFound, key)
		}
		// O_NONBLOCK: a FIFO swapped in after the Lstat opens at once
		// instead of waiting for a writer; regular files ignore it.
		f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, storage.Info{}, keyError(err, key)
		}
		st, err := f.Stat()
		if err == nil && st.Mode().IsRegular() && os.SameFile(st, lst) {
			info, err := s.describeOpen(key, f, st)
			if err != nil {
				f.Close()
				return nil, storage.Info{}, err
			}
			return f, info, nil
		}
		f.Close()
		if err != nil {
			return nil, storage.Info{}, keyError(err, key)
		}
	}
	return nil, storage.Info{}, fmt.Errorf("%w: %s kept changing while it was opened", storage.ErrNotFound, key)
}

// describeOpen describes the open file f; a file without a matching sidecar
// has its content type sniffed from its first bytes (f is left at offset 0).
func (s *Store) describeOpen(key string, f *os.File, st fs.FileInfo) (storage.Info, error) {
	info := s.describe(key, st)
	if info.ContentType == "" {
		var err error
		if info.ContentType, err = sniff(f); err != nil {
			return storage.Info{}, keyError(err, key)
		}
	}
	return info, nil
}

// keyError sorts what the filesystem said about one key: missing, not a
// directory on the way, denied, a link loop or a link out of the directory
// are that key's ErrNotFound (its own 404, never a failing store, and no
// telling a stranger which files exist); anything else (EIO, ESTALE, a dead
// FUSE daemon) is the filesystem's.
func keyError(err error, key string) error {
	switch {
	case errors.Is(err, syscall.ENAMETOOLONG):
		return fmt.Errorf("%w: %s: name too long for this filesystem", storage.ErrInvalidKey, key)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ENOTDIR),
		errors.Is(err, syscall.ELOOP), errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.EISDIR),
		strings.Contains(err.Error(), "escapes from parent"): // os.Root's refusal, unexported
		return fmt.Errorf("%w: %s (%v)", storage.ErrNotFound, key, err)
	}
	return fmt.Errorf("disk store: %s: %w", key, err)
}

// wrap names the directory in a stalled call's error.
func (s *Store) wrap(err error) error {
	if errors.Is(err, ErrStalled) {
		return fmt.Errorf("%s: %w", s.objects, err)
	}
	return err
}

// describe fills what the sidecar (if it still matches) or the file's name
// and stat say; ContentType is empty when only the bytes can tell.
func (s *Store) describe(key string, st fs.FileInfo) storage.Info {
	info := storage.Info{Key: key, Size: st.Size(), LastModified: st.ModTime().UTC()}
	var m sidecar
	if b, err := os.ReadFile(s.metaPath(key)); err == nil && json.Unmarshal(b, &m) == nil {
		legacy := s.reserved == "" && m.Size == 0 // the old layout's sidecars name no file
		if legacy || m.Size == st.Size() && m.MTime == st.ModTime().UnixNano() {
			info.ETag, info.ContentType, info.Own, info.Meta = m.ETag, m.ContentType, true, m.Meta
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
//
// A Put abandoned at ctx's deadline (a stalled mount) may still complete
// later, whole.
func (s *Store) Put(ctx context.Context, key string, data []byte, contentType string, meta storage.Meta) (storage.Info, error) {
	if err := s.validate(key); err != nil {
		return storage.Info{}, err
	}
	if storage.Hidden(key) {
		return storage.Info{}, fmt.Errorf("%w %q: hidden names are never served", storage.ErrInvalidKey, key)
	}
	if err := meta.Validate(); err != nil {
		return storage.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return storage.Info{}, err
	}
	info, err := call(ctx, s.gate, func() (storage.Info, error) { return s.put(key, data, contentType, meta) }, nil)
	if err == nil && contentType == "" {
		return s.Head(ctx, key) // sniffed from the bytes, as a foreign file's
	}
	return info, s.wrap(err)
}

func (s *Store) put(key string, data []byte, contentType string, meta storage.Meta) (storage.Info, error) {
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
	mb, _ := json.Marshal(sidecar{ETag: hex.EncodeToString(sum[:]), ContentType: contentType, Size: st.Size(), MTime: st.ModTime().UnixNano(), Meta: meta})
	metaTmp, err := s.writeTemp(mb)
	if err != nil {
		return storage.Info{}, err
	}
	defer os.Remove(metaTmp)
	h := fnv.New32a()
	h.Write([]byte(key))
	mu := &s.puts[h.Sum32()%uint32(len(s.puts))]
	mu.Lock()
	defer mu.Unlock()
	if err := s.renameInto(metaTmp, s.metaPath(key)); err != nil {
		return storage.Info{}, err
	}
	if err := s.renameInto(tmp, s.objectPath(key)); err != nil {
		return storage.Info{}, err
	}
	// The rename keeps the file's size and mtime: what it holds is what the
	// sidecar says, no need to read either back.
	return storage.Info{Key: key, Size: st.Size(), LastModified: st.ModTime().UTC(), ETag: hex.EncodeToString(sum[:]), ContentType: contentType, Own: true, Meta: meta}, nil
}

// writeTemp writes data to a new fsynced file in the store's temporary
// directory and returns its path. The file is created as other programs
// create theirs (0666 less the process's umask: 0644 under the usual 022),
// so that the directory's other users can read what the store writes.
func (s *Store) writeTemp(data []byte) (string, error) {
	if err := os.MkdirAll(s.tmp, 0o755); err != nil {
		return "", fmt.Errorf("disk store: %w", err)
	}
	var rnd [12]byte
	rand.Read(rnd[:])
	name := filepath.Join(s.tmp, tempPrefix+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
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
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// tempPrefix starts the names of temporary files.
const tempPrefix = "put-"

// renameInto moves a temporary file to path and makes the new entry
// durable; through os.Root, so that a key under a link to elsewhere writes
// nothing outside the directory.
func (s *Store) renameInto(tmp, path string) error {
	root, err := os.OpenRoot(s.top)
	if err != nil {
		return fmt.Errorf("disk store: %w", err)
	}
	defer root.Close()
	from, _ := filepath.Rel(s.top, tmp)
	to, _ := filepath.Rel(s.top, path)
	if err := root.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("disk store: %w (is a prefix of the key already an object?)", err)
	}
	if err := root.Rename(from, to); err != nil {
		return fmt.Errorf("disk store: %w", err)
	}
	// Without a sync of the directory a crash can forget the new entry.
	d, err := root.Open(filepath.Dir(to))
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
	_, err := call(ctx, s.gate, func() (struct{}, error) {
		for _, dir := range []string{s.objects, s.meta} {
			root, err := os.OpenRoot(dir)
			if errors.Is(err, fs.ErrNotExist) && dir == s.meta {
				break // nothing was ever written through the store
			} else if err != nil {
				return struct{}{}, err
			}
			err = root.Remove(filepath.FromSlash(key))
			root.Close()
			if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	}, nil)
	return s.wrap(err)
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

// Ping checks that the store's directory is still there and answers in
// time: a directory moved away, or a mount that went empty of it, makes the
// instance unready rather than every photo "not found".
func (s *Store) Ping(ctx context.Context) error {
	_, err := call(ctx, s.gate, func() (struct{}, error) {
		st, err := os.Stat(s.objects)
		if err == nil && !st.IsDir() {
			err = fmt.Errorf("%s is not a directory", s.objects)
		}
		return struct{}{}, err
	}, nil)
	return s.wrap(err)
}

// body is an object's file whose reads obey the context of the Get that
// opened it: a read stalled on a hung mount fails at that deadline instead
// of holding its caller.
type body struct {
	ctx  context.Context
	gate *gate
	f    *os.File
}

// Read copies through a buffer of its own: a read abandoned at the deadline
// may still complete later, and must not write into the caller's p then.
func (b *body) Read(p []byte) (int, error) {
	buf, err := call(b.ctx, b.gate, func() ([]byte, error) {
		buf := make([]byte, min(len(p), 1<<20))
		n, err := b.f.Read(buf)
		return buf[:n], err
	}, nil)
	return copy(p, buf), err
}

// ReadWhole reads the rest of the file in one gated call into a buffer only
// the caller will see: no copy, and nothing written after a deadline.
func (b *body) ReadWhole(head []byte, limit int64) ([]byte, error) {
	return call(b.ctx, b.gate, func() ([]byte, error) {
		st, err := b.f.Stat()
		if err != nil {
			return nil, err
		}
		return storage.ReadBuffer(b.f, head, min(st.Size(), limit), limit)
	}, nil)
}

// Close does not wait for a read still blocked in the kernel: Go closes
// the descriptor once that read returns.
func (b *body) Close() error { return b.f.Close() }
