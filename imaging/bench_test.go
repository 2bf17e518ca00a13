package imaging_test

import (
	"context"
	"fmt"
	"image"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
)

// Go benchmarks of the pipeline pieces on a 2560x1600 WebP original (what
// uploads store). go test -bench . -run ^$ ./imaging/
func benchOriginal(b *testing.B) ([]byte, imaging.Header) {
	photo := testimage.Photo(b, 2560, 1600)
	defer photo.Close()
	out, err := imaging.ConvertOriginal(testimage.JPEG(b, photo), imaging.DefaultLimits(), imaging.DefaultOriginal())
	if err != nil {
		b.Fatal(err)
	}
	h, _ := imaging.Probe(out.Original.Bytes)
	return out.Original.Bytes, h
}

func BenchmarkProbe(b *testing.B) {
	src, _ := benchOriginal(b)
	for b.Loop() {
		if _, err := imaging.Probe(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	src, h := benchOriginal(b)
	// Each at q80 with the encoder quality and effort the resizer gives it.
	for _, c := range []struct {
		f imaging.Format
		w int
	}{{imaging.WebP, 320}, {imaging.WebP, 1080}, {imaging.JPEG, 320}, {imaging.AVIF, 320}, {imaging.AVIF, 1080}} {
		enc := imaging.Encoding{Format: c.f, Quality: imaging.EncoderQuality(c.f, 80, c.w), Effort: imaging.Effort(c.f, c.w, 0)}
		b.Run(fmt.Sprintf("%s-%d", c.f, c.w), func(b *testing.B) {
			for b.Loop() {
				if _, err := imaging.Render(context.Background(), src, h, imaging.Transform{Width: c.w}, enc, imaging.DefaultLimits()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The conversion of a 12 MP phone photo, with and without the small copy.
//
//	go test -bench ConvertOriginal -run ^$ ./imaging/
func BenchmarkConvertOriginal(b *testing.B) {
	photo := testimage.Photo(b, 4000, 3000)
	src := testimage.JPEG(b, photo)
	photo.Close()
	for _, edge := range []int{0, imaging.DefaultOriginal().SmallEdge} {
		cfg := imaging.DefaultOriginal()
		cfg.SmallEdge = edge
		b.Run(fmt.Sprintf("small=%d", edge), func(b *testing.B) {
			for b.Loop() {
				if _, err := imaging.ConvertOriginal(src, imaging.DefaultLimits(), cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// What a decoded intermediate of a hot original could save (issue: origin
// traffic). libwebp decodes straight to the scale asked, so a small decode
// costs a fraction of a full one; a reduced copy kept decoded must then be
// resized by libvips for every rendition.
//
//	go test -bench 'DecodeWebP|ResizeDecoded' -run ^$ ./imaging/
func BenchmarkDecodeWebP(b *testing.B) {
	src, h := benchOriginal(b)
	for _, edge := range []int{320, 640, 1280, 2560} {
		// libvips' thumbnail, and libwebp straight into memory (the resizer's).
		b.Run(fmt.Sprintf("libvips/%d", edge), func(b *testing.B) {
			for b.Loop() {
				img, err := vips.LoadThumbnailFromBuffer(src, edge, edge, vips.InterestingNone, vips.SizeDown, vips.NewImportParams())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := img.ToBytes(); err != nil {
					b.Fatal(err)
				}
				img.Close()
			}
		})
		b.Run(fmt.Sprintf("libwebp/%d", edge), func(b *testing.B) {
			for b.Loop() {
				img, err := imaging.LoadThumbnail(context.Background(), src, h, edge, edge, vips.InterestingNone, vips.SizeDown, vips.NewImportParams())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := img.ToBytes(); err != nil {
					b.Fatal(err)
				}
				img.Close()
			}
		})
	}
}

func BenchmarkResizeDecoded(b *testing.B) {
	src, _ := benchOriginal(b)
	img, err := vips.LoadThumbnailFromBuffer(src, 1280, 1280, vips.InterestingNone, vips.SizeDown, vips.NewImportParams())
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	if err := img.AddAlpha(); err != nil { // govips takes pixels in as RGBA
		b.Fatal(err)
	}
	pix, err := img.ToBytes()
	if err != nil {
		b.Fatal(err)
	}
	decoded := &image.NRGBA{Pix: pix, Stride: 4 * img.Width(), Rect: image.Rect(0, 0, img.Width(), img.Height())}
	// libvips' thumbnail of decoded pixels, and the fastest way found: box
	// halvings to within 2x, then lanczos3 for the rest.
	resizes := map[string]func(img *vips.ImageRef, width int) error{
		"thumbnail": func(img *vips.ImageRef, width int) error {
			return img.ThumbnailWithSize(width, 10_000_000, vips.InterestingNone, vips.SizeDown)
		},
		"halvings": func(img *vips.ImageRef, width int) error {
			for img.Width() >= 4*width {
				if err := img.Resize(0.5, vips.KernelLinear); err != nil {
					return err
				}
			}
			return img.Resize(float64(width)/float64(img.Width()), vips.KernelLanczos3)
		},
	}
	for _, how := range []string{"thumbnail", "halvings"} {
		for _, width := range []int{160, 320, 640, 1200} {
			b.Run(fmt.Sprintf("%s/1280-to-%d", how, width), func(b *testing.B) {
				for b.Loop() {
					img, err := vips.NewImageFromGoImage(decoded)
					if err != nil {
						b.Fatal(err)
					}
					if err := img.ExtractBand(0, 3); err != nil {
						b.Fatal(err)
					}
					if err := resizes[how](img, width); err != nil {
						b.Fatal(err)
					}
					if _, err := img.ToBytes(); err != nil {
						b.Fatal(err)
					}
					img.Close()
				}
			})
		}
	}
}
