package imaging

import (
	"context"
	"fmt"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/faces"
)

// OriginalConfig is how uploads become stored originals.
type OriginalConfig struct {
	// MaxEdge caps the long edge of a stored original (never upscaled): every
	// thumbnail later pays for the original's pixels. Default 2560 (about 5 MP).
	MaxEdge int
	// Quality and Effort of the WebP encode. Quality 80, measured on the shared
	// photo corpus (docs/originals.md): 70 % smaller than the source JPEGs at
	// SSIM 0.969 mean; 85 or 90 keep more detail but every cold thumbnail
	// then decodes 5-10 ms slower, past the 30 ms p50 budget. Effort 2: on
	// the same corpus effort 3-4 took 231 ms a photo against 104 ms, for 4 %
	// fewer bytes, and the upload p50 budget is 200 ms.
	Quality int
	Effort  int
	// SmallEdge is the long edge of the original's small copy (0: none),
	// made only when it has at most half the original's pixels. A thumbnail
	// up to that size then decodes about a quarter of the pixels (bench
	// cold-1080: see docs/small-copies.md). SmallQuality is its WebP quality:
	// 90, since every answer made from it is its second lossy generation.
	// It is encoded at effort 0 (smallCopy says why).
	SmallEdge, SmallQuality int
}

// DefaultOriginal returns the defaults of OriginalConfig.
func DefaultOriginal() OriginalConfig {
	return OriginalConfig{MaxEdge: 2560, Quality: 80, Effort: 2, SmallEdge: 1280, SmallQuality: 90}
}

// Converted is an upload turned into a stored original, and its small copy
// (Bytes nil when it has none).
type Converted struct {
	Original, Small Output
	// Placeholder, when set, was made from the decoded pixels: cheaper than
	// decoding the upload again. Animations have none.
	Placeholder *Placeholder
	// Faces found in the original at GrayEdge px (FaceScale times its
	// size), beside the original's encode; nil for animations.
	Faces     []faces.Box
	FaceScale float64
}

// GrayEdge is the long edge faces are looked for at: pigo finds the three
// faces of the group test at 512, 640 and 800 px alike, in 8 ms at 640.
const GrayEdge = 640

// ConvertOriginal turns an upload into a WebP original: orientation applied,
// sRGB, no metadata, long edge capped, animation kept. The small copy is
// made from the same decoded pixels, not from the lossy original, so that
// it is one lossy generation from the upload, as the original is.
func ConvertOriginal(src []byte, lim Limits, cfg OriginalConfig) (Converted, error) {
	h, err := Probe(src)
	if err != nil {
		return Converted{}, err
	}
	t := Transform{Width: cfg.MaxEdge, Height: cfg.MaxEdge, Fit: FitMax}
	e := Encoding{Format: WebP, Quality: cfg.Quality, Effort: cfg.Effort}
	if err := lim.CheckRender(h, t, e.Format); err != nil {
		return Converted{}, err
	}
	img, err := originalPixels(context.Background(), src, h, t, KeptFrames(h, e.Format) > 1)
	if err != nil {
		return Converted{}, err
	}
	defer img.Close()
	if err := finish(img, t, e); err != nil {
		return Converted{}, err
	}
	long := max(img.Width(), img.PageHeight())
	small := cfg.SmallEdge > 0 && img.Pages() == 1 && 2*cfg.SmallEdge*cfg.SmallEdge <= long*long
	if small {
		// Decoded once, into memory, for both encodes.
		if err := inMemory(img); err != nil {
			return Converted{}, fmt.Errorf("%w: %s: %v", ErrCorrupt, h.Format, err)
		}
	}
	if !small {
		var c Converted
		if img.Pages() == 1 {
			if err := inMemory(img); err != nil { // read twice: the glance and the encode
				return Converted{}, fmt.Errorf("%w: %s: %v", ErrCorrupt, h.Format, err)
			}
			if err := c.glance(img, long); err != nil {
				return Converted{}, err
			}
		}
		c.Original, err = encode(img, e)
		return c, err
	}
	// The copy is made beside the original's encode, on another core when
	// one is idle: both only read the pixels in memory.
	copied, err := img.Copy()
	if err != nil {
		return Converted{}, err
	}
	var c Converted
	done := make(chan error, 1)
	go func() {
		defer copied.Close()
		done <- smallCopy(copied, long, cfg, &c)
	}()
	c.Original, err = encode(img, e)
	if err := <-done; err != nil {
		return Converted{}, err
	}
	return c, err
}

// smallCopy resizes the original's pixels in memory (long px on their long
// edge) to the small copy and encodes it, with the glance taken of it, into c.
func smallCopy(img *vips.ImageRef, long int, cfg OriginalConfig, c *Converted) error {
	// Lanczos 3, and libwebp's effort 0 below: answers from the copy at 1080
	// px are closer to the upload than with Catmull-Rom and effort 2
	// (butteraugli 3.41 against 3.44, six corpus photos), for 20 % more bytes
	// of copy and less of an upload's time (a noisy 12 MP photo's copy: 58
	// ms to encode against 78; its resize is 20 ms, see lanczosReduce).
	small, err := lanczosReduce(img, float64(cfg.SmallEdge)/float64(long))
	if err != nil {
		return err
	}
	defer small.Close()
	if err := inMemory(small); err != nil {
		return err
	}
	if err := c.glance(small, long); err != nil {
		return err
	}
	c.Small, err = encode(small, Encoding{Format: WebP, Quality: cfg.SmallQuality, Effort: 0})
	return err
}

// glance takes what is kept of the original from its pixels (img, in
// memory, of an original long px on its long edge) made GrayEdge px: the
// faces in them, and the placeholder. Both from one small image: made
// apart, from the copy's or the original's pixels, they cost an upload 2-3
// times as much.
func (c *Converted) glance(img *vips.ImageRef, long int) error {
	g, err := img.Copy()
	if err != nil {
		return err
	}
	defer g.Close()
	if err := reduceTo(g, GrayEdge); err != nil {
		return err
	}
	if err := inMemory(g); err != nil {
		return err
	}
	ph, err := placeholderOfPixels(g)
	if err != nil {
		return err
	}
	c.Placeholder = &ph
	pix, w, h, err := grayBytes(g)
	if err != nil {
		return err
	}
	if c.Faces, err = faces.Detect(pix, w, h); err != nil {
		return err
	}
	if c.Faces == nil {
		c.Faces = []faces.Box{} // looked, found none
	}
	c.FaceScale = float64(max(w, h)) / float64(long)
	return nil
}
