// Package facts is what the origin learns of a photo when it stores the
// original (its size, format and placeholder), kept with the original as
// the store's metadata (a disk sidecar, S3 user metadata) so that a HEAD or
// GET of the original brings them, and computed from the bytes for an
// original stored without them. It knows nothing of HTTP.
package facts

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/imgorigin/imgorigin/faces"
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
	// Faces are the faces found in it, the largest first; nil when it was
	// never looked at (FacesKnown false), empty when none was found.
	Faces      []Face `json:"-"`
	FacesKnown bool   `json:"-"`
}

// Face is a face's square in pixels of the upright original, and how sure
// the detector is of it.
type Face struct {
	X          int     `json:"x"`
	Y          int     `json:"y"`
	Width      int     `json:"width"`
	Height     int     `json:"height"`
	Confidence float64 `json:"confidence"`
}

// maxFaces bounds the faces kept with an original: S3 keeps 2 KB of
// metadata an object, and a face takes about 20 bytes.
const maxFaces = 24

// Meta names, as stored.
const (
	metaWidth     = "width"
	metaHeight    = "height"
	metaFormat    = "format"
	metaColor     = "color"
	metaThumbHash = "thumbhash"
	metaFaces     = "faces" // "x,y,side,score;..." or "none"
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
	if f.FacesKnown {
		m[metaFaces] = encodeFaces(f.Faces)
	}
	return m
}

func encodeFaces(faces []Face) string {
	if len(faces) == 0 {
		return "none"
	}
	var parts []string
	for _, f := range faces[:min(len(faces), maxFaces)] {
		parts = append(parts, fmt.Sprintf("%d,%d,%d,%.0f", f.X, f.Y, f.Width, f.Confidence))
	}
	return strings.Join(parts, ";")
}

// decodeFaces reads encodeFaces' form; ok is false for anything else.
func decodeFaces(v string) ([]Face, bool) {
	if v == "none" {
		return []Face{}, true
	}
	var faces []Face
	for _, part := range strings.Split(v, ";") {
		var f Face
		if n, err := fmt.Sscanf(part, "%d,%d,%d,%g", &f.X, &f.Y, &f.Width, &f.Confidence); err != nil || n != 4 || f.Width <= 0 {
			return nil, false
		}
		f.Height = f.Width
		faces = append(faces, f)
	}
	return faces, len(faces) > 0
}

// FromMeta reads facts kept with an original; ok is false when there are
// none (an original stored before they were kept, or by another program).
func FromMeta(m storage.Meta) (f Facts, ok bool) {
	w, errW := strconv.Atoi(m[metaWidth])
	h, errH := strconv.Atoi(m[metaHeight])
	if errW != nil || errH != nil || m[metaFormat] == "" {
		return Facts{}, false
	}
	f = Facts{Width: w, Height: h, Format: imaging.Format(m[metaFormat]),
		Placeholder: imaging.Placeholder{Color: m[metaColor], ThumbHash: m[metaThumbHash]}}
	if v, ok := m[metaFaces]; ok {
		f.Faces, f.FacesKnown = decodeFaces(v)
	}
	return f, true
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

// FacesOf finds the faces in an image from its bytes and header (a
// grayscale decode at imaging.GrayEdge px), in pixels of the upright image.
func FacesOf(data []byte, h imaging.Header) ([]Face, error) {
	gray, w, ht, scale, err := imaging.Gray(data, h, imaging.GrayEdge)
	if err != nil {
		return nil, err
	}
	boxes, err := faces.Detect(gray, w, ht)
	if err != nil {
		return nil, err
	}
	return FromBoxes(boxes, scale), nil
}

// FromBoxes are the detector's boxes, found in an image scale times the
// upright original, in the original's pixels.
func FromBoxes(boxes []faces.Box, scale float64) []Face {
	out := []Face{}
	for _, b := range boxes {
		side := int(float64(b.Size)/scale + 0.5)
		out = append(out, Face{X: int(float64(b.X)/scale + 0.5), Y: int(float64(b.Y)/scale + 0.5), Width: side, Height: side,
			Confidence: math.Round(b.Score)}) // as kept in metadata
	}
	return out
}
