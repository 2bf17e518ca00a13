package testimage

import (
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"
)

// FaceSample is the photo of one face in pigo's module (testdata/sample.jpg,
// 450 px wide, the face a 245 px square at 34,81), in sRGB.
func FaceSample(t testing.TB) *vips.ImageRef {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/esimov/pigo").Output()
	if err != nil {
		t.Fatalf("pigo's module: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "testdata", "sample.jpg"))
	must(t, err)
	img, err := vips.NewImageFromBuffer(b)
	must(t, err)
	if img.Bands() < 3 {
		must(t, img.ToColorSpace(vips.InterpretationSRGB))
	}
	return img
}

// WithFaces lays the sample's head, side px square, at each place (x, y,
// side) on bg, and returns bg as JPEG.
func WithFaces(t testing.TB, bg *vips.ImageRef, places [][3]int) []byte {
	t.Helper()
	for _, p := range places {
		face := FaceSample(t)
		// Its head and shoulders: a square from just above the hair.
		must(t, face.ExtractArea(0, 30, face.Width(), min(face.Height()-30, face.Width())))
		must(t, face.Resize(float64(p[2])/float64(face.Width()), vips.KernelLanczos3))
		must(t, bg.Insert(face, p[0], p[1], false, nil))
		face.Close()
	}
	return JPEG(t, bg)
}

// FromGo is a Go image as a three-band sRGB libvips image (alpha dropped).
func FromGo(t testing.TB, img image.Image) *vips.ImageRef {
	t.Helper()
	out, err := vips.NewImageFromGoImage(img)
	must(t, err)
	must(t, out.ExtractBand(0, 3))
	return out
}
