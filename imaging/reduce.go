package imaging

// #cgo pkg-config: vips
// #include <vips/vips.h>
//
// // lanczos_reduce shrinks in with Lanczos 3 by vshrink down (1: not at
// // all) and hshrink across, the pass across made a pass down by a quarter
// // turn and back.
// static int lanczos_reduce(VipsImage *in, VipsImage **out, double vshrink, double hshrink) {
//   VipsImage *t[3] = {NULL, NULL, NULL};
//   int err = vshrink > 1 ? vips_reducev(in, &t[0], vshrink, "kernel", VIPS_KERNEL_LANCZOS3, NULL)
//                         : vips_copy(in, &t[0], NULL);
//   // A decode's mark that its lines come in order makes the turn cache
//   // what it reads as if they did: 10x slower on pixels in memory.
//   if (!err) vips_image_remove(t[0], VIPS_META_SEQUENTIAL);
//   err = err || vips_rot(t[0], &t[1], VIPS_ANGLE_D90, NULL) ||
//     vips_reducev(t[1], &t[2], hshrink, "kernel", VIPS_KERNEL_LANCZOS3, NULL) ||
//     vips_rot(t[2], out, VIPS_ANGLE_D270, NULL);
//   for (int i = 0; i < 3; i++)
//     if (t[i]) g_object_unref(t[i]);
//   return err;
// }
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/davidbyttow/govips/v2/vips"
)

// reduceTo shrinks img (in memory) to at most edge px on its long side, in
// steps of at most 2x with a triangle filter. libvips 8.14's box shrink,
// which vips_resize and vips_thumbnail_image take for 4x and more, is 10x
// slower on an image in memory: 92 against 9 ms from 2560 to 640 px here.
func reduceTo(img *vips.ImageRef, edge int) error {
	for {
		long := max(img.Width(), img.PageHeight())
		if long <= edge {
			return nil
		}
		// The last step is a little under the exact scale, so that rounding
		// never leaves edge+1 px.
		scale := max(0.5, (float64(edge)-0.25)/float64(long))
		if err := img.Resize(scale, vips.KernelLinear); err != nil {
			return err
		}
	}
}

// lanczosReduce is img (in memory, one frame) scaled by scale (at most 1)
// with Lanczos 3: img.Resize(scale, vips.KernelLanczos3), the same size and
// pixels within a level, in half the time. libvips 8.14 reduces vertically
// with vector code and horizontally with plain C (from 2560 to 1280 px: 20
// against 40 ms here), so the horizontal pass is made vertical by turning
// the image a quarter and back.
func lanczosReduce(img *vips.ImageRef, scale float64) (*vips.ImageRef, error) {
	return lanczosReduceBy(img, 1/scale, 1/scale)
}

// lanczosReduceBy is img (in memory) shrunk by vshrink down (1: not at
// all) and hshrink across (more than 1) with Lanczos 3, as lanczosReduce.
func lanczosReduceBy(img *vips.ImageRef, vshrink, hshrink float64) (*vips.ImageRef, error) {
	p := vipsImage(img)
	if p == nil {
		return nil, errors.New("govips keeps its image elsewhere")
	}
	defer runtime.KeepAlive(img)
	var out *C.VipsImage
	if C.lanczos_reduce(p, &out, C.double(vshrink), C.double(hshrink)) != 0 {
		return nil, vipsError()
	}
	return imageRef(out)
}

// maxDownPass bounds the bytes of pixels that originalPixels holds between
// its two passes: a 12 MP photo's, 4000x1920 RGB (23 MB), with room.
const maxDownPass = 48 << 20

// originalPixels is the upload src (header h) decoded and shrunk into t's
// box (fit inside, never enlarged) as thumbnail makes it. A still, opaque
// upload larger than the box, whose decode does not shrink on load, is
// shrunk down by libvips' thumbnail and then across by lanczosReduceBy in
// memory: libvips 8.14 reduces across with plain C, and a 12 MP photo to
// 2560 px took 133 ms that way against 55 here.
func originalPixels(ctx context.Context, src []byte, h Header, t Transform, animated bool) (*vips.ImageRef, error) {
	sw, sh := h.Upright()
	s := max(float64(sw)/float64(t.Width), float64(sh)/float64(t.Height))
	if animated || h.Pages != 1 || h.Alpha || s <= 1 || LoadShrink(h, t) > 1 {
		return thumbnail(ctx, src, h, t, animated)
	}
	tw, th := max(1, int(math.Floor(float64(sw)/s+0.5))), max(1, int(math.Floor(float64(sh)/s+0.5)))
	down, err := thumbnail(ctx, src, h, Transform{Width: sw, Height: th, Fit: FitScale}, false)
	if err != nil {
		return nil, err
	}
	defer down.Close()
	if int64(down.Width())*int64(down.Height())*int64(down.Bands())*int64(bytesPerSample(down.BandFormat())) > maxDownPass {
		return thumbnail(ctx, src, h, t, animated)
	}
	if err := inMemory(down); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, h.Format, err)
	}
	across, err := lanczosReduceBy(down, 1, float64(sw)/float64(tw))
	if err != nil {
		return nil, err
	}
	defer across.Close()
	// Computed into pixels of its own, so that the pass down is freed now,
	// not held through both encodes (21 MB of a 12 MP photo).
	return copyMemory(across)
}

// copyMemory is img computed into new memory that holds nothing of what
// img was made from.
func copyMemory(img *vips.ImageRef) (*vips.ImageRef, error) {
	p := vipsImage(img)
	if p == nil {
		return nil, errors.New("govips keeps its image elsewhere")
	}
	defer runtime.KeepAlive(img)
	out := C.vips_image_copy_memory(p)
	if out == nil {
		return nil, vipsError()
	}
	return imageRef(out)
}

func bytesPerSample(f vips.BandFormat) int {
	switch f {
	case vips.BandFormatUchar, vips.BandFormatChar:
		return 1
	case vips.BandFormatUshort, vips.BandFormatShort:
		return 2
	case vips.BandFormatDouble, vips.BandFormatDpComplex:
		return 8
	}
	return 4
}
