package imaging

import (
	"encoding/binary"
	"fmt"

	"github.com/davidbyttow/govips/v2/vips"
)

// Header is what an image says about itself before any pixel is decoded.
type Header struct {
	Format      Format
	Width       int // of one frame, as stored (before EXIF orientation)
	Height      int
	Pages       int // frames of an animation or pages of a TIFF; 1 otherwise
	Orientation int // EXIF orientation 1..8; 1 when absent
	Alpha       bool
	// Progressive is a JPEG of several scans: libjpeg must hold every
	// coefficient of the whole image to decode it, even when shrinking on
	// load, so it costs its full size.
	Progressive bool
}

// Upright returns the width and height once EXIF orientation is applied.
func (h Header) Upright() (w, ht int) {
	if h.Orientation >= 5 && h.Orientation <= 8 {
		return h.Height, h.Width
	}
	return h.Width, h.Height
}

// Probe sniffs b and reads its header. libvips loads lazily, so this parses the
// header only: a 30000x30000 PNG costs microseconds here, not 3.6 GB.
func Probe(b []byte) (Header, error) {
	f, err := Sniff(b)
	if err != nil {
		return Header{}, err
	}
	if f == PNG {
		if err := checkPNGChunks(b); err != nil {
			return Header{}, err
		}
	}
	img, err := vips.LoadImageFromBuffer(b, vips.NewImportParams())
	if err != nil {
		return Header{}, fmt.Errorf("%w: %s header: %v", ErrCorrupt, f, oneLine(err))
	}
	defer img.Close()
	h := Header{Format: f, Width: img.Width(), Height: img.PageHeight(), Pages: max(1, img.Pages()), Orientation: img.Orientation(), Alpha: img.HasAlpha(),
		Progressive: f == JPEG && img.GetInt("jpeg-multiscan") != 0}
	if h.Height <= 0 {
		h.Height = img.Height()
	}
	if h.Orientation < 1 || h.Orientation > 8 {
		h.Orientation = 1
	}
	if h.Width <= 0 || h.Height <= 0 {
		return Header{}, fmt.Errorf("%w: %s header has no size", ErrCorrupt, f)
	}
	return h, nil
}

// Limits bound what a source may cost before any pixel is decoded.
type Limits struct {
	// MaxPixels bounds the pixels decoded: width x height x frames after
	// shrink-on-load (JPEG decodes at 1/2, 1/4 or 1/8 of each side when the
	// output is that much smaller). Default 50 MP: the largest phone sensors
	// are 48-50 MP, and their 200 MP modes decode at 1/4 of that for a
	// 2560 px original.
	MaxPixels int64
	// MaxDeclaredPixels bounds one frame's width x height as the header
	// declares it, however much the decoder shrinks: even a shrunk decode
	// reads every block. Default 256 MP: a 200 MP phone photo.
	MaxDeclaredPixels int64
	// MaxFrames bounds the frames of an animation that stays animated.
	MaxFrames int
	// MaxDimension bounds either side of a source, so a 20000x60 panorama
	// passes but a 1x60000000 strip does not.
	MaxDimension int
}

// DefaultLimits are the limits used when a role's config leaves them zero.
func DefaultLimits() Limits {
	return Limits{MaxPixels: 50_000_000, MaxDeclaredPixels: 256_000_000, MaxFrames: 100, MaxDimension: 30_000}
}

// Check refuses a source over the limits. frames is how many frames will be
// decoded (1 when an animation will be flattened to its first frame), shrink
// the factor the decoder shrinks each side by on load (see LoadShrink).
func (l Limits) Check(h Header, frames, shrink int) error {
	frames, shrink = max(frames, 1), max(shrink, 1)
	declared := int64(h.Width) * int64(h.Height)
	decoded := decodedPixels(h, frames, shrink)
	switch {
	case h.Width > l.MaxDimension || h.Height > l.MaxDimension:
		return fmt.Errorf("%w: %dx%d is over the %d px side limit", ErrTooLarge, h.Width, h.Height, l.MaxDimension)
	case frames > l.MaxFrames || (h.Format == GIF || h.Format == WebP) && h.Pages > l.MaxFrames:
		// An animation over the limit is refused whole, even for its first
		// frame: reading its header already walks every frame.
		return fmt.Errorf("%w: %d frames is over the %d frame limit", ErrTooLarge, max(frames, h.Pages), l.MaxFrames)
	case declared > l.MaxDeclaredPixels:
		return fmt.Errorf("%w: %dx%d is %.1f MP, over the %.0f MP limit", ErrTooLarge, h.Width, h.Height, float64(declared)/1e6, float64(l.MaxDeclaredPixels)/1e6)
	case decoded > l.MaxPixels:
		return fmt.Errorf("%w: %dx%d x %d frames decodes %.1f MP (shrunk 1/%d on load), over the %.0f MP limit",
			ErrTooLarge, h.Width, h.Height, frames, float64(decoded)/1e6, shrink, float64(l.MaxPixels)/1e6)
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// PNG metadata bounds: libpng inflates every zTXt and iTXt chunk while
// reading the header, so 2,000 compressed text chunks cost seconds before a
// pixel is decoded. Real photos carry a handful (text, eXIf, iCCP, pHYs).
const (
	maxPNGMetaChunks = 64
	maxPNGMetaBytes  = 4 << 20
)

// checkPNGChunks walks a PNG's chunk headers (lengths only, no data read)
// and refuses one with more metadata chunks or bytes than the bounds.
// Animation chunks (acTL, fcTL, fdAT) are image data, not metadata.
func checkPNGChunks(b []byte) error {
	chunks, size := 0, 0
	for i := 8; i+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		if n < 0 || n > len(b) {
			break // a truncated file: libvips says so
		}
		if typ == "IEND" {
			break
		}
		if typ[0]&0x20 != 0 && typ != "acTL" && typ != "fcTL" && typ != "fdAT" { // lower case first letter: ancillary
			chunks++
			size += n
		}
		i += 12 + n
	}
	if chunks > maxPNGMetaChunks || size > maxPNGMetaBytes {
		return fmt.Errorf("%w: a PNG with %d metadata chunks of %d bytes, over %d chunks or %d MiB", ErrTooLarge, chunks, size, maxPNGMetaChunks, maxPNGMetaBytes>>20)
	}
	return nil
}
