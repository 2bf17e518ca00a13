package imaging

import (
	"bytes"
	"errors"
	"fmt"
)

// Format is an image container format.
type Format string

const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	WebP Format = "webp"
	GIF  Format = "gif"
	TIFF Format = "tiff"
	HEIC Format = "heic"
	AVIF Format = "avif"
)

// ContentType is the MIME type to serve f with.
func (f Format) ContentType() string {
	return "image/" + string(f)
}

var (
	// ErrUnsupported means the bytes are not in an allowed image format.
	ErrUnsupported = errors.New("unsupported image format")
	// ErrTooLarge means the image is over a pixel, frame or dimension limit.
	ErrTooLarge = errors.New("image too large")
	// ErrCorrupt means the bytes claim an allowed format but cannot be decoded.
	ErrCorrupt = errors.New("corrupt image")
)

// Sniff names the format from magic bytes alone, and only for the allowlist:
// nothing else ever reaches govips, whose own detection would route BMP, SVG,
// PDF and others to decoders we do not trust.
func Sniff(b []byte) (Format, error) {
	switch {
	case len(b) < 12:
		return "", fmt.Errorf("%w: %d bytes is too short for an image", ErrUnsupported, len(b))
	case b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return JPEG, nil
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP":
		return WebP, nil
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return GIF, nil
	case bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*")):
		return TIFF, nil
	case string(b[4:8]) == "ftyp":
		return sniffHEIF(b)
	}
	return "", fmt.Errorf("%w: not JPEG, PNG, WebP, GIF, TIFF, HEIC or AVIF", ErrUnsupported)
}

// sniffHEIF reads the ISO-BMFF ftyp box: the major brand, then the compatible
// brands, since "mif1" files may hold either HEVC or AV1.
func sniffHEIF(b []byte) (Format, error) {
	size := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if size < 16 || size > len(b) {
		size = min(len(b), 64)
	}
	brands := []string{string(b[8:12])}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(b[i:i+4]))
	}
	for _, br := range brands {
		if br == "avif" || br == "avis" {
			return AVIF, nil
		}
	}
	for _, br := range brands {
		switch br {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return HEIC, nil
		}
	}
	return "", fmt.Errorf("%w: ISO media file with brand %q is not HEIC or AVIF", ErrUnsupported, brands[0])
}
