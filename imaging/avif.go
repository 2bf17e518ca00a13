package imaging

// #cgo pkg-config: vips
// #include <stdlib.h>
// #include <vips/vips.h>
//
// static int avif_save(VipsImage *in, void **buf, size_t *len, int q, int effort, int lossless) {
//   return vips_heifsave_buffer(in, buf, len, "Q", q, "effort", effort, "lossless", lossless,
//     "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "bitdepth", 8, "strip", TRUE, NULL);
// }
import "C"

import (
	"runtime"
	"unsafe"

	"github.com/davidbyttow/govips/v2/vips"
)

// exportAVIF encodes img as 8-bit AVIF. govips sends no effort of 0 (it
// reads 0 as "unset", and libvips then spends effort 4: 1.7 s against
// 0.1 s for a 1080 px photo here), so the saver is called directly.
func exportAVIF(img *vips.ImageRef, quality, effort int, lossless bool) ([]byte, error) {
	p := vipsImage(img)
	if p == nil {
		b, _, err := img.ExportAvif(&vips.AvifExportParams{StripMetadata: true, Quality: quality, Effort: effort, Bitdepth: 8, Lossless: lossless})
		return b, err
	}
	defer runtime.KeepAlive(img)
	var buf unsafe.Pointer
	var n C.size_t
	ll := C.int(0)
	if lossless {
		ll = 1
	}
	if C.avif_save(p, &buf, &n, C.int(quality), C.int(effort), ll) != 0 {
		return nil, vipsError()
	}
	defer C.g_free(C.gpointer(buf))
	return C.GoBytes(buf, C.int(n)), nil
}
