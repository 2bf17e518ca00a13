package imaging

// #cgo pkg-config: vips libwebp
// #include <stdlib.h>
// #include <vips/vips.h>
// #include <webp/decode.h>
//
// static void free_pixels(VipsImage *im, void *pixels) { g_free(pixels); }
//
// // A decoding is libwebp's incremental decoder writing w x h pixels
// // (scaled by libwebp when that is not the picture's size) into memory
// // that becomes a libvips image once the picture is whole.
// typedef struct {
//   WebPDecoderConfig config; // libwebp reads its options all along
//   WebPIDecoder *dec;
//   uint8_t *pixels;
//   size_t size;
//   int w, h, bands;
// } decoding;
//
// static decoding *decoding_start(int w, int h, int scale, int alpha) {
//   decoding *d = g_try_new0(decoding, 1);
//   if (!d || !WebPInitDecoderConfig(&d->config)) { g_free(d); return NULL; }
//   d->w = w; d->h = h; d->bands = alpha ? 4 : 3;
//   d->size = (size_t) w * d->bands * h;
//   d->pixels = g_try_malloc(d->size);
//   if (!d->pixels) { g_free(d); return NULL; }
//   d->config.options.use_scaling = scale;
//   d->config.options.scaled_width = w;
//   d->config.options.scaled_height = h;
//   d->config.output.colorspace = alpha ? MODE_RGBA : MODE_RGB;
//   d->config.output.is_external_memory = 1;
//   d->config.output.u.RGBA.rgba = d->pixels;
//   d->config.output.u.RGBA.stride = (size_t) w * d->bands;
//   d->config.output.u.RGBA.size = d->size;
//   d->dec = WebPIDecode(NULL, 0, &d->config);
//   if (!d->dec) { g_free(d->pixels); g_free(d); return NULL; }
//   return d;
// }
//
// static int decoding_update(decoding *d, const uint8_t *data, size_t len) {
//   return WebPIUpdate(d->dec, data, len);
// }
//
// static void decoding_abandon(decoding *d) {
//   WebPIDelete(d->dec);
//   g_free(d->pixels);
//   g_free(d);
// }
//
// // decoding_image ends d, handing its pixels to the image it returns.
// static VipsImage *decoding_image(decoding *d) {
//   WebPIDelete(d->dec);
//   VipsImage *out = vips_image_new_from_memory(d->pixels, d->size, d->w, d->h, d->bands, VIPS_FORMAT_UCHAR);
//   if (out) {
//     g_signal_connect(out, "postclose", G_CALLBACK(free_pixels), d->pixels);
//     out->Type = VIPS_INTERPRETATION_sRGB;
//   } else {
//     g_free(d->pixels);
//   }
//   g_free(d);
//   return out;
// }
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"unsafe"

	"github.com/davidbyttow/govips/v2/vips"
)

// loadThumbnail is libvips' thumbnail of src (header h) in a box of w x ht
// (maxCoord for a side not asked), cropped and sized as
// vips.LoadThumbnailFromBuffer does it. A still WebP that needs nothing of
// libvips' loader but its pixels (no ICC profile, no EXIF turn: every
// original and small copy imgorigin writes) is decoded by libwebp straight
// to the thumbnail's size, into memory. libvips 8.14's WebP loader, which
// hands the pixels on a line at a time through a sequential line cache,
// costs 6-8 ms more for a 1280 px copy (16-30 against 10-22 ms here) and
// libvips' thumbnail has libwebp scale the pixels too, so they are the same.
func loadThumbnail(ctx context.Context, src []byte, h Header, w, ht int, crop vips.Interesting, size vips.Size, params *vips.ImportParams) (*vips.ImageRef, error) {
	if dw, dh, ok := directSize(src, h, w, ht, crop, size); ok {
		img, err := decodeWebP(ctx, src, h, dw, dh)
		if err != nil {
			return nil, err
		}
		if crop != vips.InterestingNone && (dw > w || dh > ht) {
			if err := img.SmartCrop(min(w, dw), min(ht, dh), crop); err != nil {
				img.Close()
				return nil, err
			}
		}
		return img, nil
	}
	img, err := vips.LoadThumbnailFromBuffer(src, w, ht, crop, size, params)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, h.Format, oneLine(err))
	}
	return img, nil
}

