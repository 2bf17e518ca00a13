package imaging

import (
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
// on load as Render does (JPEG's DCT scaling, libwebp's scaled decode). It is for the benchmark, which reports
// the median of each stage; the sum is close to Render's time.
func Stages(src []byte, h Header, t Transform, e Encoding) (StageTimes, error) {
	var st StageTimes
	start := time.Now()
	params := vips.NewImportParams()
	if s := LoadShrink(h, t); s > 1 {
		params.JpegShrinkFactor.Set(s)
	}
	// libvips' thumbnail has libwebp decode straight to the box's scale.
	if sw, _ := h.Upright(); h.Format == WebP && t.Width > 0 && t.Width < sw {
		params.WebpScaleFactor.Set(float64(t.Width) / float64(sw))
	}
	img, err := vips.LoadImageFromBuffer(src, params)
	if err != nil {
		return st, fmt.Errorf("%w: %v", ErrCorrupt, oneLine(err))
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
	w, ht := t.Width, t.Height
	if w == 0 {
		w = maxCoord
	}
	if ht == 0 {
		ht = maxCoord
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
