package imaging

import (
	"context"
	"fmt"

	"github.com/davidbyttow/govips/v2/vips"
)

// Gray decodes src small, at most edge pixels on its long side, upright
// and in grayscale (one byte a pixel, row by row), as face detection
// wants it. scale is its size against the upright original's.
func Gray(src []byte, h Header, edge int) (gray []byte, w, ht int, scale float64, err error) {
	img, err := thumbnail(context.Background(), src, h, Transform{Width: edge, Height: edge, Fit: FitClip}, false)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	defer img.Close()
	if gray, w, ht, err = grayBytes(img); err != nil {
		return nil, 0, 0, 0, err
	}
	sw, _ := h.Upright()
	return gray, w, ht, float64(w) / float64(sw), nil
}

// grayBytes turns img (which it changes) into grayscale bytes.
func grayBytes(img *vips.ImageRef) (gray []byte, w, h int, err error) {
	if err := img.ToColorSpace(vips.InterpretationBW); err != nil {
		return nil, 0, 0, err
	}
	if err := img.ExtractBand(0, 1); err != nil { // no alpha
		return nil, 0, 0, err
	}
	if err := img.Cast(vips.BandFormatUchar); err != nil {
		return nil, 0, 0, err
	}
	raw, err := img.ToBytes()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: %v", ErrCorrupt, oneLine(err))
	}
	return raw, img.Width(), img.Height(), nil
}
