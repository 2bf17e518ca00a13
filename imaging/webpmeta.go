package imaging

import "encoding/binary"

// VP8X feature flags for metadata chunks.
const (
	vp8xICC  = 0x20
	vp8xEXIF = 0x08
	vp8xXMP  = 0x04
)

// stripWebPMetadata drops the ICCP, EXIF and XMP chunks from a WebP container
// and clears their VP8X flags. libvips 8.14.1 (Debian 12) ignores strip in
// webpsave and rebuilds an EXIF block from the image's resolution fields even
// when every metadata field was removed, so the container is cleaned after the
// encode. It edits chunks only, never pixels; malformed input is returned as is.
func stripWebPMetadata(b []byte, keepICC bool) []byte {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return b
	}
	out := make([]byte, 12, len(b))
	copy(out, b[:12])
	dropped := false
	for i := 12; i < len(b); {
		if i+8 > len(b) {
			return b
		}
		name := string(b[i : i+4])
		n := int(binary.LittleEndian.Uint32(b[i+4:]))
		end := i + 8 + n + n%2
		if n < 0 || end > len(b) {
			return b
		}
		switch {
		case name == "ICCP" && keepICC:
			out = append(out, b[i:end]...)
		case name == "ICCP", name == "EXIF", name == "XMP ":
			dropped = true
		default:
			out = append(out, b[i:end]...)
		}
		i = end
	}
	if !dropped {
		return b
	}
	if len(out) >= 21 && string(out[12:16]) == "VP8X" {
		if keepICC {
			out[20] &^= vp8xEXIF | vp8xXMP
		} else {
			out[20] &^= vp8xICC | vp8xEXIF | vp8xXMP
		}
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}
