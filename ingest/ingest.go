// Package ingest turns an uploaded image into a stored WebP original under an
// unguessable, idempotent key. Uploads, `imgorigin import` and the migration all
// go through it, so an original is the same whichever way it arrived.
package ingest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/regions"
)

// Store is what ingest needs of a storage backend.
type Store interface {
	Head(ctx context.Context, key string) (storage.Info, error)
	Put(ctx context.Context, key string, data []byte, contentType string, meta storage.Meta) (storage.Info, error)
}

// Config of an Ingester.
type Config struct {
	Limits   imaging.Limits
	Original imaging.OriginalConfig
	// KeySecret makes keys unguessable: without it nobody can derive a photo's
	// key from its bytes and subject.
	KeySecret []byte
	// Home, in a fleet of regional stores, names the store this ingester
	// writes to: keys start with it (regions.KeyPrefix) and it is hashed
	// into them, so editing the prefix names no stored object.
	Home string
}

// Result describes a stored original.
type Result struct {
	Key    string `json:"key"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int64  `json:"bytes"`
	Format string `json:"format"`
	SHA256 string `json:"sha256"` // of the stored original
	// Placeholder is kept with the original (facts) and signed into result
	// tokens.
	Placeholder imaging.Placeholder `json:"placeholder"`
	// Faces found in it, kept with the original (facts); nil for an
	// animation, which is not looked at.
	Faces []facts.Face `json:"-"`
	// Data is the converted original's bytes, always set by Prepare (also
	// when Save then finds it stored already): for placeholders, checksums
	// and the store.
	Data []byte `json:"-"`
	// Small is its small copy's bytes (nil: none), stored under SmallKey.
	Small []byte `json:"-"`
	// Existed reports that the same upload was already stored: nothing was written.
	Existed bool `json:"-"`
}

// Ingester converts and stores originals.
type Ingester struct {
	store Store
	cfg   Config
}

// New returns an Ingester; cfg.KeySecret must be at least 16 bytes.
func New(store Store, cfg Config) (*Ingester, error) {
	if len(cfg.KeySecret) < 16 {
		return nil, errors.New("ingest: key secret must be at least 16 bytes")
	}
	return &Ingester{store: store, cfg: cfg}, nil
}

// Key is the object key of src uploaded by subject: 128 bits of an HMAC over
// the subject and the content hash (and the home, behind its prefix). The
// same upload retried gets the same key; the same photo from another subject
// or to another home gets another.
func (in *Ingester) Key(subject string, src []byte) string {
	sum := sha256.Sum256(src)
	mac := hmac.New(sha256.New, in.cfg.KeySecret)
	if in.cfg.Home != "" {
		mac.Write([]byte("home:" + in.cfg.Home))
		mac.Write([]byte{0})
	}
	mac.Write([]byte(subject))
	mac.Write([]byte{0})
	mac.Write(sum[:])
	key := hex.EncodeToString(mac.Sum(nil)[:16])
	if in.cfg.Home != "" {
		return regions.KeyPrefix(in.cfg.Home) + key
	}
	return key
}

// Ingest converts src and stores it. A retry of an upload already stored
// converts again (to answer with its dimensions) but writes nothing.
func (in *Ingester) Ingest(ctx context.Context, subject string, src []byte) (Result, error) {
	res, err := in.Prepare(in.Key(subject, src), src)
	if err != nil {
		return Result{}, err
	}
	return res, in.Save(ctx, &res)
}

// Prepare converts src, to be stored under key (from Key, which callers often
// need first: hashing a 12 MP upload twice costs milliseconds); nothing is
// stored yet.
func (in *Ingester) Prepare(key string, src []byte) (Result, error) {
	c, err := imaging.ConvertOriginal(src, in.cfg.Limits, in.cfg.Original)
	if err != nil {
		return Result{}, err
	}
	out := c.Original
	ph := c.Placeholder
	if ph == nil {
		// From the source, not the stored WebP: JPEG shrink-on-load makes the
		// 100 px decode cheaper (12 ms against 18 ms a photo on the corpus).
		p, err := imaging.MakePlaceholder(src)
		if err != nil {
			return Result{}, err
		}
		ph = &p
	}
	var found []facts.Face
	if c.Faces != nil {
		found = facts.FromBoxes(c.Faces, c.FaceScale)
	}
	sum := sha256.Sum256(out.Bytes)
	return Result{Key: key, Width: out.Width, Height: out.Height, Bytes: int64(len(out.Bytes)), Format: string(out.Format),
		SHA256: hex.EncodeToString(sum[:]), Placeholder: *ph, Faces: found, Data: out.Bytes, Small: c.Small.Bytes}, nil
}

// Facts are what is kept with the stored original.
func (r Result) Facts() facts.Facts {
	return facts.Facts{Width: r.Width, Height: r.Height, Format: imaging.Format(r.Format), Placeholder: r.Placeholder,
		Faces: r.Faces, FacesKnown: r.Faces != nil}
}

// MayHaveSmallCopy reports whether key has the form of the keys Key makes
// (regions.IsKey): only such originals have small copies, so a file another
// program named costs no read of a copy it cannot have.
func MayHaveSmallCopy(key string) bool { return regions.IsKey(key) }

// Home is the store this ingester writes to (Config.Home), which its keys name.
func (in *Ingester) Home() string { return in.cfg.Home }

// SmallKey names the small copy of the original under key: the key with a
// suffix no key that ingest makes has, so it never names another photo.
func SmallKey(key string) string { return key + ".small" }

// Objects are every stored object of the originals under keys: each, and
// its small copy. Deleting a photo deletes them all.
func Objects(keys []string) []string {
	out := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		out = append(out, k, SmallKey(k))
	}
	return out
}

// Save stores a prepared original unless an object of its size is already
// under its key (then res.Existed is set), then its small copy unless it is
// stored already: a retry, or the migration run again, writes only what is
// missing. The original goes first, so that a crash between the two leaves
// an original without a small copy, which is served from the original.
func (in *Ingester) Save(ctx context.Context, res *Result) error {
	info, err := in.store.Head(ctx, res.Key)
	switch {
	case err == nil && info.Size == res.Bytes:
		res.Existed = true
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("ingest: %w", err)
	default:
		if info, err = in.store.Put(ctx, res.Key, res.Data, imaging.WebP.ContentType(), res.Facts().Meta()); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	if res.Small == nil {
		return nil
	}
	small := SmallKey(res.Key)
	if s, err := in.store.Head(ctx, small); err == nil && s.Size == int64(len(res.Small)) && s.Meta[facts.MetaOf] == info.ETag {
		return nil
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("ingest: %w", err)
	}
	// Its meta holds the original's facts (its size decides what the copy
	// can serve) and the original's ETag, which answers made from either share.
	meta := res.Facts().Meta()
	meta[facts.MetaOf] = info.ETag
	if _, err := in.store.Put(ctx, small, res.Small, imaging.WebP.ContentType(), meta); err != nil {
		return fmt.Errorf("ingest: small copy: %w", err)
	}
	return nil
}
