package imaging

import (
	"context"
	"fmt"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
)

// StageTimes is where one render's time goes, stage by stage.
type StageTimes struct {
	Decode, Resize, Colour, Encode time.Duration
}

// Stages renders src (header h) into a box of t.Width x t.Height (fit
// inside, never enlarged) as e, one stage at a time, each computed into
// memory before the next starts: libvips fuses the stages of Render, so
// their times can only be told apart by running them apart. Decode shrinks
// on load as Render does (JPEG's DCT scaling, libwebp's own scaled
// decode). It is for the benchmark, which reports the median of each stage;
// the sum is close to Render's time.
func Stages(src []byte, h Header, t Transform, e Encoding) (StageTimes, error) {
	var st StageTimes
	start := time.Now()
	w, ht := t.Width, t.Height
	if w == 0 {
		w = maxCoord
	}
	if ht == 0 {
		ht = maxCoord
	}
	img, err := stagesDecode(src, h, t, w, ht)
	if err != nil {
		return st, err
	}
	defer img.Close()
	lap := func(d *time.Duration) error {
		err := inMemory(img)
		*d, start = time.Since(start), time.Now()
		return err
	}
	if err := lap(&st.Decode); err != nil {
		return st, err
	}
	if err := img.AutoRotate(); err != nil {
		return st, err
	}
	if err := img.ThumbnailWithSize(w, ht, vips.InterestingNone, vips.SizeDown); err != nil {
		return st, err
	}
	if err := lap(&st.Resize); err != nil {
		return st, err
	}
	if err := finish(img, t, e); err != nil {
		return st, err
	}
	if err := lap(&st.Colour); err != nil {
		return st, err
	}
	if _, err := encode(img, e); err != nil {
		return st, err
	}
	st.Encode = time.Since(start)
	return st, nil
}

// stagesDecode decodes src for a box of w x ht as Render's thumbnail does,
// but no further: libwebp straight to the box's size, or libvips with
// JPEG's shrink-on-load.
func stagesDecode(src []byte, h Header, t Transform, w, ht int) (*vips.ImageRef, error) {
	if dw, dh, ok := directSize(src, h, w, ht, vips.InterestingNone, vips.SizeDown); ok {
		return decodeWebP(context.Background(), src, h, dw, dh)
	}
	params := vips.NewImportParams()
	if s := LoadShrink(h, t); s > 1 {
		params.JpegShrinkFactor.Set(s)
	}
	img, err := vips.LoadImageFromBuffer(src, params)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, oneLine(err))
	}
	return img, nil
}
