// Package testimage draws test inputs with libvips so that tests need nothing
// outside the repository: photo-like gradients with noise, a marked corner for
// orientation checks, alpha, animation, EXIF, and hostile headers.
package testimage

import (
	"encoding/binary"
	"hash/crc32"
	"image"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/hostile"
)

// Photo draws a w x h colour gradient with noise (so encoders cannot cheat on
// flat areas), in sRGB, 8 bits.
func Photo(t testing.TB, w, h int) *vips.ImageRef {
	t.Helper()
	xyz, err := vips.XYZ(w, h) // band 0 = x, band 1 = y
	must(t, err)
	defer xyz.Close()
	x, err := xyz.ExtractBandToImage(0, 1)
	must(t, err)
	y, err := xyz.ExtractBandToImage(1, 1)
	must(t, err)
	must(t, x.Linear1(255/float64(w), 0))
	must(t, y.Linear1(255/float64(h), 0))
	z, err := x.Copy()
	must(t, err)
	must(t, z.Add(y))
	must(t, z.Linear1(0.5, 0))
	must(t, x.BandJoin(y, z))
	y.Close()
	z.Close()
	must(t, x.Cast(vips.BandFormatUchar))
	img, err := x.CopyChangingInterpretation(vips.InterpretationSRGB)
	must(t, err)
	x.Close()
	must(t, addNoise(img))
	return img
}

func addNoise(img *vips.ImageRef) error {
	noise, err := vips.Grey(img.Width(), img.Height(), true) // cheap deterministic pattern
	if err != nil {
		return err
	}
	defer noise.Close()
	if err := noise.Linear1(0.1, 0); err != nil {
		return err
	}
	return img.Add(noise)
}

// Grain is a w x h sRGB image of per-pixel noise over a colour gradient:
// texture at every scale, which tells resampling kernels apart (Photo's
// grey ramp is too smooth to).
func Grain(t testing.TB, w, h int) *vips.ImageRef {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	g := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := g.PixOffset(x, y)
			base := [3]int{255 * x / w, 255 * y / h, 128}
			for c, b := range base {
				g.Pix[i+c] = uint8(max(0, min(255, b+rng.IntN(97)-48)))
			}
			g.Pix[i+3] = 255
		}
	}
	img, err := vips.NewImageFromGoImage(g)
	must(t, err)
	must(t, img.ExtractBand(0, 3))
	return img
}

// Marked is an upright w x h image, blue, with a red block over its top-left
// quarter-by-quarter corner: where the red lands tells which way is up.
func Marked(t testing.TB, w, h int) *vips.ImageRef {
	t.Helper()
	img, err := vips.Black(w, h)
	must(t, err)
	must(t, img.BandJoinConst([]float64{0, 0}))
	must(t, img.Linear([]float64{1, 1, 1}, []float64{0, 0, 220}))
	must(t, img.DrawRect(vips.ColorRGBA{R: 220, G: 0, B: 0, A: 255}, 0, 0, w/4, h/4, true))
	must(t, img.Cast(vips.BandFormatUchar))
	out, err := img.CopyChangingInterpretation(vips.InterpretationSRGB)
	must(t, err)
	img.Close()
	return out
}

// Oriented returns JPEG bytes whose pixels are Marked(w, h) stored so that
// applying EXIF orientation n (1..8) shows the upright image.
func Oriented(t testing.TB, w, h, n int) []byte {
	t.Helper()
	img := Marked(t, w, h)
	defer img.Close()
	// The inverse of what orientation n asks a viewer to do.
	switch n {
	case 2:
		must(t, img.Flip(vips.DirectionHorizontal))
	case 3:
		must(t, img.Rotate(vips.Angle180))
	case 4:
		must(t, img.Flip(vips.DirectionVertical))
	case 5: // transpose
		must(t, img.Rotate(vips.Angle90))
		must(t, img.Flip(vips.DirectionHorizontal))
	case 6:
		must(t, img.Rotate(vips.Angle270))
	case 7: // transverse
		must(t, img.Rotate(vips.Angle270))
		must(t, img.Flip(vips.DirectionHorizontal))
	case 8:
		must(t, img.Rotate(vips.Angle90))
	}
	must(t, img.SetOrientation(n))
	b, _, err := img.ExportJpeg(&vips.JpegExportParams{Quality: 95})
	must(t, err)
	return b
}

// JPEG, PNG and WebP encode img, keeping its metadata.
func JPEG(t testing.TB, img *vips.ImageRef) []byte {
	t.Helper()
	b, _, err := img.ExportJpeg(&vips.JpegExportParams{Quality: 90})
	must(t, err)
	return b
}

