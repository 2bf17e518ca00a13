package imaging

import (
	"fmt"

	"github.com/davidbyttow/govips/v2/vips"
)

// SSIM is the mean structural similarity (Wang et al. 2004: Gaussian window
// sigma 1.5, K1 0.01, K2 0.03) of two images' luminance, computed with libvips
// arithmetic. b is resized to a's size first, so a source can be compared with
// its capped original. 1 means identical.
func SSIM(a, b []byte) (float64, error) {
	x, err := luminance(a, 0, 0)
	if err != nil {
		return 0, err
	}
	defer x.Close()
	y, err := luminance(b, x.Width(), x.Height())
	if err != nil {
		return 0, err
	}
	defer y.Close()
	if x.Width() != y.Width() || x.Height() != y.Height() {
		return 0, fmt.Errorf("ssim: %dx%d against %dx%d", x.Width(), x.Height(), y.Width(), y.Height())
	}
	const sigma, c1, c2 = 1.5, (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	var c calc
	defer c.close()
	blur := func(i *vips.ImageRef) error { return i.GaussianBlur(sigma) }
	mul := func(q *vips.ImageRef) step { return func(i *vips.ImageRef) error { return i.Multiply(q) } }
	add := func(q *vips.ImageRef) step { return func(i *vips.ImageRef) error { return i.Add(q) } }
	sub := func(q *vips.ImageRef) step { return func(i *vips.ImageRef) error { return i.Subtract(q) } }
	lin := func(a, b float64) step { return func(i *vips.ImageRef) error { return i.Linear1(a, b) } }

	mx, my := c.derive(x, blur), c.derive(y, blur)
	exx, eyy, exy := c.derive(x, mul(x), blur), c.derive(y, mul(y), blur), c.derive(x, mul(y), blur)
	mxmy, mx2, my2 := c.derive(mx, mul(my)), c.derive(mx, mul(mx)), c.derive(my, mul(my))
	// (2 mx my + c1)(2 cov + c2) / ((mx² + my² + c1)(var x + var y + c2))
	cov := c.derive(exy, sub(mxmy), lin(2, c2))
	num := c.derive(mxmy, lin(2, c1), mul(cov))
	vars := c.derive(exx, sub(mx2), add(eyy), sub(my2), lin(1, c2))
	den := c.derive(mx2, add(my2), lin(1, c1), mul(vars))
	ssimMap := c.derive(num, func(i *vips.ImageRef) error { return i.Divide(den) })
	if c.err != nil {
		return 0, fmt.Errorf("ssim: %w", c.err)
	}
	return ssimMap.Average()
}

type step func(*vips.ImageRef) error

// calc derives images step by step, keeping the first error and every image
// it made, for closing.
type calc struct {
	err  error
	imgs []*vips.ImageRef
}

// derive returns a copy of img with steps applied; after an error it does nothing.
func (c *calc) derive(img *vips.ImageRef, steps ...step) *vips.ImageRef {
	if c.err != nil {
		return img
	}
	out, err := img.Copy()
	if err != nil {
		c.err = err
		return img
	}
	c.imgs = append(c.imgs, out)
	for _, s := range steps {
		if c.err = s(out); c.err != nil {
			break
		}
	}
	return out
}

func (c *calc) close() {
	for _, i := range c.imgs {
		i.Close()
	}
}

// luminance decodes b upright to one float band of sRGB luma, resized to w x h
// when given (exactly, ignoring a rounding pixel of aspect).
func luminance(b []byte, w, h int) (*vips.ImageRef, error) {
	if _, err := Sniff(b); err != nil {
		return nil, err
	}
	var img *vips.ImageRef
	var err error
	if w > 0 {
		img, err = vips.NewThumbnailWithSizeFromBuffer(b, w, h, vips.InterestingNone, vips.SizeForce)
	} else {
		img, err = vips.NewImageFromBuffer(b)
		if err == nil {
			err = img.AutoRotate()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: ssim: %v", ErrCorrupt, oneLine(err))
	}
	if err := toSRGB(img); err != nil {
		img.Close()
		return nil, err
	}
	if img.HasAlpha() {
		if err := img.Flatten(&vips.Color{R: 255, G: 255, B: 255}); err != nil {
			img.Close()
			return nil, err
		}
	}
	if err := img.ToColorSpace(vips.InterpretationBW); err != nil {
		img.Close()
		return nil, err
	}
	if err := img.Cast(vips.BandFormatFloat); err != nil {
		img.Close()
		return nil, err
	}
	return img, nil
}
