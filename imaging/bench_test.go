package imaging_test

import (
	"testing"

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
	h, _ := imaging.Probe(out.Bytes)
	return out.Bytes, h
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
	for _, c := range []struct {
		name string
		w    int
		enc  imaging.Encoding
	}{
		{"webp-320", 320, imaging.Encoding{Format: imaging.WebP, Quality: 80, Effort: 4}},
		{"webp-1080", 1080, imaging.Encoding{Format: imaging.WebP, Quality: 80, Effort: 0}},
		{"jpeg-320", 320, imaging.Encoding{Format: imaging.JPEG, Quality: 80}},
		{"avif-320", 320, imaging.Encoding{Format: imaging.AVIF, Quality: 60, Effort: 2}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := imaging.Render(src, h, imaging.Transform{Width: c.w}, c.enc, imaging.DefaultLimits()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkConvertOriginal(b *testing.B) {
	photo := testimage.Photo(b, 2048, 1536)
	src := testimage.JPEG(b, photo)
	photo.Close()
	for b.Loop() {
		if _, err := imaging.ConvertOriginal(src, imaging.DefaultLimits(), imaging.DefaultOriginal()); err != nil {
			b.Fatal(err)
		}
	}
}
