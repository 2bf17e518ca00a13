package bench

import (
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/davidbyttow/govips/v2/vips"
)

// source is one benchmark photo as a user would upload it.
type source struct {
	name string
	data []byte
}

// loadCorpus reads the JPEG, PNG and WebP files of dir (not recursive), or,
// with no dir, draws n photo-like 2048x1536 (3.1 MP) JPEGs so the benchmark runs
// anywhere. Real photographs compress and decode differently: prefer a corpus.
func loadCorpus(dir string, n int) ([]source, error) {
	if dir == "" {
		return generated(n)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []source
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || !slices.Contains([]string{".jpg", ".jpeg", ".png", ".webp"}, ext) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, source{name: e.Name(), data: b})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("corpus %s has no .jpg, .png or .webp files", dir)
	}
	return out, nil
}

func generated(n int) ([]source, error) {
	jpegs, err := photoJPEGs(n, 2048, 1536, 0)
	if err != nil {
		return nil, err
	}
	out := make([]source, n)
	for i, b := range jpegs {
		out[i] = source{name: fmt.Sprintf("generated-%02d.jpg", i), data: b}
	}
	return out, nil
}

// photoJPEGs draws n photo-like w x h JPEGs (quality 90), seeded from seed.
func photoJPEGs(n, w, h, seed int) ([][]byte, error) {
	var out [][]byte
	for i := range n {
		img, err := photoLike(w, h, seed+i)
		if err != nil {
			return nil, err
		}
		b, _, err := img.ExportJpeg(&vips.JpegExportParams{Quality: 90})
		img.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// photoLike is a colour gradient overlaid with grain at two scales (random
// blotches upscaled 4x, and per-pixel noise), which encoders and resamplers
// treat much like a photograph's texture. Only used to make inputs.
func photoLike(w, h, seed int) (*vips.ImageRef, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 42))
	grain := image.NewRGBA(image.Rect(0, 0, w/4, h/4))
	for i := range grain.Pix {
		grain.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			grain.Pix[i] = 255
		}
	}
	img, err := vips.NewImageFromGoImage(grain)
	if err != nil {
		return nil, err
	}
	if err := img.ExtractBand(0, 3); err != nil {
		return nil, err
	}
	if err := img.Resize(4, vips.KernelCubic); err != nil {
		return nil, err
	}
	grad, err := vips.XYZ(img.Width(), img.Height())
	if err != nil {
		return nil, err
	}
	defer grad.Close()
	if err := grad.BandJoinConst([]float64{float64(seed * 40 % 255)}); err != nil {
		return nil, err
	}
	if err := grad.Linear([]float64{255 / float64(w), 255 / float64(h), 1}, []float64{0, 0, 0}); err != nil {
		return nil, err
	}
	if err := img.Linear1(0.35, 0); err != nil {
		return nil, err
	}
	if err := img.Add(grad); err != nil {
		return nil, err
	}
	if err := img.Linear1(0.8, 0); err != nil {
		return nil, err
	}
	if err := img.Cast(vips.BandFormatUchar); err != nil {
		return nil, err
	}
	return img.CopyChangingInterpretation(vips.InterpretationSRGB)
}