// directSize is the size libwebp decodes src to for a thumbnail in a box of
// w x ht, and whether it can: a still WebP without an ICC profile or a
// turn, shrunk or kept as it is (libvips enlarges with Lanczos 3, not
// libwebp's scaler). It is libvips' thumbnail size: both sides scaled by
// the box's larger ratio (the smaller to cover it, for a crop), or each by
// its own when forced.
func directSize(src []byte, h Header, w, ht int, crop vips.Interesting, size vips.Size) (dw, dh int, ok bool) {
	if h.Format != WebP || h.Pages != 1 || h.Orientation != 1 || webpHasICC(src) {
		return 0, 0, false
	}
	sw, sh := h.Width, h.Height
	if size == vips.SizeForce {
		return w, ht, w <= sw && ht <= sh
	}
	hs, vs := float64(sw)/float64(w), float64(sh)/float64(ht)
	s := math.Max(hs, vs)
	if crop != vips.InterestingNone {
		s = math.Min(hs, vs)
	}
	if s < 1 && size != vips.SizeDown {
		return 0, 0, false
	}
	s = max(s, 1)
	return max(1, int(math.RoundToEven(float64(sw)/s))), max(1, int(math.RoundToEven(float64(sh)/s))), true
}

// webpHasICC tells whether the WebP container b carries an ICC profile.
func webpHasICC(b []byte) bool {
	return len(b) >= 21 && string(b[12:16]) == "VP8X" && b[20]&vp8xICC != 0
}

// webpChunk is how much of a WebP libwebp is given at a time: the decode
// stops between two once its request is gone.
const webpChunk = 32 << 10

// decodeWebP decodes the still WebP src at w x ht into memory; once ctx is
// done it stops at the next 32 KB of input with ctx's error.
func decodeWebP(ctx context.Context, src []byte, h Header, w, ht int) (*vips.ImageRef, error) {
	scale := C.int(0)
	if w != h.Width || ht != h.Height {
		scale = 1
	}
	alpha := C.int(0)
	if h.Alpha {
		alpha = 1
	}
	d := C.decoding_start(C.int(w), C.int(ht), scale, alpha)
	if d == nil {
		return nil, fmt.Errorf("libwebp: no memory for %dx%d", w, ht)
	}
	// libwebp keeps a pointer to the data between calls: C memory, not Go's.
	data := C.CBytes(src)
	defer C.free(data)
	status := C.int(C.VP8_STATUS_NOT_ENOUGH_DATA)
	for fed := 0; fed < len(src); {
		if err := ctx.Err(); err != nil {
			C.decoding_abandon(d)
			return nil, err
		}
		fed = min(fed+webpChunk, len(src))
		if status = C.decoding_update(d, (*C.uint8_t)(data), C.size_t(fed)); status != C.VP8_STATUS_SUSPENDED {
			break
		}
	}
	if status != C.VP8_STATUS_OK {
		C.decoding_abandon(d)
		if status == C.VP8_STATUS_SUSPENDED {
			status = C.VP8_STATUS_NOT_ENOUGH_DATA
		}
		return nil, fmt.Errorf("%w: WebP: libwebp status %d", ErrCorrupt, int(status))
	}
	img := C.decoding_image(d)
	if img == nil {
		return nil, errors.New("libvips: no image of the decoded pixels")
	}
	return imageRef(img)
}

// imageRef hands govips the C image p, which it then owns. govips v2.18 has
// no constructor from a C image outside its package, so p takes the place
// of a one-pixel image's in govips' own ImageRef (the unexported field that
// vipsImage reads).
func imageRef(p *C.VipsImage) (*vips.ImageRef, error) {
	ref, err := vips.Black(1, 1)
	if err != nil {
		C.g_object_unref(C.gpointer(p))
		return nil, err
	}
	f := reflect.ValueOf(ref).Elem().FieldByName("image")
	if !f.IsValid() || f.Kind() != reflect.Pointer {
		ref.Close()
		C.g_object_unref(C.gpointer(p))
		return nil, errors.New("govips keeps its image elsewhere")
	}
	slot := (*unsafe.Pointer)(unsafe.Pointer(f.UnsafeAddr()))
	old := *slot
	*slot = unsafe.Pointer(p)
	C.g_object_unref(C.gpointer(old))
	return ref, nil
}
