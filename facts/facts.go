// Package facts is what the origin learns of a photo when it stores the
// original (its size, format and placeholder), kept with the original as
// the store's metadata (a disk sidecar, S3 user metadata) so that a HEAD or
// GET of the original brings them, and computed from the bytes for an
// original stored without them. It knows nothing of HTTP.
package facts

import (
	"fmt"
	"strconv"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/storage"
)

// Facts of one original. New facts (face boxes) join as fields with names
// of their own in Meta; S3 keeps 2 KB of metadata an object.
type Facts struct {
	Width  int            `json:"width"`
	Height int            `json:"height"` // upright, as served
	Format imaging.Format `json:"format"`
	imaging.Placeholder
}

// Meta names, as stored.
const (
	metaWidth     = "width"
	metaHeight    = "height"
	metaFormat    = "format"
	metaColor     = "color"
	metaThumbHash = "thumbhash"
	// MetaOf, on an original's small copy, is the ETag of the original it
	// was made with: what the answers made from the copy are tagged with.
	MetaOf = "original-etag"
)

// Meta is f as store metadata.
func (f Facts) Meta() storage.Meta {
	m := storage.Meta{metaWidth: strconv.Itoa(f.Width), metaHeight: strconv.Itoa(f.Height), metaFormat: string(f.Format)}
	if f.Color != "" {
		m[metaColor], m[metaThumbHash] = f.Color, f.ThumbHash
	}
	return m
}

// FromMeta reads facts kept with an original; ok is false when there are
// none (an original stored before they were kept, or by another program).
func FromMeta(m storage.Meta) (f Facts, ok bool) {
	w, errW := strconv.Atoi(m[metaWidth])
	h, errH := strconv.Atoi(m[metaHeight])
	if errW != nil || errH != nil || m[metaFormat] == "" {
		return Facts{}, false
	}
	return Facts{Width: w, Height: h, Format: imaging.Format(m[metaFormat]),
		Placeholder: imaging.Placeholder{Color: m[metaColor], ThumbHash: m[metaThumbHash]}}, true
}

// Of computes the facts of an image from its bytes and header: the
// placeholder decodes it at most 100 px on its long edge (shrink-on-load
// where the format has it), unless placeholder is false.
func Of(data []byte, h imaging.Header, placeholder bool) (Facts, error) {
	w, ht := h.Upright()
	f := Facts{Width: w, Height: ht, Format: h.Format}
	if !placeholder {
		return f, nil
	}
	ph, err := imaging.MakePlaceholder(data)
	if err != nil {
		return Facts{}, fmt.Errorf("facts: placeholder: %w", err)
	}
	f.Placeholder = ph
	return f, nil
}
