// Package storage defines what every place that keeps originals must do, and the
// errors callers decide by. It knows nothing of images or HTTP; backends live in
// sub-packages (disk, s3) and all pass the one suite in storagetest.
package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
)

// MaxKeyLen matches S3's limit on object key length (1024 bytes).
const MaxKeyLen = 1024

// MaxSegmentLen is the longest file name on common filesystems (NAME_MAX):
// a longer key segment could never be stored on disk, so it is no key.
const MaxSegmentLen = 255

var (
	// ErrNotFound means no object is stored under the key.
	ErrNotFound = errors.New("storage: not found")
	// ErrInvalidKey means the key can never name an object (see ValidateKey).
	ErrInvalidKey = errors.New("storage: invalid key")
	// ErrTooLarge means an object is over what the caller will read.
	ErrTooLarge = errors.New("storage: object too large")
)

// Info describes a stored object.
type Info struct {
	Key          string
	Size         int64
	ETag         string // opaque and unquoted; changes whenever the bytes do
	ContentType  string
	LastModified time.Time
	// Own is true for an object written through a store's Put (by
	// imgorigin), false for one another program placed there. Readers
	// decide by it whether the bytes can be trusted as they are.
	Own bool
	// Meta is what the writer kept with the object (Put's meta), read with
	// every Head and Get; nil for objects another program placed.
	Meta Meta
}

// Meta is what a writer keeps with an object: S3 user metadata
// (x-amz-meta-NAME), a disk store's sidecar. Names are lower-case letters,
// digits and "-"; values printable ASCII; MaxMetaBytes in all, S3's bound.
type Meta map[string]string

// MaxMetaBytes is S3's bound on an object's user metadata, names included.
const MaxMetaBytes = 2048

// Validate refuses what a store could not keep as it is.
func (m Meta) Validate() error {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
		if k == "" || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return fmt.Errorf("storage: metadata name %q: lower-case letters, digits and - only", k)
		}
		for _, r := range v {
			if r < 0x20 || r > 0x7e {
				return fmt.Errorf("storage: metadata %q: printable ASCII only", k)
			}
		}
	}
	if n > MaxMetaBytes {
		return fmt.Errorf("storage: %d bytes of metadata, over %d", n, MaxMetaBytes)
	}
	return nil
}

// Object is a stored object being read; the caller closes Body.
type Object struct {
	Info
	Body io.ReadCloser
}

// Page is one page of a listing. Next is empty on the last page; otherwise it is
// the cursor to pass as after for the next page.
type Page struct {
	Items []Info
	Next  string
}

// Store is the contract of every backend. A Put is atomic: readers see the old
// object or the whole new one, never a part. Deleting a missing key is not an error.
type Store interface {
	Get(ctx context.Context, key string) (*Object, error)
	Head(ctx context.Context, key string) (Info, error)
	Put(ctx context.Context, key string, data []byte, contentType string, meta Meta) (Info, error)
	Delete(ctx context.Context, key string) error
	DeleteMany(ctx context.Context, keys []string) error
	// List returns up to limit objects whose keys start with prefix and sort
	// (bytewise) after the cursor after, in key order.
	List(ctx context.Context, prefix, after string, limit int) (Page, error)
}

// Pinger is a store that can say cheaply whether it answers, for readiness.
type Pinger interface {
	// Ping returns nil when the store answers (even "not found" or "access
	// denied"), an error when it cannot be reached or fails.
	Ping(ctx context.Context) error
}

// PingKey is the key Ping asks for; it is never stored.
const PingKey = "imgorigin-readiness-probe"

// WholeReader is a Body that reads itself whole in one call bounded by the
// deadline of the call that opened it (a disk store's file, whose reads the
// kernel may not interrupt on a hung mount). head is what the caller has
// read of it already, and starts the result.
type WholeReader interface {
	ReadWhole(head []byte, limit int64) ([]byte, error)
}

// ReadAll reads and closes obj's body, refusing more than limit bytes. The
// buffer is sized once from obj.Size (plus room for the final EOF read), not
// grown by doubling as io.ReadAll would, copying the bytes each time.
func ReadAll(obj *Object, limit int64) ([]byte, error) { return ReadRest(obj, nil, limit) }

// ReadRest is ReadAll of a body whose first bytes, head, the caller has read
// already (to sniff them, say): they start the result.
func ReadRest(obj *Object, head []byte, limit int64) ([]byte, error) {
	defer obj.Body.Close()
	if obj.Size > limit {
		// The size is the owner's business: a stranger learns only the limit.
		return nil, fmt.Errorf("%w: %s is over the %d byte limit", ErrTooLarge, obj.Key, limit)
	}
	if w, ok := obj.Body.(WholeReader); ok {
		return w.ReadWhole(head, limit)
	}
	return ReadBuffer(obj.Body, head, obj.Size, limit)
}

// ReadBuffer reads r to its end after head into one buffer sized for size
// bytes, refusing more than limit in all.
func ReadBuffer(r io.Reader, head []byte, size, limit int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, max(size, int64(len(head)))+bytes.MinRead))
	buf.Write(head)
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1-int64(len(head)))); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%w: over the %d byte limit", ErrTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// ValidateKey rejects keys that are unsafe on a filesystem or ambiguous in a URL:
// empty, too long, a leading or trailing "/", empty or "." or ".." segments,
// backslashes, and NUL or other control characters.
func ValidateKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidKey, truncate(key), why) }
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxKeyLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	case strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/"):
		return bad("leading or trailing /")
	case strings.ContainsRune(key, '\\'):
		return bad("backslash")
	}
	for _, r := range key {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return bad("control character or invalid UTF-8")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return bad("empty, . or .. path segment")
		}
		if len(seg) > MaxSegmentLen {
			return bad(fmt.Sprintf("a path segment longer than %d bytes", MaxSegmentLen))
		}
	}
	return nil
}

// truncate shortens a key for an error message, never inside a character.
func truncate(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}

// Hidden reports whether a segment of key starts with ".": a dot file or
// folder (.git, .env) that a directory store does not serve.
func Hidden(key string) bool {
	return strings.HasPrefix(key, ".") || strings.Contains(key, "/.")
}
