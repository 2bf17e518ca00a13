package resizer

import (
	"fmt"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/internal/testimage"
)

// BenchmarkUnsignedLargeFiles is what a stranger can make the resizer do
// with files another program put in a plain directory, at the most the
// unsigned decode bound allows each format (4096 x 3072 pixels of baseline
// JPEG, weighted by imaging.DecodeWeight), every request a cold render:
//
//	go test -run '^$' -bench UnsignedLargeFiles -benchtime 5x ./resizer/
func BenchmarkUnsignedLargeFiles(b *testing.B) {
	f := newFixture(b, func(c *Config) { c.VariantCacheBytes = 0 })
	jpeg12 := testimage.Photo(b, 4096, 3072) // weight 1
	photo6 := testimage.Photo(b, 2890, 2170) // weight 2: 12.5 MP
	photo3 := testimage.Photo(b, 2040, 1530) // weight 4: 12.5 MP
	defer jpeg12.Close()
	defer photo6.Close()
	defer photo3.Close()
	export := func(b []byte, _ *vips.ImageMetadata, err error) []byte {
		if err != nil {
			panic(err)
		}
		return b
	}
	files := []struct {
		name string
		data []byte
	}{
		{"12MP.jpg", export(jpeg12.ExportJpeg(&vips.JpegExportParams{Quality: 90}))},
		{"6MP-progressive.jpg", export(photo6.ExportJpeg(&vips.JpegExportParams{Quality: 90, Interlace: true}))},
		{"6MP.png", testimage.PNG(b, photo6)},
		{"3MP.tiff", export(photo3.ExportTiff(&vips.TiffExportParams{Compression: vips.TiffCompressionDeflate}))},
	}
	for _, file := range files {
		f.place(file.name, file.data)
		for _, w := range []int{320, 1080, 2560} {
			b.Run(fmt.Sprintf("%s/w=%d", file.name, w), func(b *testing.B) {
				for range b.N {
					if resp, body := f.get(fmt.Sprintf("/%s?w=%d", file.name, w)); resp.StatusCode != 200 {
						b.Fatalf("%d %s", resp.StatusCode, body)
					}
				}
			})
		}
	}
}