func PNG(t testing.TB, img *vips.ImageRef) []byte {
	t.Helper()
	b, _, err := img.ExportPng(&vips.PngExportParams{Compression: 1})
	must(t, err)
	return b
}

func WebP(t testing.TB, img *vips.ImageRef) []byte {
	t.Helper()
	b, _, err := img.ExportWebp(&vips.WebpExportParams{Quality: 90, ReductionEffort: 1})
	must(t, err)
	return b
}

// WithPrivateMetadata returns JPEG bytes of img carrying EXIF (GPS position,
// camera make, artist): what must never survive an upload. (govips' SetBlob
// trips cgo's pointer check, so no XMP packet is added here.)
func WithPrivateMetadata(t testing.TB, img *vips.ImageRef) []byte {
	t.Helper()
	return WithPrivateMetadataAt(t, img, 90)
}

// WithPrivateMetadataAt is WithPrivateMetadata at JPEG quality q: a low q
// makes a file that a re-encode at a higher q would only make larger.
func WithPrivateMetadataAt(t testing.TB, img *vips.ImageRef, q int) []byte {
	t.Helper()
	img.SetString("exif-ifd0-Make", "SecretCam")
	img.SetString("exif-ifd0-Artist", "Jane Secret")
	img.SetString("exif-ifd3-GPSLatitudeRef", "N")
	img.SetString("exif-ifd3-GPSLatitude", "48/1 51/1 2964/100")
	b, _, err := img.ExportJpeg(&vips.JpegExportParams{Quality: q})
	must(t, err)
	return b
}

// Animated returns an animated WebP of n frames, each w x h, each a different shade.
func Animated(t testing.TB, w, h, n int) []byte {
	t.Helper()
	all := animation(t, w, h, n)
	defer all.Close()
	b, _, err := all.ExportWebp(&vips.WebpExportParams{Quality: 80, ReductionEffort: 0, MinKeyFrames: 9, MaxKeyFrames: 17})
	must(t, err)
	return b
}

// AnimatedGIF is Animated as a GIF.
func AnimatedGIF(t testing.TB, w, h, n int) []byte {
	t.Helper()
	all := animation(t, w, h, n)
	defer all.Close()
	b, _, err := all.ExportGIF(vips.NewGifExportParams())
	must(t, err)
	return b
}

func animation(t testing.TB, w, h, n int) *vips.ImageRef {
	t.Helper()
	frames := make([]*vips.ImageRef, n)
	for i := range frames {
		f := Photo(t, w, h)
		must(t, f.Linear1(1, float64(i*20)))
		must(t, f.Cast(vips.BandFormatUchar))
		frames[i] = f
	}
	// ArrayJoin, not Join: govips' Join unrefs its argument, which Close then
	// unrefs again.
	all := frames[0]
	must(t, all.ArrayJoin(frames[1:], 1))
	for _, f := range frames[1:] {
		f.Close()
	}
	must(t, all.SetPageHeight(h))
	must(t, all.SetPages(n))
	delays := make([]int, n)
	for i := range delays {
		delays[i] = 100
	}
	must(t, all.SetPageDelay(delays))
	return all
}

// PNGClaiming returns a valid small PNG whose IHDR is patched (CRC fixed) to
// claim w x h: a decompression bomb's header without its cost to build.
func PNGClaiming(t testing.TB, w, h uint32) []byte {
	t.Helper()
	img := Photo(t, 16, 16)
	defer img.Close()
	b := PNG(t, img)
	// Signature (8) + IHDR length (4) + "IHDR" (4) + width + height ...; CRC after 13 data bytes.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// PNGWithText returns a small PNG carrying n zTXt chunks of compressed
// text after its header: metadata libpng inflates while reading it.
func PNGWithText(t testing.TB, n int) []byte {
	t.Helper()
	img := Photo(t, 64, 64)
	defer img.Close()
	return hostile.PNGWithText(PNG(t, img), n)
}

// JPEGClaiming returns a JPEG whose SOF header is patched to claim w x h.
func JPEGClaiming(t testing.TB, w, h uint16) []byte {
	t.Helper()
	img := Photo(t, 64, 64)
	defer img.Close()
	b := JPEG(t, img)
	for i := 2; i+9 < len(b); {
		if b[i] != 0xFF {
			t.Fatal("JPEGClaiming: lost marker sync")
		}
		marker, segLen := b[i+1], int(binary.BigEndian.Uint16(b[i+2:]))
		if marker >= 0xC0 && marker <= 0xC2 {
			binary.BigEndian.PutUint16(b[i+5:], h)
			binary.BigEndian.PutUint16(b[i+7:], w)
			return b
		}
		i += 2 + segLen
	}
	t.Fatal("JPEGClaiming: no SOF marker")
	return nil
}

// WebPChunks lists the RIFF chunk names of a WebP file ("VP8X", "ICCP", "EXIF",
// "XMP ", "VP8 ", ...), to prove what metadata an output carries.
func WebPChunks(b []byte) []string {
	var names []string
	for i := 12; i+8 <= len(b); {
		names = append(names, string(b[i:i+4]))
		n := int(binary.LittleEndian.Uint32(b[i+4:]))
		i += 8 + n + n%2
	}
	return names
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Formats returns one small source per input format the product accepts,
// named by what it exercises, all drawn from Photo(w, h).
func Formats(t testing.TB, w, h int) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	img := func() *vips.ImageRef { return Photo(t, w, h) }
	export := func(name string, f func(*vips.ImageRef) ([]byte, error)) {
		i := img()
		defer i.Close()
		b, err := f(i)
		if err != nil {
			t.Fatalf("testimage %s: %v", name, err)
		}
		out[name] = b
	}
	export("jpeg", func(i *vips.ImageRef) ([]byte, error) {
		b, _, err := i.ExportJpeg(&vips.JpegExportParams{Quality: 90})
		return b, err
	})
	export("jpeg-progressive", func(i *vips.ImageRef) ([]byte, error) {
		b, _, err := i.ExportJpeg(&vips.JpegExportParams{Quality: 90, Interlace: true})
		return b, err
	})
	export("jpeg-cmyk", func(i *vips.ImageRef) ([]byte, error) {
		if err := i.TransformICCProfileWithFallback("cmyk", vips.SRGBIEC6196621ICCProfilePath); err != nil {
			return nil, err
		}
		b, _, err := i.ExportJpeg(&vips.JpegExportParams{Quality: 90})
		return b, err
	})
	export("png", func(i *vips.ImageRef) ([]byte, error) {
		b, _, err := i.ExportPng(&vips.PngExportParams{Compression: 1})
		return b, err
	})
	export("png-16bit", func(i *vips.ImageRef) ([]byte, error) {
		if err := i.ToColorSpace(vips.InterpretationRGB16); err != nil {
			return nil, err
		}
		b, _, err := i.ExportPng(&vips.PngExportParams{Compression: 1, Bitdepth: 16})
		return b, err
	})
	export("png-palette", func(i *vips.ImageRef) ([]byte, error) {
		b, _, err := i.ExportPng(&vips.PngExportParams{Compression: 1, Palette: true, Bitdepth: 8})
		return b, err
	})
	export("png-grey", func(i *vips.ImageRef) ([]byte, error) {
		if err := i.ToColorSpace(vips.InterpretationBW); err != nil {
			return nil, err
		}
		b, _, err := i.ExportPng(&vips.PngExportParams{Compression: 1})
		return b, err
	})
	export("png-alpha", func(i *vips.ImageRef) ([]byte, error) {
		if err := i.AddAlpha(); err != nil {
			return nil, err
		}
		b, _, err := i.ExportPng(&vips.PngExportParams{Compression: 1})
		return b, err
	})
	export("webp", func(i *vips.ImageRef) ([]byte, error) {
		b, _, err := i.ExportWebp(&vips.WebpExportParams{Quality: 85})
		return b, err
	})
	export("gif", func(i *vips.ImageRef) ([]byte, error) {
		b, _, err := i.ExportGIF(vips.NewGifExportParams())
		return b, err
	})
	export("tiff", func(i *vips.ImageRef) ([]byte, error) {
		b, _, err := i.ExportTiff(vips.NewTiffExportParams())
		return b, err
	})
	export("heic", func(i *vips.ImageRef) ([]byte, error) {
		b, _, err := i.ExportHeif(&vips.HeifExportParams{Quality: 80, Bitdepth: 8, Effort: 0})
		return b, err
	})
	export("avif", func(i *vips.ImageRef) ([]byte, error) {
		b, _, err := i.ExportAvif(&vips.AvifExportParams{Quality: 60, Bitdepth: 8, Effort: 0})
		return b, err
	})
	out["webp-animated"] = Animated(t, w, h, 3)
	out["gif-animated"] = AnimatedGIF(t, w, h, 3)
	return out
}

// Main starts libvips as servers do, runs the package's tests and exits: the
// TestMain of every package that touches images.
func Main(m *testing.M) {
	if err := imaging.Start(imaging.Config{}, slog.Default()); err != nil {
		slog.Error("libvips", "err", err)
		os.Exit(1)
	}
	code := m.Run()
	imaging.Stop()
	os.Exit(code)
}
